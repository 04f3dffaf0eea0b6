import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { type S3TestServer, startS3TestServer } from '../testing/s3-test-server.ts';
import { LocalDiskStore } from './local-disk-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3Store } from './s3-store.ts';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A body that yields `chunks` then fails, like a client that hangs up mid-upload. */
function failingBody(chunks: Buffer[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i < chunks.length) this.push(chunks[i++]);
      else this.destroy(new Error('client went away'));
    },
  });
}

async function bytesOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
}

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3TestServer();
});
afterAll(async () => {
  await s3?.stop();
});

const adapters: Array<[string, () => ObjectStore]> = [
  ['local disk', () => new LocalDiskStore(tempDir('hub-store-'))],
  [
    'S3-compatible bucket',
    () =>
      new S3Store({
        bucket: s3.bucket,
        prefix: `t-${randomBytes(4).toString('hex')}`,
        endpoint: s3.endpoint,
        credentials: s3.credentials,
      }),
  ],
];

describe.each(adapters)('the object store on %s', (_label, make) => {
  let store: ObjectStore;
  beforeAll(() => {
    store = make();
  });
  afterAll(async () => {
    await store.close();
  });

  test('keeps the bytes it was given and reports their size and SHA-256', async () => {
    const body = '编码,名称\nM8-SS,不锈钢六角螺栓\n';
    const stored = await store.put('imports/a1/file.csv', Readable.from([Buffer.from(body)]), {
      contentType: 'text/csv',
    });
    expect(stored).toEqual({
      key: 'imports/a1/file.csv',
      size: Buffer.byteLength(body),
      sha256: sha256(body),
      contentType: 'text/csv',
    });
    expect(await text(await store.get('imports/a1/file.csv'))).toBe(body);
    expect(await store.stat('imports/a1/file.csv')).toEqual({ size: Buffer.byteLength(body) });
  });

  test('streams a body larger than one multipart part without changing a byte', async () => {
    const chunks = Array.from({ length: 12 }, () => randomBytes(1024 * 1024));
    const whole = Buffer.concat(chunks);
    const stored = await store.put('media/big.bin', Readable.from(chunks), {
      contentType: 'application/octet-stream',
    });
    expect(stored.size).toBe(whole.length);
    expect(stored.sha256).toBe(sha256(whole));
    expect(sha256(await bytesOf(await store.get('media/big.bin')))).toBe(sha256(whole));
  }, 30_000);

  test('a body over maxBytes is refused with 413 and the object under that key stays as it was', async () => {
    await store.put('docs/spec.pdf', Readable.from([Buffer.from('version 1')]), {
      contentType: 'application/pdf',
    });
    const tooBig = Readable.from([randomBytes(600), randomBytes(600)]);
    await expect(
      store.put('docs/spec.pdf', tooBig, { contentType: 'application/pdf', maxBytes: 1000 }),
    ).rejects.toMatchObject({ code: 413, type: 'body-too-large' });
    expect(await text(await store.get('docs/spec.pdf'))).toBe('version 1');
    await expect(
      store.put('docs/new.pdf', Readable.from([randomBytes(2000)]), {
        contentType: 'application/pdf',
        maxBytes: 1000,
      }),
    ).rejects.toMatchObject({ code: 413 });
    expect(await store.stat('docs/new.pdf')).toBeUndefined();
  });

  test('a body that fails half-way leaves nothing behind', async () => {
    await expect(
      store.put('imports/broken.csv', failingBody([Buffer.from('a,b\n'), Buffer.from('1,2\n')]), {
        contentType: 'text/csv',
      }),
    ).rejects.toThrow('client went away');
    expect(await store.stat('imports/broken.csv')).toBeUndefined();
  });

  test('a missing object is NotFound; deleting twice is fine', async () => {
    await expect(store.get('nothing/here')).rejects.toMatchObject({ code: 404 });
    await store.put('tmp/x.txt', Readable.from([Buffer.from('x')]), { contentType: 'text/plain' });
    await store.delete('tmp/x.txt');
    await store.delete('tmp/x.txt');
    expect(await store.stat('tmp/x.txt')).toBeUndefined();
  });

  test.each(['../etc/passwd', '/abs/path', 'a/../b', '.hidden', 'a//b', 'a/b/', '', 'x'.repeat(600)])(
    'refuses the key %j',
    async (key) => {
      await expect(
        store.put(key, Readable.from([Buffer.from('x')]), { contentType: 'text/plain' }),
      ).rejects.toThrow('Invalid object key');
      await expect(store.get(key)).rejects.toThrow('Invalid object key');
    },
  );
});

test('the local store writes through an incoming folder and leaves no partial files', async () => {
  const root = tempDir('hub-store-');
  const store = new LocalDiskStore(root);
  await store.put('a/b.txt', Readable.from([Buffer.from('ok')]), { contentType: 'text/plain' });
  await expect(
    store.put('a/c.txt', Readable.from([randomBytes(50)]), { contentType: 'text/plain', maxBytes: 10 }),
  ).rejects.toMatchObject({ code: 413 });
  expect(readdirSync(path.join(root, '.incoming'))).toEqual([]);
  expect(readdirSync(path.join(root, 'a'))).toEqual(['b.txt']);
});
