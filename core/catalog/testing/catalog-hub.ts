import { randomUUID } from 'node:crypto';
import type moleculer from 'moleculer';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';
import { catalogModule } from '../catalog.module.ts';

/**
 * A whole hub (real PostgreSQL, the real accounts domain) with the catalog service on its broker:
 * added here when the composition root does not run it yet. Tests call the actions with the meta
 * the gateway would set.
 */
export interface CatalogHub {
  test: TestHub;
  broker: moleculer.ServiceBroker;
  stop(): Promise<void>;
}

export async function startCatalogHub(): Promise<CatalogHub> {
  const test = await startTestHub();
  const { broker, platform } = test.hub;
  if (!broker.getLocalService('catalog')) {
    await applyMigrations(platform.db, [catalogModule.migrations!]);
    broker.createService(catalogModule.service(platform) as moleculer.ServiceSchema);
  }
  await broker.waitForServices(['catalog', 'accounts']);
  return { test, broker, stop: () => test.stop() };
}

export type CallOptions = { meta: { auth?: AuthContext } };

export function asStaff(permissions: string[] = ['*']): CallOptions {
  return { meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions } } };
}

export function asBuyer(user: { id: string; companyId: string }, permissions: string[] = ['*']): CallOptions {
  return {
    meta: {
      auth: { kind: 'buyer', principalId: user.id, companyId: user.companyId, unitId: null, permissions },
    },
  };
}

export const asGuest: CallOptions = { meta: {} };

/** A buyer company with tier and tags, created through accounts as staff would. */
export async function createCompany(
  broker: moleculer.ServiceBroker,
  name: string,
  profile: { tier?: string; tags?: string[]; status?: 'active' | 'pending' } = {},
): Promise<{ companyId: string; buyer: { id: string; companyId: string } }> {
  const company = (await broker.call(
    'accounts.companies.create',
    {
      name,
      status: profile.status ?? 'active',
      ...(profile.tier ? { tier: profile.tier } : {}),
      tags: profile.tags ?? [],
    },
    asStaff(),
  )) as { id: string };
  return { companyId: company.id, buyer: { id: randomUUID(), companyId: company.id } };
}

/** Fails unless `value` matches the canonical schema `name` (answers are closed: no stray fields). */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validators[schemaId(name)];
  if (!validate) throw new Error(`no canonical schema ${name}`);
  if (!validate(structuredClone(value))) {
    throw new Error(`${name}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(value)}`);
  }
}
