/**
 * The two internal actions of the accounts service this domain relies on, called over the mesh
 * (never by importing accounts code). They trust their params: pass ids taken from the caller's
 * auth context or from this domain's own rows.
 */

/** Anything that calls an action: a Moleculer context (keeps the caller's meta) or the broker. */
export interface ActionCaller {
  call(action: string, params?: unknown, options?: unknown): Promise<unknown>;
}

export interface UserContext {
  userId: string;
  companyId: string;
  unitId: string | null;
  /** Unit ids from the root down to the user's own unit. */
  unitPath: string[];
  roles: string[];
  status: 'active' | 'invited' | 'disabled';
}

export interface ApproverQuery {
  companyId: string;
  userIds?: string[] | undefined;
  roles?: string[] | undefined;
  managerOf?: { userId: string; levels: number } | undefined;
}

export async function userContext(caller: ActionCaller, userId: string): Promise<UserContext | null> {
  return ((await caller.call('accounts.internal.userContext', { userId })) as UserContext | null) ?? null;
}

/** Active users of the company among named users, role holders and the requester's managers. */
export async function resolveApprovers(caller: ActionCaller, query: ApproverQuery): Promise<string[]> {
  const params: Record<string, unknown> = { companyId: query.companyId };
  if (query.userIds?.length) params.userIds = query.userIds;
  if (query.roles?.length) params.roles = query.roles;
  if (query.managerOf) params.managerOf = query.managerOf;
  // Nothing to look up: no call (an empty query would mean "nobody" anyway).
  if (Object.keys(params).length === 1) return [];
  const answer = (await caller.call('accounts.internal.resolveApprovers', params)) as { userIds: string[] };
  return answer.userIds;
}
