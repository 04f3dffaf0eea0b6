/**
 * Approval rule evaluation: a 200-line purchase against a company with 50 active rules, with the
 * pure evaluator of core/approvals in this process (rules compiled once, as the service caches
 * them). Two figures: the whole evaluation (derive the purchase facts from the snapshot, then
 * evaluate every rule), and the rules alone against facts derived once.
 *
 * `BENCH_DURATION` (seconds per figure, default 8) as for the other benchmarks. Run alone with
 * `node_modules/.bin/node core/bench/approval-rules.bench.ts`.
 */
import { fileURLToPath } from 'node:url';
import {
  type CompiledRule,
  type ConditionNode,
  compileCondition,
  matchingRules,
  type PurchaseFacts,
  type PurchaseSnapshot,
  purchaseFacts,
  type RequesterFacts,
} from '../approvals/condition.ts';
import { percentile } from './bench-kit.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const LINES = 200;
const RULES = 50;

export interface ApprovalBenchFigures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const UNITS = Array.from({ length: 12 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
const CATEGORIES = Array.from({ length: 40 }, (_, i) => `cat-${i}`);
const cny = (amountMinor: number) => ({ amountMinor: String(amountMinor), currency: 'CNY' });

/** 200 lines over 40 categories, the requester four units deep. */
function purchase(): { snapshot: PurchaseSnapshot; requester: RequesterFacts } {
  const lines = Array.from({ length: LINES }, (_, i) => ({
    sku: `SKU-${i % 150}`,
    categoryIds: [CATEGORIES[i % CATEGORIES.length]!, CATEGORIES[(i * 7) % CATEGORIES.length]!],
    quantity: 1 + (i % 9),
    lineTotal: cny(10_000 + i * 137),
  }));
  const total = lines.reduce((sum, line) => sum + Number(line.lineTotal.amountMinor), 0);
  return {
    snapshot: {
      total: cny(total),
      shippingCost: cny(12_000),
      lines,
      costCentre: 'CC-07',
      paymentMethod: 'credit',
    },
    requester: { unitPath: UNITS.slice(0, 4), roles: ['purchaser', 'lab-lead'] },
  };
}

/** 50 rules of the shapes companies write: thresholds, category and unit scoping, nesting. */
function rules(): CompiledRule<null>[] {
  const conditions: ConditionNode[] = [];
  for (let i = 0; i < RULES; i++) {
    const threshold = { field: 'orderTotal', op: 'gte', value: cny(1_000_000 * (i + 1)) } as const;
    switch (i % 5) {
      case 0:
        conditions.push(threshold);
        break;
      case 1:
        conditions.push({
          all: [
            threshold,
            {
              field: 'categories',
              op: 'containsAny',
              value: [CATEGORIES[i % 40]!, CATEGORIES[(i + 3) % 40]!],
            },
          ],
        });
        break;
      case 2:
        conditions.push({
          any: [
            { field: 'requesterUnit', op: 'within', value: UNITS[i % UNITS.length]! },
            { field: 'costCentre', op: 'in', value: [`CC-${i}`, `CC-${i + 1}`] },
          ],
        });
        break;
      case 3:
        conditions.push({
          all: [
            { field: 'lineCount', op: 'gt', value: 100 + i },
            { not: { field: 'requesterRole', op: 'in', value: ['finance', 'buyer-admin'] } },
            {
              field: 'categories',
              op: 'containsAll',
              value: [CATEGORIES[i % 40]!, CATEGORIES[(i * 3) % 40]!],
            },
          ],
        });
        break;
      default:
        conditions.push({
          all: [
            { field: 'paymentMethod', op: 'eq', value: 'credit' },
            {
              any: [
                { field: 'shippingCost', op: 'gt', value: cny(10_000 + i) },
                { field: 'skuCount', op: 'gte', value: 50 + i },
                { not: { field: 'orderTotal', op: 'lt', value: { amountMinor: '100', currency: 'USD' } } },
              ],
            },
          ],
        });
    }
  }
  return conditions.map((condition, i) => ({
    id: `rule-${i}`,
    priority: RULES - i,
    matches: compileCondition(condition),
    extra: null,
  }));
}

/** Times `run` back to back for `seconds` after a one-second warm-up. */
function measure(name: string, seconds: number, run: () => unknown): ApprovalBenchFigures {
  const warmUntil = performance.now() + Math.min(1000, seconds * 250);
  while (performance.now() < warmUntil) run();
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  let sink = 0;
  for (let now = started; now < until; ) {
    const t0 = now;
    const result = run();
    now = performance.now();
    latencies.push(now - t0);
    if (result) sink++;
  }
  const elapsed = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  if (sink < 0) console.log(sink); // keeps the results alive
  return {
    name,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

export async function benchApprovalRules(): Promise<ApprovalBenchFigures[]> {
  const { snapshot, requester } = purchase();
  const compiled = rules();
  const facts: PurchaseFacts = purchaseFacts(snapshot, requester);
  const matched = matchingRules(compiled, facts).length;
  if (matched === 0 || matched === RULES) throw new Error(`bench rules should match some: ${matched}`);
  return [
    measure(`approval rules: ${LINES}-line purchase × ${RULES} rules (facts + evaluation)`, DURATION_S, () =>
      matchingRules(compiled, purchaseFacts(snapshot, requester)),
    ),
    measure(`approval rules: ${RULES} rules on derived facts (evaluation only)`, DURATION_S, () =>
      matchingRules(compiled, facts),
    ),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const figures of await benchApprovalRules()) {
    console.log(
      `${figures.name}: ${Math.round(figures.perSecond).toLocaleString('en')}/s, p50 ${figures.p50Ms.toFixed(4)} ms, p99 ${figures.p99Ms.toFixed(4)} ms`,
    );
  }
}
