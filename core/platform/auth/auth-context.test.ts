import { type AuthContext, hasPermission, permissionScope } from './auth-context.ts';

const buyer = (permissions: string[]): AuthContext => ({
  kind: 'buyer',
  principalId: 'u',
  companyId: 'c',
  permissions,
});

test('the widest granted scope wins', () => {
  const auth = buyer(['orders.read@own', 'orders.read@unit_tree', 'users.read@unit']);
  expect(permissionScope(auth, 'orders.read')).toBe('unit_tree');
  expect(permissionScope(auth, 'users.read')).toBe('unit');
  expect(permissionScope(auth, 'users.manage')).toBeUndefined();
});

test('unscoped grants and * reach the whole company', () => {
  expect(permissionScope({ ...buyer(['orders.read']), kind: 'staff' }, 'orders.read')).toBe('company');
  expect(permissionScope(buyer(['*']), 'anything')).toBe('company');
});

test('a permission name is matched whole, not by prefix', () => {
  expect(permissionScope(buyer(['orders.read.all@company']), 'orders.read')).toBeUndefined();
  expect(permissionScope(buyer(['orders@company']), 'orders.read')).toBeUndefined();
});

test('hasPermission compares against a minimum scope', () => {
  const auth = buyer(['orders.read@unit']);
  expect(hasPermission(auth, 'orders.read')).toBe(true);
  expect(hasPermission(auth, 'orders.read', 'unit')).toBe(true);
  expect(hasPermission(auth, 'orders.read', 'unit_tree')).toBe(false);
  expect(hasPermission(auth, 'orders.read', 'company')).toBe(false);
});
