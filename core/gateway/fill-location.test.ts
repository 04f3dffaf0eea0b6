import { fillLocation } from './gateway.module.ts';

test('placeholders take nested string fields of the answer, URL-encoded', () => {
  expect(fillLocation('/api/users/{user.id}', { user: { id: 'u 1' } })).toBe('/api/users/u%201');
  expect(fillLocation('/api/roles/{key}', { key: 'site-buyer' })).toBe('/api/roles/site-buyer');
});

test('a missing or non-string value gives no Location at all', () => {
  expect(fillLocation('/api/users/{user.id}', { id: 'x' })).toBeUndefined();
  expect(fillLocation('/api/units/{id}', { id: 42 })).toBeUndefined();
  expect(fillLocation('/api/units/{id}', null)).toBeUndefined();
});
