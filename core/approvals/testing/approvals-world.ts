/**
 * Test kit of the approvals domain: a whole hub (real accounts service, outbox relay, gateway) on a
 * fresh PostgreSQL database, the approvals service added to its broker, and two buyer companies
 * built through the accounts actions, with an org tree, managers and users of every role. Callers
 * act through the broker with the auth context the gateway would derive from their real login.
 */
import type { ServiceBroker } from 'moleculer';
import { validators } from '../../../schemas/generated/validators.js';
import { AccessTokens } from '../../platform/auth/access-tokens.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';
import { uniqueName } from '../../platform/testing/test-servers.ts';
import { createApprovalsModule } from '../approvals.module.ts';

/** The demo staff administrator `hub seed demo` creates (README). */
const STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
const PASSWORD = 'approvals-test-password';

export interface Person {
  id: string;
  email: string;
  auth: AuthContext;
  /** Call options carrying this person's auth context, as the gateway sets it. */
  as: { meta: { auth: AuthContext; origin: { requestId: string } } };
}

export interface Company {
  id: string;
  rootUnitId: string;
  units: Record<string, string>;
  people: Record<string, Person>;
}

export interface World {
  hub: TestHub;
  broker: ServiceBroker;
  /** The approvals engine's clock: `setNow(date)` freezes it, `setNow(null)` follows real time. */
  setNow(date: Date | null): void;
  staff: Person;
  login(email: string): Promise<Person>;
  stop(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary action answers
export type Answer = any;

function asCaller(auth: AuthContext): Person['as'] {
  return { meta: { auth, origin: { requestId: uniqueName('req') } } };
}

/** `sweepIntervalMs` runs the service's own escalation sweep (default 0: tests call it themselves). */
export async function startApprovalsWorld(options: { sweepIntervalMs?: number } = {}): Promise<World> {
  // The hub's own approvals service (once the module is registered) is left out: the one added
  // below has the test clock and sweep interval, and must be the only one answering.
  const hub = await startTestHub({ env: { HUB_SERVICES: 'gateway,accounts,jobs,outbox' } });
  let frozen: Date | null = null;
  const module = createApprovalsModule({
    sweepIntervalMs: options.sweepIntervalMs ?? 0,
    clock: () => frozen ?? new Date(),
  });
  await applyMigrations(hub.hub.platform.db, [module.migrations!]);
  const broker = hub.hub.broker;
  broker.createService(module.service(hub.hub.platform));
  await broker.waitForServices(['approvals', 'accounts']);
  const tokens = new AccessTokens(
    hub.hub.platform.config.jwtSecret,
    hub.hub.platform.config.accessTokenTtlSeconds,
  );

  async function loginWith(email: string, password: string): Promise<Person> {
    const { accessToken } = (await broker.call('accounts.login', { email, password })) as {
      accessToken: string;
    };
    const auth = await tokens.verify(accessToken);
    return { id: auth.principalId, email, auth, as: asCaller(auth) };
  }

  return {
    hub,
    broker,
    setNow(date) {
      frozen = date;
    },
    staff: await loginWith(STAFF.email, STAFF.password),
    login: (email) => loginWith(email, PASSWORD),
    stop: () => hub.stop(),
  };
}

export interface CompanySpec {
  /** Units below the root: name → parent name (`root` for the root unit). Declared parents first. */
  units: Record<string, string>;
  /** People: key → roles, unit name (`root` for the root unit) and the units they manage. */
  people: Record<string, { roles: string[]; unit: string; manages?: string[] }>;
}

/** A company built through the accounts actions, with everyone logged in. */
export async function createCompany(world: World, name: string, spec: CompanySpec): Promise<Company> {
  const { broker } = world;
  const slug = uniqueName(name.toLowerCase()).replaceAll(/[^a-z0-9]+/g, '-');
  const adminEmail = `admin@${slug}.example`;
  const company = (await broker.call(
    'accounts.companies.create',
    {
      name,
      status: 'active',
      admin: { email: adminEmail, displayName: `${name} admin`, password: PASSWORD },
    },
    world.staff.as,
  )) as { id: string };
  const admin = await world.login(adminEmail);
  const tree = (await broker.call('accounts.units.list', {}, admin.as)) as {
    items: Array<{ id: string; parentId: string | null }>;
  };
  const rootUnitId = tree.items.find((unit) => unit.parentId === null)!.id;
  const units: Record<string, string> = { root: rootUnitId };
  for (const [unit, parent] of Object.entries(spec.units)) {
    const created = (await broker.call(
      'accounts.units.create',
      { parentId: units[parent]!, name: unit },
      admin.as,
    )) as { id: string };
    units[unit] = created.id;
  }
  const people: Record<string, Person> = { admin };
  for (const [key, person] of Object.entries(spec.people)) {
    const email = `${key}@${slug}.example`;
    await broker.call(
      'accounts.users.create',
      { email, displayName: key, password: PASSWORD, roles: person.roles, unitId: units[person.unit]! },
      admin.as,
    );
    people[key] = await world.login(email);
    for (const managed of person.manages ?? []) {
      await broker.call(
        'accounts.units.update',
        { id: units[managed]!, managerUserId: people[key]!.id },
        admin.as,
      );
    }
  }
  return { id: company.id, rootUnitId, units, people };
}

/** Asserts an answer matches its canonical schema (responses are closed: stray fields fail). */
export function expectSchema(schema: string, value: unknown): void {
  const validate = validators[`https://hub.local/schemas/${schema}`];
  if (!validate) throw new Error(`no schema ${schema}`);
  if (!validate(value)) {
    throw new Error(
      `${schema} rejects the answer: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value)}`,
    );
  }
}

export interface OutboxEventRow {
  id: bigint;
  topic: string;
  companyId: string | null;
  payload: Answer;
}

/** Approval events in the outbox after `afterId`, oldest first. */
export async function approvalEvents(world: World, afterId = 0n): Promise<OutboxEventRow[]> {
  const { rows } = await world.hub.hub.platform.db.query(
    `SELECT id, topic, company_id, payload FROM platform.outbox
      WHERE kind = 'event' AND topic LIKE 'approval.%' AND id > $1 ORDER BY id`,
    [afterId],
  );
  return rows.map((row) => ({
    id: row.id,
    topic: row.topic,
    companyId: row.company_id,
    payload: row.payload,
  }));
}

export async function lastOutboxId(world: World): Promise<bigint> {
  const { rows } = await world.hub.hub.platform.db.query(
    `SELECT coalesce(max(id), 0)::int8 AS id FROM platform.outbox`,
  );
  return rows[0]!.id;
}

/** A purchase snapshot in CNY with `lines` lines of the given categories. */
export function purchase(
  totalMinor: number,
  options: { categories?: string[]; lines?: number; costCentre?: string; currency?: string } = {},
) {
  const currency = options.currency ?? 'CNY';
  const lines = options.lines ?? 1;
  return {
    total: { amountMinor: String(totalMinor), currency },
    lines: Array.from({ length: lines }, (_, i) => ({
      sku: `SKU-${i}`,
      categoryIds: options.categories ?? ['office'],
      quantity: 1,
      lineTotal: { amountMinor: String(Math.floor(totalMinor / lines)), currency },
    })),
    ...(options.costCentre ? { costCentre: options.costCentre } : {}),
  };
}
