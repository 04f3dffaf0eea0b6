import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalDiskStore } from './local-disk-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3Store } from './s3-store.ts';

/**
 * The store named by `HUB_STORAGE_URL`:
 * - unset or `file:///absolute/dir`: local disk, default `<dataDir>/storage`;
 * - `s3://bucket/prefix?endpoint=http://minio:9000&region=cn-north-1&forcePathStyle=true`:
 *   an S3-compatible bucket, credentials from the AWS SDK's default chain
 *   (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, or an instance role).
 */
export function createObjectStore(storageUrl: string | undefined, dataDir: string): ObjectStore {
  if (!storageUrl) return new LocalDiskStore(path.join(dataDir, 'storage'));
  const url = new URL(storageUrl);
  if (url.protocol === 'file:') {
    return new LocalDiskStore(fileURLToPath(url));
  }
  if (url.protocol === 's3:') {
    if (!url.hostname) throw new Error('HUB_STORAGE_URL s3://<bucket>/<prefix>: the bucket is missing');
    const endpoint = url.searchParams.get('endpoint') ?? undefined;
    const region = url.searchParams.get('region') ?? undefined;
    const pathStyle = url.searchParams.get('forcePathStyle');
    return new S3Store({
      bucket: url.hostname,
      prefix: decodeURIComponent(url.pathname.replace(/^\/+/, '')),
      ...(endpoint ? { endpoint } : {}),
      ...(region ? { region } : {}),
      ...(pathStyle !== null ? { forcePathStyle: pathStyle === 'true' } : {}),
    });
  }
  throw new Error(`HUB_STORAGE_URL=${storageUrl}: only file: and s3: stores are supported`);
}
