import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CompletionConvention, StableSizeObservation } from './completion-conventions.ts';
import {
  DEFAULT_PARTNER_FILE_LIMITS,
  type FileLayout,
  type FileProblem,
  type FileRecord,
  formatProblems,
  parseFile,
} from './file-layout.ts';
import type { ImportedFileStore } from './imported-file-store.ts';
import type { SftpTransport } from './sftp-transport.ts';

/** One folder of one connection that a partner drops files into. */
export interface FileIntakeSource {
  /** The connection's id: the dedupe scope. */
  connection: string;
  /** The folder, e.g. `/outbound/shipments`; `archive/` and `error/` are made beside the files. */
  directory: string;
  convention: CompletionConvention;
  layout: FileLayout;
  /** Names to take (e.g. `^SHIPCONF_.*\.csv$`); others are left where they are. Default: all. */
  accept?: RegExp;
  /** Files taken in one poll (default 50); the rest wait for the next poll, oldest name first. */
  maxFilesPerPoll?: number;
}

/** A file being imported, as the handler sees it. */
export interface IntakeFile {
  connection: string;
  directory: string;
  name: string;
  sha256: string;
  size: number;
}

/**
 * Receives the records of an accepted file, batch by batch, in row order. Its effect must be
 * idempotent per record (inbound upserts keyed by external id, as every sync is): a process that
 * dies between a batch and the file's dedupe record replays the file on the next poll. A handler
 * that wants exactly-once records the file itself in its last transaction
 * (`PgImportedFileStore.record(file, tx)`). A handler that throws leaves the file in the folder
 * and the error propagates to the caller (the job), which retries by the error's class.
 */
export type IntakeHandler = (file: IntakeFile, records: FileRecord[]) => Promise<void>;

export interface IntakeResult {
  imported: Array<{ name: string; sha256: string; rows: number; skipped: FileProblem[] }>;
  /** Content already imported on this connection (under this or another name): archived, not imported. */
  duplicates: Array<{ name: string; sha256: string; importedAs: string }>;
  rejected: Array<{ name: string; problems: FileProblem[] }>;
  /** The `stable-size` observation to pass to the next poll. */
  observation: StableSizeObservation;
}

/**
 * One poll of a partner's folder: complete files (by the declared convention) → download to a
 * local temporary file, bounded and hashed → already imported on this connection? archive only
 * → read against the layout (all or nothing) → hand the records to `handler` → record the
 * content as imported → archive (`archive/YYYYMMDD/`). A refused file goes to `error/` with a
 * `.err` report beside it and nothing of it reaches the handler.
 */
export async function pollFolder(
  sftp: SftpTransport,
  source: FileIntakeSource,
  store: ImportedFileStore,
  handler: IntakeHandler,
  options: { previous?: StableSizeObservation; batchSize?: number; now?: () => Date } = {},
): Promise<IntakeResult> {
  const now = options.now ?? (() => new Date());
  const listing = await sftp.completeFiles(source.directory, source.convention, options.previous);
  const files = listing.complete
    .filter((file) => !source.accept || source.accept.test(file.name))
    .slice(0, source.maxFilesPerPoll ?? 50);
  const result: IntakeResult = {
    imported: [],
    duplicates: [],
    rejected: [],
    observation: listing.observation,
  };
  const maxBytes = source.layout.limits?.maxFileBytes ?? DEFAULT_PARTNER_FILE_LIMITS.maxFileBytes;
  const work = await mkdtemp(path.join(tmpdir(), 'file-intake-'));
  try {
    for (const file of files) {
      const remotePath = path.posix.join(source.directory, file.name);
      const localPath = path.join(work, 'current');
      if (file.size > maxBytes) {
        const problems = [{ code: 'file-too-large', message: `The file is larger than ${maxBytes} bytes` }];
        await sftp.reject(source.directory, file, formatProblems(file.name, problems));
        result.rejected.push({ name: file.name, problems });
        continue;
      }
      const downloaded = await sftp.download(remotePath, localPath, maxBytes);
      const known = await store.find(source.connection, downloaded.sha256);
      if (known) {
        await sftp.archive(source.directory, file, now());
        result.duplicates.push({ name: file.name, sha256: downloaded.sha256, importedAs: known.fileName });
        continue;
      }
      const intakeFile: IntakeFile = {
        connection: source.connection,
        directory: source.directory,
        name: file.name,
        sha256: downloaded.sha256,
        size: downloaded.size,
      };
      const parsed = await parseFile(localPath, source.layout, (records) => handler(intakeFile, records), {
        batchSize: options.batchSize,
      });
      if (!parsed.accepted) {
        await sftp.reject(
          source.directory,
          file,
          formatProblems(file.name, parsed.problems, parsed.truncated),
        );
        result.rejected.push({ name: file.name, problems: parsed.problems });
        continue;
      }
      await store.record({
        connection: source.connection,
        sha256: downloaded.sha256,
        fileName: file.name,
        size: downloaded.size,
        rows: parsed.rows,
      });
      await sftp.archive(source.directory, file, now());
      result.imported.push({
        name: file.name,
        sha256: downloaded.sha256,
        rows: parsed.rows,
        skipped: parsed.skipped,
      });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return result;
}
