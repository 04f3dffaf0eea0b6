/**
 * Per-request cost of the authorization path, in process: what every authenticated request pays
 * before its handler runs. One loop verifies a realistic buyer access token (HS256, 30 scoped
 * grants, unit and company), then checks a permission at a scope (`requirePermission`) and reads
 * the caller's scope for another (`permissionScope`), as a domain action does; the baseline runs
 * the same loop (context object, handler) without those three steps. The difference is the
 * overhead per request. Sequential (the work is CPU-bound), after a warm-up; `BENCH_DURATION`
 * seconds per loop (default 3).
 *
 * Run alone: `node core/bench/permission-check.bench.ts` (through npm's Node 24).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'moleculer';
import { AccessTokens } from '../platform/auth/access-tokens.ts';
import { type AuthContext, permissionScope, requirePermission } from '../platform/auth/auth-context.ts';
import { percentile } from './bench-kit.ts';

export interface PermissionCheckFigures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const DURATION_S = Number(process.env.BENCH_DURATION ?? 3);

/** Thirty grants as a buyer admin of a large company carries them (permission@scope). */
const GRANTS = [
  'company.read@company',
  'company.manage@company',
  'users.read@company',
  'users.manage@unit_tree',
  'units.manage@unit_tree',
  'roles.manage@company',
  'approvals.rules.manage@company',
  'approvals.read@unit_tree',
  'approvals.decide@unit_tree',
  'approvals.delegate@own',
  'spending.manage@unit_tree',
  'spending.read@company',
  'orders.place@own',
  'orders.read@unit_tree',
  'orders.cancel@unit',
  'quotes.request@own',
  'quotes.read@unit_tree',
  'quotes.accept@unit',
  'invoices.read@company',
  'invoices.download@company',
  'payments.read@company',
  'credit.read@company',
  'catalog.read@company',
  'prices.read@company',
  'carts.manage@own',
  'addresses.manage@company',
  'contacts.manage@company',
  'returns.request@own',
  'returns.read@unit_tree',
  'audit.read@company',
];

/** Runs `step` back to back for `seconds` (after a short warm-up), timing every call. */
async function loop(
  name: string,
  seconds: number,
  step: () => Promise<unknown>,
): Promise<PermissionCheckFigures> {
  const warmUntil = performance.now() + Math.min(1000, seconds * 250);
  while (performance.now() < warmUntil) await step();
  let latencies = new Float64Array(1 << 20);
  let count = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (true) {
    const t0 = performance.now();
    if (t0 >= until) break;
    await step();
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = performance.now() - t0;
  }
  const elapsed = (performance.now() - started) / 1000;
  const sorted = latencies.subarray(0, count).sort();
  return { name, perSecond: count / elapsed, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
}

/** The work both loops share: a Moleculer-like context carrying meta, and a trivial handler. */
function handler(ctx: { meta: { auth?: AuthContext } }): { ok: boolean; principal: string | undefined } {
  return { ok: true, principal: ctx.meta.auth?.principalId };
}

export async function benchPermissionCheck(): Promise<PermissionCheckFigures[]> {
  const tokens = new AccessTokens(new Uint8Array(randomBytes(32)), 900);
  const buyer: AuthContext = {
    kind: 'buyer',
    principalId: randomUUID(),
    companyId: randomUUID(),
    unitId: randomUUID(),
    permissions: GRANTS,
  };
  const token = await tokens.issue(buyer);
  // The checks an action makes: a permission held at a scope, and the scope of another one (the
  // last grant, so the scan walks the whole list).
  const verified = await tokens.verify(token);
  if (verified.permissions.length !== 30) throw new Error('the benchmark token must carry 30 grants');

  const withAuth = await loop(
    'authorization, repeat requests of a token (verified token remembered) + requirePermission + permissionScope',
    DURATION_S,
    async () => {
      const auth = await tokens.verify(token);
      const ctx = { meta: { auth } };
      requirePermission(ctx as unknown as Context, 'orders.read', 'unit');
      if (permissionScope(auth, 'returns.read') !== 'unit_tree') throw new Error('wrong scope');
      return handler(ctx);
    },
  );
  // A token seen for the first time (a fresh verifier, so nothing remembered): the signature check.
  const secret = new Uint8Array(randomBytes(32));
  const coldToken = await new AccessTokens(secret, 900).issue(buyer);
  const cold = await loop(
    'authorization, first request of a token (full HS256 verification)',
    DURATION_S,
    async () => {
      const auth = await new AccessTokens(secret, 900).verify(coldToken);
      const ctx = { meta: { auth } };
      requirePermission(ctx as unknown as Context, 'orders.read', 'unit');
      return handler(ctx);
    },
  );
  const baseline = await loop('baseline: the same loop without authorization', DURATION_S, async () => {
    const ctx = { meta: {} };
    return handler(ctx);
  });

  const meanOverheadUs = 1e6 / withAuth.perSecond - 1e6 / baseline.perSecond;
  const overhead: PermissionCheckFigures = {
    name: `authorization overhead: +${meanOverheadUs.toFixed(1)} µs per request (mean; perSecond = 1 / overhead)`,
    perSecond: 1e6 / meanOverheadUs,
    p50Ms: withAuth.p50Ms - baseline.p50Ms,
    p99Ms: withAuth.p99Ms - baseline.p99Ms,
  };
  return [withAuth, cold, baseline, overhead];
}

if (import.meta.main) {
  const rows = await benchPermissionCheck();
  const header = ['measurement', 'per second', 'p50 ms', 'p99 ms'];
  const lines = rows.map((r) => [r.name, r.perSecond.toFixed(0), r.p50Ms.toFixed(4), r.p99Ms.toFixed(4)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const line of [header, ...lines])
    console.log(line.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
}
