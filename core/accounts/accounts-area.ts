import type { ActionSchema } from 'moleculer';
import type { AccessTokens } from '../platform/auth/access-tokens.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';

/** What every part of the accounts service is built with. */
export interface AccountsContext {
  platform: Platform;
  tokens: AccessTokens;
}

/**
 * One part of the accounts service (sessions, company, units, users, roles, API keys, internal):
 * its actions, named as the service will publish them (`units.move` → `accounts.units.move`), and
 * the REST routes that reach them.
 */
export interface AccountsArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
}

/** Keyset page: the next cursor is the last id when the page came back full. */
export function page<T extends { id: string }>(items: T[], limit: number) {
  return { items, nextCursor: items.length === limit ? items[items.length - 1]!.id : null };
}

export interface ListParams {
  limit: number;
  cursor?: string;
}
