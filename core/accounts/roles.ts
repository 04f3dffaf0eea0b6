/**
 * Preset roles and the permissions they grant. Custom roles, scopes (own / unit / company) and
 * company-defined buyer roles arrive with the accounts issue; the permission names are stable.
 */
export const STAFF_ROLES: Record<string, readonly string[]> = {
  admin: ['*'],
  sales: ['companies.read', 'companies.manage', 'audit.read'],
  'customer-service': ['companies.read', 'audit.read'],
  finance: ['companies.read', 'audit.read'],
  warehouse: ['jobs.read'],
  'product-manager': ['companies.read'],
  integration: ['jobs.read', 'jobs.replay', 'jobs.admin', 'system.read', 'api-keys.manage'],
};

export const BUYER_ROLES: Record<string, readonly string[]> = {
  'buyer-admin': ['company.read', 'users.read', 'users.manage', 'audit.read'],
  purchaser: ['company.read'],
  approver: ['company.read', 'users.read'],
  finance: ['company.read'],
};

export function permissionsForRoles(kind: 'staff' | 'buyer', roles: readonly string[]): string[] {
  const table = kind === 'staff' ? STAFF_ROLES : BUYER_ROLES;
  return [...new Set(roles.flatMap((role) => table[role] ?? []))].sort();
}

export function unknownRoles(kind: 'staff' | 'buyer', roles: readonly string[]): string[] {
  const table = kind === 'staff' ? STAFF_ROLES : BUYER_ROLES;
  return roles.filter((role) => !(role in table));
}
