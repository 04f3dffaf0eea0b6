import type { AccessTokens } from '../platform/auth/access-tokens.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';

/** A token for acting on behalf of a buyer lives at most this long, whatever the configured TTL. */
export const ACT_AS_MAX_TTL_SECONDS = 15 * 60;

export function actAsTtlSeconds(configuredTtlSeconds: number): number {
  return Math.min(ACT_AS_MAX_TTL_SECONDS, configuredTtlSeconds);
}

/**
 * The buyer's own auth context (tenant, unit, permissions as their login would give them) marked
 * with the staff member acting for them. The platform records `onBehalfOf` in every audit row
 * written with it, so each action shows both people.
 */
export function onBehalfOf(buyer: AuthContext, staffUserId: string): AuthContext {
  if (buyer.kind !== 'buyer' || !buyer.companyId) throw new Error('Only buyers can be acted on behalf of');
  return { ...buyer, onBehalfOf: { staffUserId } };
}

/** The access token for the acting staff member, and its lifetime. */
export async function issueActAsToken(
  tokens: AccessTokens,
  auth: AuthContext,
): Promise<{ accessToken: string; expiresIn: number }> {
  if (!auth.onBehalfOf) throw new Error('An act-as token must name the staff member');
  return { accessToken: await tokens.issue(auth), expiresIn: tokens.ttlSeconds };
}
