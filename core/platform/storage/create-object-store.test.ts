import { loadHubConfig } from '../config/hub-config.ts';
import { createObjectStore } from './create-object-store.ts';
import { LocalDiskStore } from './local-disk-store.ts';

test('no HUB_STORAGE_URL keeps files under the data directory', () => {
  const store = createObjectStore(undefined, '/srv/hub/var');
  expect(store).toBeInstanceOf(LocalDiskStore);
  expect((store as LocalDiskStore).root).toBe('/srv/hub/var/storage');
});

test('a file: URL names the directory', () => {
  const store = createObjectStore('file:///mnt/shared/hub%20files', '/var');
  expect((store as LocalDiskStore).root).toBe('/mnt/shared/hub files');
});

test('an s3: URL names bucket, prefix and an encoded endpoint', () => {
  const store = createObjectStore(
    's3://hub-files/prod/eu?endpoint=http%3A%2F%2Fminio%3A9000&region=cn-north-1&forcePathStyle=true',
    '/var',
  );
  expect(store.kind).toBe('s3');
});

test.each([
  ['ftp://x/y', /must be file:/],
  ['not a url', /must be file:/],
])('HUB_STORAGE_URL=%s stops start-up with one clear line', (url, message) => {
  expect(() => loadHubConfig({ HUB_DATA_DIR: '/tmp/x', HUB_STORAGE_URL: url })).toThrow(message);
});

test('an s3: URL without a bucket is refused', () => {
  expect(() => createObjectStore('s3:///prefix', '/var')).toThrow(/bucket is missing/);
});
