import { PERMISSION_SCOPES, type PermissionScope } from '../platform/auth/auth-context.ts';

/** One permission at one scope, as a role grants it. */
export interface Grant {
  permission: string;
  scope: PermissionScope;
}

/**
 * Every buyer permission and the scopes it can be granted at (Oro's permission × scope matrix).
 * A permission about the company as a whole only makes sense at `company`; one about records that
 * belong to people (orders, approvals) can be narrowed to the holder's own, unit or subtree.
 */
export const BUYER_PERMISSIONS: Record<string, { description: string; scopes: readonly PermissionScope[] }> =
  {
    'company.read': { description: 'See the company profile, addresses and contacts', scopes: ['company'] },
    'company.manage': {
      description: 'Edit the company profile, addresses and contacts',
      scopes: ['company'],
    },
    'users.read': { description: 'See users', scopes: ['unit', 'unit_tree', 'company'] },
    'users.manage': {
      description: 'Invite, edit, disable users and reset their passwords',
      scopes: ['unit', 'unit_tree', 'company'],
    },
    'units.manage': {
      description: 'Create, rename, move and delete departments',
      scopes: ['unit_tree', 'company'],
    },
    'roles.manage': { description: 'Define custom roles', scopes: ['company'] },
    'approvals.rules.manage': { description: 'Configure approval rules', scopes: ['company'] },
    'approvals.read': {
      description: 'See approval requests',
      scopes: ['own', 'unit', 'unit_tree', 'company'],
    },
    'approvals.delegate': { description: 'Delegate one’s approvals while away', scopes: ['own'] },
    'spending.manage': { description: 'Set spending limits and budgets', scopes: ['unit_tree', 'company'] },
    'spending.read': {
      description: 'See spending limits, budgets and spend',
      scopes: ['own', 'unit', 'unit_tree', 'company'],
    },
    'orders.place': { description: 'Place orders', scopes: ['own'] },
    'orders.read': { description: 'See orders', scopes: ['own', 'unit', 'unit_tree', 'company'] },
    'quotes.request': { description: 'Request quotes', scopes: ['own'] },
    'quotes.read': { description: 'See quotes', scopes: ['own', 'unit', 'unit_tree', 'company'] },
    'invoices.read': {
      description: 'See and download invoices',
      scopes: ['own', 'unit', 'unit_tree', 'company'],
    },
    'invoices.request': { description: 'Request tax invoices (开票申请) for receivables', scopes: ['own'] },
    'credit.read': {
      description: 'See the company credit account: limit, terms, exposure, ledger',
      scopes: ['company'],
    },
    'audit.read': { description: 'Read the company audit log', scopes: ['company'] },
  };

const all =
  (scope: PermissionScope) =>
  (permission: string): Grant => ({
    permission,
    scope: BUYER_PERMISSIONS[permission]!.scopes.includes(scope)
      ? scope
      : BUYER_PERMISSIONS[permission]!.scopes.at(-1)!,
  });

/** Preset buyer roles: every company has them; custom roles come from `accounts.custom_roles`. */
export const PRESET_BUYER_ROLES: Record<string, { name: string; grants: readonly Grant[] }> = {
  'buyer-admin': {
    name: 'Company administrator',
    grants: Object.keys(BUYER_PERMISSIONS).map(all('company')),
  },
  purchaser: {
    name: 'Purchaser',
    grants: [
      { permission: 'company.read', scope: 'company' },
      { permission: 'orders.place', scope: 'own' },
      { permission: 'orders.read', scope: 'own' },
      { permission: 'quotes.request', scope: 'own' },
      { permission: 'quotes.read', scope: 'own' },
      { permission: 'approvals.read', scope: 'own' },
      { permission: 'approvals.delegate', scope: 'own' },
      { permission: 'spending.read', scope: 'own' },
      { permission: 'invoices.read', scope: 'own' },
    ],
  },
  approver: {
    name: 'Approver (department manager)',
    grants: [
      { permission: 'company.read', scope: 'company' },
      { permission: 'users.read', scope: 'unit_tree' },
      { permission: 'orders.read', scope: 'unit_tree' },
      { permission: 'quotes.read', scope: 'unit_tree' },
      { permission: 'approvals.read', scope: 'unit_tree' },
      { permission: 'approvals.delegate', scope: 'own' },
      { permission: 'spending.read', scope: 'unit_tree' },
    ],
  },
  finance: {
    name: 'Finance',
    grants: [
      { permission: 'company.read', scope: 'company' },
      { permission: 'orders.read', scope: 'company' },
      { permission: 'approvals.read', scope: 'company' },
      { permission: 'approvals.delegate', scope: 'own' },
      { permission: 'spending.manage', scope: 'company' },
      { permission: 'spending.read', scope: 'company' },
      { permission: 'invoices.read', scope: 'company' },
      { permission: 'invoices.request', scope: 'own' },
      { permission: 'credit.read', scope: 'company' },
    ],
  },
};

