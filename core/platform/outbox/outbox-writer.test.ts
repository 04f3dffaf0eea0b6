import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Database } from '../database/database.ts';
import { applyMigrations } from '../database/migrations.ts';
import { platformMigrations } from '../migrations.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-servers.ts';
import { InvalidOutboxMessage, writeOutbox } from './outbox-writer.ts';

const COMPANY = '6f1d2c3e-8a9b-4c5d-9e0f-1a2b3c4d5e6f';

let database: TestDatabase;
let db: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await applyMigrations(db, [platformMigrations]);
});

afterAll(async () => {
  await database.drop();
});

describe('writeOutbox', () => {
  it('records events and jobs in the caller transaction, returning ids in message order', async () => {
    const ids = await db.transaction((tx) =>
      writeOutbox(
        tx,
        [
          {
            kind: 'event',
            name: 'company.created',
            companyId: COMPANY,
            payload: { name: 'ACME', credit: 10n ** 18n },
          },
          {
            kind: 'job',
            job: { queue: 'erp-push', name: 'push-company', key: `company:${COMPANY}:push`, data: { a: 1 } },
          },
          { kind: 'event', name: 'company.renamed', payload: {} },
        ],
        { requestId: 'req-1' },
      ),
    );
    expect(ids).toHaveLength(3);
    expect(ids[0]! < ids[1]! && ids[1]! < ids[2]!).toBe(true);

    const { rows } = await db.query(
      'SELECT id, kind, topic, payload, company_id, request_id, published_at, attempts FROM platform.outbox WHERE id = ANY($1::bigint[]) ORDER BY id',
      [ids.map(String)],
    );
    expect(rows).toEqual([
      {
        id: ids[0],
        kind: 'event',
        topic: 'company.created',
        // bigint money survives exactly, as a decimal string
        payload: { name: 'ACME', credit: '1000000000000000000' },
        company_id: COMPANY,
        request_id: 'req-1',
        published_at: null,
        attempts: 0,
      },
      {
        id: ids[1],
        kind: 'job',
        topic: 'erp-push',
        payload: { queue: 'erp-push', name: 'push-company', key: `company:${COMPANY}:push`, data: { a: 1 } },
        company_id: null,
        request_id: 'req-1',
        published_at: null,
        attempts: 0,
      },
      {
        id: ids[2],
        kind: 'event',
        topic: 'company.renamed',
        payload: {},
        company_id: null,
        request_id: 'req-1',
        published_at: null,
        attempts: 0,
      },
    ]);
  });

  it('leaves nothing behind when the caller rolls back', async () => {
    const before = await db.query<{ count: bigint }>('SELECT count(*) AS count FROM platform.outbox');
    await expect(
      db.transaction(async (tx) => {
        await writeOutbox(tx, [{ kind: 'event', name: 'order.placed', payload: { orderId: 1 } }]);
        throw new Error('state change failed after the outbox write');
      }),
    ).rejects.toThrow('state change failed');
    const after = await db.query<{ count: bigint }>('SELECT count(*) AS count FROM platform.outbox');
    expect(after.rows[0]!.count).toBe(before.rows[0]!.count);
  });

  it('writes nothing and queries nothing for an empty list', async () => {
    const queries: string[] = [];
    const recordingTx = {
      query: async (text: string) => {
        queries.push(text);
        return { rows: [] };
      },
    };
    expect(await writeOutbox(recordingTx as never, [])).toEqual([]);
    expect(queries).toEqual([]);
  });

  it.each([
    [{ kind: 'event', name: 'CompanyCreated', payload: {} }, /entity.verb-ed/],
    [{ kind: 'event', name: 'company.created', companyId: 'acme', payload: {} }, /uuid/],
    [{ kind: 'job', job: { queue: 'erp:push', name: 'push', key: 'k', data: {} } }, /Queue name/],
    [{ kind: 'job', job: { queue: 'erp-push', name: 'push', key: '', data: {} } }, /idempotency key/],
  ] as const)('refuses an invalid message before anything is written (%#)', async (message, error) => {
    await expect(db.transaction((tx) => writeOutbox(tx, [message as never]))).rejects.toThrow(
      InvalidOutboxMessage,
    );
    await expect(db.transaction((tx) => writeOutbox(tx, [message as never]))).rejects.toThrow(error);
  });
});
