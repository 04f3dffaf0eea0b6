import path from 'node:path';
import type { Queryable } from '../../../core/platform/database/database.ts';
import type { MigrationSet } from '../../../core/platform/database/migrations.ts';

/** One file content imported on one connection. The key is `(connection, sha256)`, not the name. */
export interface ImportedFile {
  connection: string;
  sha256: string;
  fileName: string;
  size: number;
  rows: number;
}

/**
 * What file intake remembers so that the same content is never imported twice on a connection,
 * even under another name, and so that a file imported just before a crash (before it could be
 * archived) is recognised and only archived on the next poll.
 */
export interface ImportedFileStore {
  find(connection: string, sha256: string): Promise<ImportedFile | undefined>;
  /** Records an import; recording the same `(connection, sha256)` again changes nothing. */
  record(file: ImportedFile): Promise<void>;
}

/** For tests and the embedded single process without a sync engine table. */
export class InMemoryImportedFileStore implements ImportedFileStore {
  readonly #files = new Map<string, ImportedFile>();

  async find(connection: string, sha256: string): Promise<ImportedFile | undefined> {
    return this.#files.get(`${connection}\u0000${sha256}`);
  }

  async record(file: ImportedFile): Promise<void> {
    const key = `${file.connection}\u0000${file.sha256}`;
    if (!this.#files.has(key)) this.#files.set(key, { ...file });
  }
}

/** The table behind `PgImportedFileStore` (schema `file_intake`), for the process that runs intake. */
export const fileIntakeMigrations: MigrationSet = {
  domain: 'file_intake',
  directory: path.join(import.meta.dirname, 'migrations'),
};

/**
 * `file_intake.imported_files` on PostgreSQL (or PGlite). `record` takes an optional transaction:
 * a handler that records the file in the same transaction as the file's effect makes the import
 * exactly-once even if the process dies right after; intake's own `record` afterwards is then a
 * no-op.
 */
export class PgImportedFileStore implements ImportedFileStore {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async find(connection: string, sha256: string): Promise<ImportedFile | undefined> {
    const { rows } = await this.#db.query<{ file_name: string; size: string | bigint; rows: number }>(
      'SELECT file_name, size, rows FROM file_intake.imported_files WHERE connection = $1 AND sha256 = $2',
      [connection, sha256],
    );
    const row = rows[0];
    return row
      ? { connection, sha256, fileName: row.file_name, size: Number(row.size), rows: row.rows }
      : undefined;
  }

  async record(file: ImportedFile, tx: Queryable = this.#db): Promise<void> {
    await tx.query(
      `INSERT INTO file_intake.imported_files (connection, sha256, file_name, size, rows)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection, sha256) DO NOTHING`,
      [file.connection, file.sha256, file.fileName, file.size, file.rows],
    );
  }
}
