import type { ActionSchema, Context } from 'moleculer';
import { type AuthContext, requireBuyerCompany } from '../platform/auth/auth-context.ts';
import { Forbidden } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';

/** What every part of the carts service is built with. */
export interface CartsContext {
  platform: Platform;
}

/**
 * One part of the carts service (carts, lines, quick order, sharing): its actions, named as the
 * service publishes them (`lines.add` → `carts.lines.add`), and the REST routes that reach them.
 */
export interface CartsArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
}

export const TAG = 'carts';

/** Bounds of what one buyer keeps. */
export const LIMITS = {
  /** Carts a user owns. */
  cartsPerUser: 50,
  /** Lines of one cart: what pricing prices in one call. */
  linesPerCart: 500,
  /** Units on one line. */
  maxQuantity: 1_000_000,
  /** Colleagues one cart is shared with. */
  sharesPerCart: 20,
  /** Non-empty rows of one quick order (text or file). */
  quickOrderRows: 500,
} as const;

/** A buyer user (company id and user id from the auth context only). */
export interface Buyer {
  auth: AuthContext;
  companyId: string;
  userId: string;
}

/** The calling buyer user; API keys and staff have no carts (staff acting for a buyer are that buyer). */
export function buyerOf(ctx: Context): Buyer {
  const { auth, companyId } = requireBuyerCompany(ctx);
  if (auth.kind !== 'buyer') throw new Forbidden('Carts belong to buyer users');
  return { auth, companyId, userId: auth.principalId };
}
