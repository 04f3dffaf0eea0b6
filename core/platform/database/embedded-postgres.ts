import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { keepProtocolSequencesTogether } from './pglite-protocol-sequences.ts';

export interface EmbeddedPostgres {
  /** A `postgres://` URL on loopback that the `pg` driver and BullMQ use like a real server. */
  url: string;
  stop(): Promise<void>;
}

/**
 * The zero-server default: PGlite (WASM PostgreSQL) with its data on disk, served on 127.0.0.1
 * through pglite-socket so every part of the hub talks to it with the ordinary `pg` driver.
 *
 * PGlite is one PostgreSQL session shared by all socket connections (the server multiplexes them
 * and keeps a transaction on the connection that opened it). Startup parameters such as
 * `options=-c search_path=...` are therefore ignored, so the session's search_path is set here
 * once: BullMQ's PostgreSQL backend relies on it to find its unqualified tables in schema
 * `bullmq`. The hub's own tables are always schema-qualified, so they do not depend on it.
 *
 * Contrib extensions the migrations create (`CREATE EXTENSION pg_trgm` for catalog search) must be
 * loaded here: PGlite bundles them but only installs the ones passed to `PGlite.create`.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  options: { port?: number } = {},
): Promise<EmbeddedPostgres> {
  const dir = path.join(dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create({ dataDir: dir, extensions: { pg_trgm } });
  await db.exec('CREATE SCHEMA IF NOT EXISTS bullmq; SET search_path TO bullmq, public;');
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: options.port ?? 0,
    maxConnections: 64,
  });
  keepProtocolSequencesTogether((server as unknown as { queryQueue: unknown }).queryQueue);
  await server.start();
  const address = server.getServerConn();
  return {
    url: `postgres://postgres@${address}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