/**
 * Staff roles and their (unscoped) permissions. `buyers.act_on_behalf` lets sales and customer
 * service place orders for a buyer (销售远程协助客户下单); the audit log records both people.
 * Each role holds what its work needs and reads what it must see to do it:
 * - sales: customers, quotes (not their approval: `quotes.approve` is the admin's, never the
 *   author's), order review and processing (订单审核与处理), read access to prices and stock;
 * - customer service: customers and orders to answer questions, acting for a buyer;
 * - finance: credit limits and terms, receivables, payments, invoice requests (`finance.*`),
 *   orders to reconcile;
 * - warehouse: stock, warehouses and movements (`inventory.*`), shipments (`orders.ship`);
 * - product manager: the catalog and its prices (`pricing.*`), stock to read.
 */
export const STAFF_ROLES: Record<string, readonly string[]> = {
  admin: ['*'],
  sales: [
    'companies.read',
    'companies.manage',
    'buyers.act_on_behalf',
    'audit.read',
    'catalog.read',
    'pricing.read',
    'inventory.read',
    'quotes.read',
    'quotes.manage',
    'orders.read',
    'orders.manage',
  ],
  'customer-service': [
    'companies.read',
    'buyers.act_on_behalf',
    'audit.read',
    'catalog.read',
    'inventory.read',
    'quotes.read',
    'orders.read',
  ],
  finance: ['companies.read', 'audit.read', 'finance.read', 'finance.manage', 'orders.read'],
  warehouse: [
    'jobs.read',
    'catalog.read',
    'inventory.read',
    'inventory.manage',
    'orders.read',
    'orders.ship',
  ],
  'product-manager': [
    'companies.read',
    'catalog.read',
    'catalog.manage',
    'pricing.read',
    'pricing.manage',
    'inventory.read',
  ],
  integration: [
    'jobs.read',
    'jobs.replay',
    'jobs.admin',
    'system.read',
    'api-keys.manage',
    'flows.admin',
    'integrations.manage',
  ],
};

/**
 * Lookups by a name that came from outside (a request, a stored row): own entries only, so
 * `constructor` or `toString` are unknown names rather than members of Object.prototype.
 */
export function buyerPermission(name: string) {
  return Object.hasOwn(BUYER_PERMISSIONS, name) ? BUYER_PERMISSIONS[name] : undefined;
}

export function presetBuyerRole(key: string) {
  return Object.hasOwn(PRESET_BUYER_ROLES, key) ? PRESET_BUYER_ROLES[key] : undefined;
}

export function isPresetBuyerRole(key: string): boolean {
  return Object.hasOwn(PRESET_BUYER_ROLES, key);
}

function staffRole(key: string): readonly string[] | undefined {
  return Object.hasOwn(STAFF_ROLES, key) ? STAFF_ROLES[key] : undefined;
}

/** `name@scope` strings for the token; the widest scope per permission is enough. */
export function encodeGrants(grants: Iterable<Grant>): string[] {
  const widest = new Map<string, number>();
  for (const { permission, scope } of grants) {
    const rank = PERMISSION_SCOPES.indexOf(scope);
    if (rank > (widest.get(permission) ?? -1)) widest.set(permission, rank);
  }
  return [...widest].map(([permission, rank]) => `${permission}@${PERMISSION_SCOPES[rank]}`).sort();
}

/** Problems with a custom role's grants, as JSON pointers into the request body. */
export function invalidGrants(grants: readonly Grant[]): Array<{ pointer: string; detail: string }> {
  const problems: Array<{ pointer: string; detail: string }> = [];
  grants.forEach((grant, index) => {
    const known = buyerPermission(grant.permission);
    if (!known)
      problems.push({
        pointer: `/grants/${index}/permission`,
        detail: `unknown permission ${grant.permission}`,
      });
    else if (!known.scopes.includes(grant.scope)) {
      problems.push({
        pointer: `/grants/${index}/scope`,
        detail: `${grant.permission} can be granted at ${known.scopes.join(', ')}`,
      });
    }
  });
  return problems;
}

export function staffPermissions(roles: readonly string[]): string[] {
  return [...new Set(roles.flatMap((role) => staffRole(role) ?? []))].sort();
}

export function unknownStaffRoles(roles: readonly string[]): string[] {
  return roles.filter((role) => !staffRole(role));
}
