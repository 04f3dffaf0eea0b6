import {
  BUYER_PERMISSIONS,
  encodeGrants,
  invalidGrants,
  PRESET_BUYER_ROLES,
  STAFF_ROLES,
  staffPermissions,
  unknownStaffRoles,
} from './roles.ts';

/** The permission × scope catalogue and the pure helpers built on it. */

describe('encodeGrants', () => {
  test('keeps the widest scope per permission, sorted, as name@scope', () => {
    expect(
      encodeGrants([
        { permission: 'orders.read', scope: 'own' },
        { permission: 'users.read', scope: 'unit' },
        { permission: 'orders.read', scope: 'unit_tree' },
        { permission: 'orders.read', scope: 'unit' },
        { permission: 'users.read', scope: 'unit' },
      ]),
    ).toEqual(['orders.read@unit_tree', 'users.read@unit']);
    expect(encodeGrants([])).toEqual([]);
  });
});

describe('invalidGrants', () => {
  test('points at the permission when unknown and at the scope when the permission cannot have it', () => {
    expect(
      invalidGrants([
        { permission: 'orders.read', scope: 'unit' },
        { permission: 'orders.fly', scope: 'own' },
        { permission: 'orders.place', scope: 'company' },
      ]),
    ).toEqual([
      { pointer: '/grants/1/permission', detail: expect.stringContaining('orders.fly') },
      { pointer: '/grants/2/scope', detail: 'orders.place can be granted at own' },
    ]);
  });

  test('names of Object.prototype members are unknown permissions, not a crash', () => {
    for (const permission of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(invalidGrants([{ permission, scope: 'own' }])).toEqual([
        { pointer: '/grants/0/permission', detail: `unknown permission ${permission}` },
      ]);
    }
  });
});

describe('preset roles', () => {
  test('every preset grant is a valid permission at an allowed scope', () => {
    for (const role of Object.values(PRESET_BUYER_ROLES)) expect(invalidGrants(role.grants)).toEqual([]);
  });

  test('buyer-admin holds every buyer permission at its widest scope', () => {
    expect(encodeGrants(PRESET_BUYER_ROLES['buyer-admin']!.grants)).toEqual(
      Object.entries(BUYER_PERMISSIONS)
        .map(([name, { scopes }]) => `${name}@${scopes.at(-1)}`)
        .sort(),
    );
  });
});

describe('staff roles', () => {
  test('permissions are the union of the roles, unscoped; unknown and prototype names grant nothing', () => {
    expect(staffPermissions(['customer-service', 'finance'])).toEqual([
      'audit.read',
      'buyers.act_on_behalf',
      'catalog.read',
      'companies.read',
      'finance.manage',
      'finance.read',
      'inventory.read',
      'orders.read',
      'quotes.read',
    ]);
    expect(staffPermissions(['admin'])).toEqual(['*']);
    expect(staffPermissions(['constructor', 'toString', 'nobody'])).toEqual([]);
    expect(unknownStaffRoles(['sales', 'constructor', 'nobody'])).toEqual(['constructor', 'nobody']);
    expect(Object.keys(STAFF_ROLES)).toContain('integration');
  });
});
