import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type S3TestServer, startS3TestServer } from '../../platform/testing/s3-test-server.ts';
import { http, logInAs, startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';
import { mp4, pdf } from './testing/media-fixtures.ts';

/**
 * The same media routes with the hub's files in an S3-compatible bucket (s3rver, a real S3 HTTP
 * server): a multipart-sized video and a document go up, come back byte for byte, are replaced
 * and deleted, and the bucket holds exactly the current versions' objects at each step.
 */
const PREFIX = 'hub-media-test';
const MB = 1024 * 1024;

let s3: S3TestServer;
let t: TestHub;
let dataDir: string;
let staff: string;
let bucket: S3Client;
const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

async function objectKeys(): Promise<string[]> {
  const listed = await bucket.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${PREFIX}/` }));
  return (listed.Contents ?? []).map((object) => object.Key!).sort();
}

function send(method: string, url: string, body: Buffer, type: string, name?: string) {
  return fetch(`${t.baseUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${staff}`,
      'content-type': type,
      ...(name ? { 'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}` } : {}),
    },
    body,
  });
}

beforeAll(async () => {
  s3 = await startS3TestServer();
  // The AWS SDK's default credential chain reads these from the process environment.
  process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
  dataDir = mkdtempSync(path.join(tmpdir(), 'hub-media-s3-'));
  t = await startTestHub({ env: { HUB_STORAGE_URL: s3.storageUrl(PREFIX), HUB_DATA_DIR: dataDir } });
  staff = await logInAs(t.baseUrl, 'admin@hub.local', 'demo-admin-password');
  bucket = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: s3.credentials,
  });
}, 90_000);

afterAll(async () => {
  await t?.stop();
  bucket?.destroy();
  await s3?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  for (const [name, value] of [
    ['AWS_ACCESS_KEY_ID', savedEnv.id],
    ['AWS_SECRET_ACCESS_KEY', savedEnv.secret],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

it('keeps media in the bucket: upload, download byte for byte, replace, refuse, delete', async () => {
  expect(t.hub.platform.storage.kind).toBe('s3');
  // Over 5 MB: the store sends it as a multipart upload.
  const video = Buffer.concat([mp4(), randomBytes(12 * MB)]);
  const up = await send(
    'POST',
    '/api/staff/catalog/media?kind=video&access=public',
    video,
    'video/mp4',
    '安装演示.mp4',
  );
  expect(up.status).toBe(201);
  const asset = (await up.json()) as { id: string; sha256: string; size: number };
  expect(asset).toMatchObject({
    size: video.length,
    sha256: createHash('sha256').update(video).digest('hex'),
  });
  const [videoKey] = await objectKeys();
  expect(videoKey).toMatch(new RegExp(`^${PREFIX}/catalog/media/${asset.id}/[0-9a-f-]{36}$`));

  const got = await fetch(`${t.baseUrl}/api/catalog/media/${asset.id}/content`);
  expect(got.status).toBe(200);
  expect(got.headers.get('content-type')).toBe('video/mp4');
  expect(got.headers.get('content-disposition')).toBe(
    `inline; filename="????.mp4"; filename*=UTF-8''${encodeURIComponent('安装演示.mp4')}`,
  );
  expect(Buffer.from(await got.arrayBuffer()).equals(video)).toBe(true);

  // A new version replaces the object; the old one is removed from the bucket.
  const shorter = Buffer.concat([mp4(32), randomBytes(MB)]);
  const replaced = await send('PUT', `/api/staff/catalog/media/${asset.id}/content`, shorter, 'video/mp4');
  expect(replaced.status).toBe(200);
  expect(await replaced.json()).toMatchObject({ version: 2, size: shorter.length });
  const afterReplace = await objectKeys();
  expect(afterReplace).toHaveLength(1);
  expect(afterReplace[0]).not.toBe(videoKey);
  const again = await fetch(`${t.baseUrl}/api/catalog/media/${asset.id}/content`);
  expect(Buffer.from(await again.arrayBuffer()).equals(shorter)).toBe(true);

  // A refused body leaves nothing in the bucket.
  const refused = await send(
    'POST',
    '/api/staff/catalog/media?kind=datasheet&access=public',
    shorter,
    'application/pdf',
  );
  expect(refused.status).toBe(422);
  const doc = await send(
    'POST',
    '/api/staff/catalog/media?kind=datasheet&access=buyers',
    await pdf('s3'),
    'application/pdf',
  );
  expect(doc.status).toBe(201);
  const docId = ((await doc.json()) as { id: string }).id;
  expect((await objectKeys()).length).toBe(2);
  // buyers-only: a guest gets 404, not the object.
  expect((await fetch(`${t.baseUrl}/api/catalog/media/${docId}/content`)).status).toBe(404);

  for (const id of [asset.id, docId]) {
    expect((await http(t.baseUrl, 'DELETE', `/api/staff/catalog/media/${id}`, { token: staff })).status).toBe(
      200,
    );
  }
  expect(await objectKeys()).toEqual([]);
}, 60_000);
