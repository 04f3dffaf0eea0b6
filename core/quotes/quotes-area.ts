import type { ActionSchema, Context } from 'moleculer';
import {
  type AuthContext,
  authOf,
  hasPermission,
  requireBuyerCompany,
} from '../platform/auth/auth-context.ts';
import { Forbidden } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';
import type { QuotesConfig } from './quotes-config.ts';

/** What every part of the quotes service is built with. */
export interface QuotesContext {
  platform: Platform;
  config: QuotesConfig;
}

/** One part of the quotes service: its actions (as published under `quotes.`) and routes. */
export interface QuotesArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
}

export const TAG = 'quotes';

/** Staff permissions: respond to, decline and cancel quotes; approve below-floor versions; read. */
export const MANAGE = 'quotes.manage';
export const APPROVE = 'quotes.approve';
export const READ = 'quotes.read';

/** Bounds of one quote. */
export const LIMITS = { lines: 500, listLimit: 200, attachments: 100 } as const;

export interface Buyer {
  auth: AuthContext;
  companyId: string;
  userId: string;
}

/** The calling buyer user: quotes are asked for and negotiated by people, not API keys. */
export function buyerOf(ctx: Context): Buyer {
  const { auth, companyId } = requireBuyerCompany(ctx);
  if (auth.kind !== 'buyer') throw new Forbidden('Quotes are requested by buyer users');
  return { auth, companyId, userId: auth.principalId };
}

/** A staff member holding `permission` (`quotes.read` reads are also allowed with `quotes.manage`). */
export function staffOf(ctx: Context, permission: string = MANAGE): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  const allowed = hasPermission(auth, permission) || (permission === READ && hasPermission(auth, MANAGE));
  if (!allowed) throw new Forbidden(`Missing permission ${permission}`);
  return auth;
}
