import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { parse as parseContentDisposition } from 'content-disposition';
import { seedDemoAccounts } from './accounts/demo-data.ts';
import { seedDemoCatalog } from './catalog/demo-data.ts';
import { readPdf, readXlsx } from './catalog/export/testing/read-export.ts';
import { migrate, selectModules } from './hub.ts';
import { freePort, type HubProcess, spawnHub } from './platform/testing/hub-process.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testServers,
  uniqueName,
} from './platform/testing/test-servers.ts';
import { waitFor } from './platform/testing/wait-for.ts';

/**
 * The export across the NATS mesh: the edge process runs only the gateway, the core process the
 * catalog and search. The file is a stream answered on the core node, and its headers
 * (`$responseType`, `Content-Disposition`) travel back in the response meta.
 */
let database: TestDatabase;
let edge: HubProcess;
let core: HubProcess;
let baseUrl: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.db, selectModules(undefined));
  await seedDemoAccounts(database.db);
  await seedDemoCatalog(database.db);
  const shared = {
    DATABASE_URL: database.url,
    REDIS_URL: testServers.redis,
    NATS_URL: testServers.nats,
    HUB_NAMESPACE: uniqueName('export'),
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
  };
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  edge = spawnHub(['start'], {
    ...shared,
    HUB_SERVICES: 'gateway',
    HUB_NODE_ID: 'edge-1',
    PORT: String(port),
  });
  core = spawnHub(['start'], {
    ...shared,
    HUB_SERVICES: 'accounts,catalog,catalog-search,jobs,outbox',
    HUB_NODE_ID: 'core-1',
    PORT: String(await freePort()),
  });
  // Generous: two processes load every module at once, on a 2-core machine.
  await Promise.all([edge.waitFor(/"msg":"hub ready"/, 90_000), core.waitFor(/"msg":"hub ready"/, 90_000)]);
  // Discovery over NATS, then the search's catch-up sync indexes the seeded catalog.
  await waitFor(
    async () => {
      const answer = await fetch(`${baseUrl}/api/catalog/search?limit=1`);
      return answer.status === 200 && ((await answer.json()) as { total: number }).total > 0;
    },
    'the edge gateway to reach an indexed search',
    60_000,
  );
}, 180_000);

afterAll(async () => {
  await Promise.all([edge?.stop(), core?.stop()]);
  await database?.drop();
});

test('a guest exports a search through the edge gateway: streamed from the core node with its headers', async () => {
  for (const format of ['pdf', 'xlsx'] as const) {
    const answer = await fetch(
      `${baseUrl}/api/catalog/search/export?format=${format}&q=${encodeURIComponent('球阀')}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe(
      format === 'pdf'
        ? 'application/pdf'
        : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const disposition = parseContentDisposition(answer.headers.get('content-disposition')!);
    expect(disposition.parameters.filename).toMatch(new RegExp(`^商品搜索-球阀-.*\\.${format}$`));
    const body = Buffer.from(await answer.arrayBuffer());
    if (format === 'pdf') {
      expect((await readPdf(body)).text).toContain('球阀');
    } else {
      const book = await readXlsx(body);
      expect(book.rows.length).toBeGreaterThan(0);
      for (const row of book.rows) expect(String(row['中文名称'])).toContain('球阀');
    }
  }
}, 60_000);
