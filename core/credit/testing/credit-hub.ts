import { randomUUID } from 'node:crypto';
import type moleculer from 'moleculer';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import { startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';

/**
 * A whole hub (real PostgreSQL, the real accounts domain and the credit, receivables and payments
 * services) for the credit domain's tests. Tests call the mesh actions with the meta the gateway
 * would set, or go over HTTP with `http` and real logins.
 */
export async function startCreditHub(): Promise<TestHub> {
  const test = await startTestHub();
  await test.hub.broker.waitForServices(['accounts', 'credit', 'receivables', 'payments']);
  return test;
}

export type CallOptions = { meta: { auth: AuthContext } };

export function asStaff(permissions: string[] = ['finance.manage']): CallOptions {
  return { meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions } } };
}

export function asBuyer(
  companyId: string,
  permissions: string[],
  user: { id?: string; unitId?: string | null } = {},
): CallOptions {
  return {
    meta: {
      auth: {
        kind: 'buyer',
        principalId: user.id ?? randomUUID(),
        companyId,
        unitId: user.unitId ?? null,
        permissions,
      },
    },
  };
}

export const cny = (minor: number | bigint | string) => ({ amountMinor: String(minor), currency: 'CNY' });

/** A company created as staff would (accounts.companies.create). */
export async function createCompany(broker: moleculer.ServiceBroker, name = 'Credit Co'): Promise<string> {
  const company = (await broker.call(
    'accounts.companies.create',
    { name: `${name} ${randomUUID().slice(0, 6)}`, status: 'active' },
    asStaff(['*']),
  )) as { id: string };
  return company.id;
}

/** Opens a credit account (finance staff's PUT) with `limit` minor units and net-30 terms unless told. */
export async function openAccount(
  broker: moleculer.ServiceBroker,
  companyId: string,
  limit: number | bigint,
  options: { terms?: { kind: 'net' | 'month_end'; days: number }; graceDays?: number } = {},
): Promise<unknown> {
  return broker.call(
    'credit.staff.accounts.put',
    {
      companyId,
      limit: cny(limit),
      terms: options.terms ?? { kind: 'net', days: 30 },
      graceDays: options.graceDays ?? 0,
    },
    asStaff(),
  );
}

/** Fails unless `value` matches the canonical schema `name` (answers are closed: no stray fields). */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validators[schemaId(name)];
  if (!validate) throw new Error(`no canonical schema ${name}`);
  if (!validate(structuredClone(value))) {
    throw new Error(`${name}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(value).slice(0, 2000)}`);
  }
}

/** Outbox events of `name` written so far (the relay may or may not have published them yet). */
export async function outboxEvents(test: TestHub, name: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await test.hub.platform.db.query(
    `SELECT payload FROM platform.outbox WHERE kind = 'event' AND topic = $1 ORDER BY id`,
    [name],
  );
  return rows.map((row) => row.payload);
}
