import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Connector, ReadPage } from '../connector.ts';
import { compileConfigSchema, secretFieldNames } from '../connector-config.ts';
import { CONNECTOR_ERROR_CATEGORIES, isConnectorError, NotConnectedError } from '../connector-errors.ts';
import { manifestErrors } from '../connector-manifest.ts';

type Settings = Record<string, unknown>;

/** What a connector's simulator world offers the contract suite. */
export interface ContractWorld {
  connection: { config: Settings; credentials: Settings };
  /** Credentials the remote refuses (a wrong secret). */
  badCredentials: Settings;
  /** Per declared stream: how many records a full read from no cursor returns. */
  streams: Record<string, { expectedRecords: number }>;
  /** Per declared operation: one input and how to count its effect in the simulator. */
  operations: Record<
    string,
    { input: Settings; remoteCount(): number | Promise<number>; expectedRemoteCount: number }
  >;
  close(): Promise<void>;
}

export interface ContractSuiteOptions {
  connector: () => Connector;
  /** Builds the simulator world (seeded so every stream spans several pages of `pageSize`). */
  world: () => Promise<ContractWorld>;
  /** Page size used for stream reads; small, so paging is exercised. */
  pageSize: number;
}

function primaryKeyOf(record: Settings, fields: readonly string[]): string {
  return JSON.stringify(fields.map((field) => record[field] ?? null));
}

async function expectTaxonomyError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(isConnectorError(error)).toBe(true);
    expect(CONNECTOR_ERROR_CATEGORIES).toContain((error as { category: string }).category);
    return error as Error;
  }
  throw new Error('Expected a connector error, but the call succeeded');
}

async function readAll(
  connector: Connector,
  connection: ContractWorld['connection'],
  stream: string,
  pageSize: number,
): Promise<ReadPage[]> {
  const pages: ReadPage[] = [];
  for await (const page of connector.read(connection, stream, null, { pageSize })) pages.push(page);
  return pages;
}

/**
 * The contract every connector keeps, run against its simulator from a `*.test.ts` in the
 * connector's folder: `describeConnectorContract({ connector, world, pageSize })`.
 */
export function describeConnectorContract(options: ContractSuiteOptions): void {
  const connector = options.connector();
  const { manifest } = connector;
  let world: ContractWorld;

  describe(`connector contract: ${manifest.id}`, () => {
    beforeAll(async () => {
      world = await options.world();
    }, 120_000);

    afterAll(async () => {
      await connector.close?.();
      await world?.close();
    });

    it('has a manifest valid against schemas/meta/connector-manifest', () => {
      expect(manifestErrors(manifest)).toEqual([]);
    });

    it('has a config schema that compiles, marks every secret credential x-secret and accepts the test connection', () => {
      const validator = compileConfigSchema(connector.configSchema);
      const secrets = secretFieldNames(connector.configSchema);
      for (const field of manifest.credentials) {
        expect({ field: field.name, secret: secrets.includes(field.name) }).toEqual({
          field: field.name,
          secret: field.kind === 'secret' || field.kind === 'private-key',
        });
      }
      expect(validator.errors({ ...world.connection.config }, world.connection.credentials)).toEqual([]);
      const redacted = JSON.stringify(
        validator.redact({ ...world.connection.config, ...world.connection.credentials }),
      );
      for (const name of secrets) expect(redacted).not.toContain(String(world.connection.credentials[name]));
    });

    it('passes check with good credentials and never echoes a secret', async () => {
      const result = await connector.check(world.connection.config, world.connection.credentials);
      expect(result.summary.length).toBeGreaterThan(0);
      const text = JSON.stringify(result);
      for (const value of Object.values(world.connection.credentials))
        expect(text).not.toContain(String(value));
    });

    it('fails check with bad credentials as not-connected', async () => {
      const error = await expectTaxonomyError(connector.check(world.connection.config, world.badCredentials));
      expect(error).toBeInstanceOf(NotConnectedError);
      for (const value of Object.values(world.badCredentials))
        expect(error.message).not.toContain(String(value));
    });

    for (const stream of manifest.capabilities.streams ?? []) {
      it(`reads stream ${stream.name} to the end, each record once, cursors moving forward`, async () => {
        const expected = world.streams[stream.name];
        if (!expected) throw new Error(`The world declares no expectation for stream ${stream.name}`);
        const pages = await readAll(connector, world.connection, stream.name, options.pageSize);
        const records = pages.flatMap((page) => page.records);
        expect(records).toHaveLength(expected.expectedRecords);
        expect(pages.length).toBeGreaterThan(1);
        for (const page of pages) expect(page.records.length).toBeLessThanOrEqual(options.pageSize);
        const keys = records.map((record) => primaryKeyOf(record, stream.primaryKey));
        expect(new Set(keys).size).toBe(keys.length);
        expect(pages.at(-1)?.continuation).toBeNull();
        if (stream.syncMode === 'incremental') {
          const cursors = pages.map((page) => page.nextCursor);
          for (const cursor of cursors) expect(typeof cursor).toBe('string');
          for (let index = 1; index < cursors.length; index += 1) {
            expect(
              connector.compareCursors(stream.name, cursors[index - 1] as string, cursors[index] as string),
            ).toBeLessThanOrEqual(0);
          }
          // A later run from the stored cursor re-reads at most the look-back window, never everything.
          const again = await readAllFrom(
            connector,
            world.connection,
            stream.name,
            cursors.at(-1) as string,
            options.pageSize,
          );
          expect(again.length).toBeLessThan(records.length);
        }
        // Page-at-a-time continuation (the service's read action) yields the same records.
        const stitched: Settings[] = [];
        let continuation: string | null | undefined;
        do {
          const iterator = connector.read(world.connection, stream.name, null, {
            pageSize: options.pageSize,
            continuation,
          });
          let page: ReadPage | undefined;
          for await (const first of iterator) {
            page = first;
            break;
          }
          if (!page) break;
          stitched.push(...page.records);
          continuation = page.continuation;
        } while (continuation);
        expect(stitched.map((record) => primaryKeyOf(record, stream.primaryKey))).toEqual(keys);
      }, 120_000);
    }

    it('refuses an undeclared stream with a taxonomy error', async () => {
      await expectTaxonomyError(readAll(connector, world.connection, 'noSuchStream', options.pageSize));
    });

    for (const operation of manifest.capabilities.operations ?? []) {
      it(`performs ${operation.name} once under a repeated idempotency key`, async () => {
        const sample = world.operations[operation.name];
        if (!sample) throw new Error(`The world declares no sample for operation ${operation.name}`);
        const key = `contract-${operation.name}`;
        const first = await connector.write(world.connection, operation.name, sample.input, {
          idempotencyKey: key,
        });
        const second = await connector.write(world.connection, operation.name, sample.input, {
          idempotencyKey: key,
        });
        expect(second.externalId).toBe(first.externalId);
        expect(second.outcome).not.toBe('created');
        expect(await sample.remoteCount()).toBe(sample.expectedRemoteCount);
      }, 60_000);
    }

    it('refuses an undeclared operation with a taxonomy error', async () => {
      await expectTaxonomyError(
        connector.write(world.connection, 'noSuchOperation', {}, { idempotencyKey: 'x' }),
      );
    });
  });
}

async function readAllFrom(
  connector: Connector,
  connection: ContractWorld['connection'],
  stream: string,
  cursor: string,
  pageSize: number,
): Promise<Settings[]> {
  const records: Settings[] = [];
  for await (const page of connector.read(connection, stream, cursor, { pageSize }))
    records.push(...page.records);
  return records;
}
