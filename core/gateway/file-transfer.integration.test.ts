import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Context, ServiceSchema } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { accountsModule } from '../accounts/accounts.module.ts';
import { DEMO_BUYER, DEMO_STAFF, seedDemoAccounts } from '../accounts/demo-data.ts';
import { type RunningHub, startHub } from '../hub.ts';
import { loadHubConfig } from '../platform/config/hub-config.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { sendFile, uploadOf } from '../platform/http/uploads.ts';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { http, logInAs } from '../platform/testing/start-test-hub.ts';
import { createTestDatabase, type TestDatabase, uniqueName } from '../platform/testing/test-servers.ts';
import { createGatewayModule } from './gateway.module.ts';

const MAX_BYTES = 64 * 1024;

/** A module that keeps uploaded files and hands them back: the gateway's file routes end to end. */
const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/staff/test-files',
    action: 'test-files.upload',
    operationId: 'uploadTestFile',
    tag: 'test',
    summary: 'Keep a file',
    audience: 'staff',
    successStatus: 201,
    upload: { contentTypes: ['text/csv', 'application/pdf'], maxBytes: MAX_BYTES },
  },
  {
    method: 'GET',
    path: '/api/staff/test-files/:id',
    action: 'test-files.download',
    operationId: 'downloadTestFile',
    tag: 'test',
    summary: 'A kept file',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    download: { contentTypes: ['text/csv', 'application/pdf'] },
  },
];

const kept = new Map<string, { contentType: string; filename: string }>();
const filesModule: HubModule = {
  name: 'test-files',
  description: 'test module',
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => ({
    name: 'test-files',
    actions: {
      upload: {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const upload = uploadOf(ctx);
          const id = randomUUID();
          const stored = await platform.storage.put(`test/${id}`, upload.stream, {
            contentType: upload.contentType,
          });
          kept.set(id, { contentType: upload.contentType, filename: upload.filename ?? 'file' });
          return { id, filename: upload.filename ?? null, size: stored.size, sha256: stored.sha256 };
        },
      },
      download: {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const file = kept.get(ctx.params.id);
          const body = await platform.storage.get(`test/${ctx.params.id}`);
          return sendFile(ctx, { contentType: file!.contentType, filename: file!.filename }, body);
        },
      },
    },
  }),
};

let database: TestDatabase;
let hub: RunningHub;
let baseUrl: string;
let dataDir: string;
let staff: string;
let buyer: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = `/tmp/${uniqueName('hub-files')}`;
  const config = loadHubConfig({
    DATABASE_URL: database.url,
    HUB_DATA_DIR: dataDir,
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    HUB_NAMESPACE: uniqueName('test'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const modules = [accountsModule, filesModule];
  hub = await startHub(config, { modules: [...modules, createGatewayModule(modules)] });
  await seedDemoAccounts(hub.platform.db);
  const gateway = hub.broker.getLocalService('gateway') as unknown as {
    server: { address(): { port: number } };
  };
  baseUrl = `http://127.0.0.1:${gateway.server.address().port}`;
  staff = await logInAs(baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  buyer = await logInAs(baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  await database?.drop();
});

function upload(body: string | Uint8Array | ReadableStream, headers: Record<string, string>, token = staff) {
  return fetch(`${baseUrl}/api/staff/test-files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
}

test('a file goes up as the raw body and comes back byte for byte, with its Chinese name', async () => {
  const content = Buffer.from('SKU编码,数量\nM8-SS-HEX,100\n', 'utf8');
  const answer = await upload(content, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent('报价单 11月.csv')}`,
  });
  expect(answer.status).toBe(201);
  const stored = (await answer.json()) as { id: string };
  expect(stored).toEqual({
    id: expect.any(String),
    filename: '报价单 11月.csv',
    size: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
  });

  const download = await fetch(`${baseUrl}/api/staff/test-files/${stored.id}`, {
    headers: { authorization: `Bearer ${staff}` },
  });
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(download.headers.get('content-disposition')).toContain(
    `filename*=UTF-8''${encodeURIComponent('报价单 11月.csv').replace(/%20/g, '%20')}`,
  );
  expect(download.headers.get('x-content-type-options')).toBe('nosniff');
  expect(download.headers.get('cache-control')).toBe('private, no-store');
  expect(Buffer.from(await download.arrayBuffer()).equals(content)).toBe(true);
});

test('a path in the file name is dropped: X-Filename keeps only the last segment', async () => {
  const answer = await upload('a,b\n', {
    'content-type': 'text/csv',
    'x-filename': encodeURIComponent('../../etc/清单.csv'),
  });
  expect(answer.status).toBe(201);
  expect(((await answer.json()) as { filename: string }).filename).toBe('清单.csv');
});

test('a media type the route does not take is a 415 problem naming the accepted ones', async () => {
  const answer = await upload('{"a":1}', { 'content-type': 'application/json' });
  expect(answer.status).toBe(415);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(await answer.json()).toMatchObject({ detail: 'The body must be one of text/csv, application/pdf' });
  const none = await upload('x', {});
  expect(none.status).toBe(415);
});

test('a body over the bound is a 413, whether declared up front or streamed in chunks, and nothing is kept', async () => {
  const before = readdirSync(path.join(dataDir, 'storage', 'test')).length;
  const declared = await upload(randomBytes(MAX_BYTES + 1), { 'content-type': 'application/pdf' });
  expect(declared.status).toBe(413);

  const chunks = Array.from({ length: 5 }, () => randomBytes(20 * 1024));
  const streamed = await upload(
    new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    }),
    { 'content-type': 'application/pdf' },
  );
  expect(streamed.status).toBe(413);
  expect(await streamed.json()).toMatchObject({ type: 'https://hub.local/problems/body-too-large' });
  expect(readdirSync(path.join(dataDir, 'storage', 'test')).length).toBe(before);
  expect(readdirSync(path.join(dataDir, 'storage', '.incoming'))).toEqual([]);
});

test('upload routes keep their audience: 401 without a token, 403 for a buyer', async () => {
  const anonymous = await fetch(`${baseUrl}/api/staff/test-files`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv' },
    body: 'a',
  });
  expect(anonymous.status).toBe(401);
  const asBuyer = await upload('a', { 'content-type': 'text/csv' }, buyer);
  expect({ status: asBuyer.status, body: await asBuyer.json() }).toMatchObject({
    status: 403,
    body: { status: 403 },
  });
});

test('the OpenAPI document describes the file body and the file answer by media type', async () => {
  const { body } = await http(baseUrl, 'GET', '/api/openapi.json');
  const up = body.paths['/api/staff/test-files'].post;
  expect(Object.keys(up.requestBody.content)).toEqual(['text/csv', 'application/pdf']);
  expect(up.responses).toHaveProperty('413');
  expect(up.responses).toHaveProperty('415');
  const down = body.paths['/api/staff/test-files/{id}'].get;
  expect(Object.keys(down.responses['200'].content)).toEqual(['text/csv', 'application/pdf']);
});
