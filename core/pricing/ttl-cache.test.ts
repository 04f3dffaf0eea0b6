import { expect, it } from '@jest/globals';
import { TtlCache } from './price-lines.ts';

it('reuses a value for its time to live, then loads again', async () => {
  const cache = new TtlCache<number>(50);
  let loads = 0;
  const load = async () => ++loads;
  expect(await cache.get('k', load)).toBe(1);
  expect(await cache.get('k', load)).toBe(1);
  expect(await cache.get('other', load)).toBe(2);
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(await cache.get('k', load)).toBe(3);
});

it('never keeps a value whose load began before a clear', async () => {
  const cache = new TtlCache<string>(60_000);
  let release!: () => void;
  const slow = cache.get(
    'k',
    () => new Promise<string>((resolve) => (release = () => resolve('before the change'))),
  );
  cache.clear();
  release();
  expect(await slow).toBe('before the change');
  expect(await cache.get('k', async () => 'after the change')).toBe('after the change');
});

it('with no time to live it always loads', async () => {
  const cache = new TtlCache<number>(0);
  let loads = 0;
  await cache.get('k', async () => ++loads);
  await cache.get('k', async () => ++loads);
  expect(loads).toBe(2);
});
