import type { Context } from 'moleculer';
import type { HubMeta } from '../platform/auth/auth-context.ts';
import { Forbidden } from '../platform/errors/hub-errors.ts';
import type { Viewer } from './visibility.ts';

export type { Viewer } from './visibility.ts';

interface CompanyAnswer {
  id: string;
  status: string;
  tier: string | null;
  tags: string[];
}

/**
 * Who is looking at the catalog, from `ctx.meta.auth` only: no caller is a guest; staff (no
 * company) see everything; a buyer (or a company API key) sees what its company, tier and tags
 * may see. The company's status, tier and tags come from accounts (`accounts.internal.companyContext`,
 * mesh-only); a buyer whose company is not active is refused.
 */
export async function viewerOf(ctx: Context): Promise<Viewer> {
  const auth = (ctx.meta as HubMeta).auth;
  if (!auth) return { kind: 'guest' };
  if (!auth.companyId) return auth.kind === 'staff' ? { kind: 'staff' } : { kind: 'guest' };
  const companyId = auth.companyId;
  const company = (await ctx.call('accounts.internal.companyContext', { companyId })) as CompanyAnswer | null;
  if (company?.status !== 'active') {
    throw new Forbidden('Your company is not active: the catalog is not available');
  }
  return { kind: 'buyer', companyId, tier: company?.tier ?? null, tags: company?.tags ?? [] };
}
