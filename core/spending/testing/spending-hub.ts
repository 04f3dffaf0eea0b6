import { randomUUID } from 'node:crypto';
import type moleculer from 'moleculer';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';
import { spendingModule } from '../spending.module.ts';

/**
 * A whole hub (real PostgreSQL, the real accounts domain) with the spending service added to its
 * broker and its migrations applied: `accounts.internal.userContext` answers from real users and
 * units. The gateway of this hub does not serve the spending routes (the composition root lists
 * the modules it routes); tests call the actions with the meta the gateway would set.
 */
export interface SpendingHub {
  test: TestHub;
  broker: moleculer.ServiceBroker;
  stop(): Promise<void>;
}

export async function startSpendingHub(): Promise<SpendingHub> {
  const test = await startTestHub();
  const { broker, platform } = test.hub;
  await applyMigrations(platform.db, [spendingModule.migrations!]);
  broker.createService(spendingModule.service(platform) as moleculer.ServiceSchema);
  await broker.waitForServices(['spending', 'accounts']);
  return { test, broker, stop: () => test.stop() };
}

export type CallOptions = { meta: { auth: AuthContext } };

export function asBuyer(
  user: { id: string; companyId: string; unitId?: string | null },
  permissions: string[],
): CallOptions {
  return {
    meta: {
      auth: {
        kind: 'buyer',
        principalId: user.id,
        companyId: user.companyId,
        unitId: user.unitId ?? null,
        permissions,
      },
    },
  };
}

export function asStaff(permissions: string[]): CallOptions {
  return { meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions } } };
}

export interface OrgUser {
  id: string;
  companyId: string;
  unitId: string;
}

export interface Org {
  companyId: string;
  units: Record<string, string>;
  users: Record<string, OrgUser>;
}

/**
 * A company with a tree of units (`{ name: parentName }`, the root is `root`) and users
 * (`{ name: unitName }`), created through the accounts actions as its administrator would.
 */
export async function createOrg(
  broker: moleculer.ServiceBroker,
  name: string,
  tree: Record<string, string>,
  people: Record<string, string>,
): Promise<Org> {
  const tag = randomUUID().slice(0, 8);
  const company = (await broker.call(
    'accounts.companies.create',
    { name, status: 'active' },
    asStaff(['*']),
  )) as { id: string };
  const companyId = company.id;
  const admin = asBuyer({ id: randomUUID(), companyId }, ['*']);
  const { items } = (await broker.call('accounts.units.list', {}, admin)) as {
    items: Array<{ id: string; parentId: string | null }>;
  };
  const units: Record<string, string> = { root: items.find((unit) => unit.parentId === null)!.id };
  for (const [unit, parent] of Object.entries(tree)) {
    const created = (await broker.call(
      'accounts.units.create',
      { parentId: units[parent]!, name: unit },
      admin,
    )) as { id: string };
    units[unit] = created.id;
  }
  const users: Record<string, OrgUser> = {};
  for (const [person, unit] of Object.entries(people)) {
    const { user } = (await broker.call(
      'accounts.users.create',
      {
        email: `${person}.${tag}@${name.toLowerCase()}.example`,
        displayName: person,
        roles: ['purchaser'],
        unitId: units[unit]!,
      },
      admin,
    )) as { user: { id: string } };
    users[person] = { id: user.id, companyId, unitId: units[unit]! };
  }
  return { companyId, units, users };
}

export function cny(amountMinor: string | number) {
  return { amountMinor: String(amountMinor), currency: 'CNY' };
}

/** Fails unless `value` matches the canonical schema `name` (answers are closed: no stray fields). */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validators[schemaId(name)];
  if (!validate) throw new Error(`no canonical schema ${name}`);
  if (!validate(structuredClone(value))) {
    throw new Error(`${name}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(value)}`);
  }
}
