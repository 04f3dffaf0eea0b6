import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ReadPage } from '../sdk/connector.ts';
import { MappingError } from '../sdk/connector-errors.ts';
import type { CompletionConvention, StableSizeObservation } from '../sdk/files/completion-conventions.ts';
import {
  acceptedRecords,
  checkFile,
  DEFAULT_PARTNER_FILE_LIMITS,
  type FileLayout,
  type FileRecord,
  formatProblems,
} from '../sdk/files/file-layout.ts';
import type { SftpTransport } from '../sdk/files/sftp-transport.ts';

/**
 * The cursor of a file stream: the files (by SHA-256 of their bytes) whose records were
 * committed, newest last. It is what makes the stream exactly-once without a table of its own:
 * the sync engine stores it only after a page's records commit, so a file whose hash is in the
 * stored cursor was imported, whatever happened after (the process may have died before the file
 * was moved): the next run only archives it. The same content under another name is found by
 * its hash too. Bounded to the last `MAX_REMEMBERED` files.
 */
interface FileStreamCursor {
  v: 1;
  /** Files imported so far in this stream's life: orders cursors. */
  seq: number;
  /** `[sha256, file name, imported at (epoch ms)]`. */
  files: Array<[string, string, number]>;
  /** The `stable-size` convention's last observation. */
  observed?: StableSizeObservation;
}

interface Continuation {
  state: FileStreamCursor;
  /** The file being read (sha256) and how many of its records were handed over. */
  file?: string;
  after?: number;
}

const MAX_REMEMBERED = 500;
const MAX_OBSERVED = 2_000;

export interface FileStreamSpec {
  directory: string;
  accept: RegExp;
  convention: CompletionConvention;
  layout: FileLayout;
  /** A file's accepted rows → the stream's records (each carries `file`). */
  toRecords(rows: FileRecord[], fileName: string): Array<Record<string, unknown>>;
  /** Files committed longer ago than this are moved to archive/ (ms). */
  archiveDelayMs: number;
  now: () => Date;
}

function emptyCursor(): FileStreamCursor {
  return { v: 1, seq: 0, files: [] };
}

function decode<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new MappingError(`The ${what} is not one this connector wrote`, undefined, { cause: error });
  }
}

export function decodeCursor(text: string | null): FileStreamCursor {
  if (text === null) return emptyCursor();
  const cursor = decode<FileStreamCursor>(text, 'cursor');
  if (cursor?.v !== 1 || !Array.isArray(cursor.files) || typeof cursor.seq !== 'number') {
    throw new MappingError('The cursor is not one this connector wrote');
  }
  return cursor;
}

export function compareFileCursors(a: string, b: string): number {
  return decodeCursor(a).seq - decodeCursor(b).seq;
}

function withFile(state: FileStreamCursor, sha256: string, name: string, at: number): FileStreamCursor {
  return {
    ...state,
    seq: state.seq + 1,
    files: [...state.files, [sha256, name, at] as [string, string, number]].slice(-MAX_REMEMBERED),
  };
}

/**
 * Reads one file stream: the complete files of the folder in name order, each read whole and
 * checked against the layout before any of its records is handed over, then paged. A refused
 * file goes to `error/` with its `.err` report and yields nothing. Files in the stored cursor are
 * archived (or left until `archiveDelayMs` passed) and never read again. The last page of a file
 * carries the cursor that includes it; earlier pages carry the cursor before it, so a run cut
 * short in the middle of a file re-reads that file from its start.
 */
export async function* readFileStream(
  sftp: SftpTransport,
  spec: FileStreamSpec,
  cursorText: string | null,
  options: { pageSize: number; continuation?: string | null },
): AsyncGenerator<ReadPage> {
  const committed = decodeCursor(cursorText);
  const resumed = options.continuation
    ? decode<Continuation>(options.continuation, 'continuation')
    : undefined;
  let state: FileStreamCursor = resumed?.state ?? committed;
  const committedFiles = new Map(committed.files.map(([sha, name, at]) => [sha, { name, at }]));
  const seenInRun = new Set(state.files.map(([sha]) => sha));
  const listing = await sftp.completeFiles(spec.directory, spec.convention, state.observed);
  const observationChanged =
    spec.convention.kind === 'stable-size' &&
    JSON.stringify(listing.observation) !== JSON.stringify(state.observed ?? {});
  if (spec.convention.kind === 'stable-size') {
    state = {
      ...state,
      observed: Object.fromEntries(Object.entries(listing.observation).slice(0, MAX_OBSERVED)),
    };
  }
  const maxBytes = spec.layout.limits?.maxFileBytes ?? DEFAULT_PARTNER_FILE_LIMITS.maxFileBytes;
  const work = await mkdtemp(path.join(tmpdir(), 'wms-read-'));
  let pending: ReadPage | undefined;
  const page = (records: Array<Record<string, unknown>>, continuation: Continuation): ReadPage => ({
    records,
    nextCursor: JSON.stringify(state),
    continuation: JSON.stringify(continuation),
  });
  try {
    for (const file of listing.complete.filter((entry) => spec.accept.test(entry.name))) {
      const local = path.join(work, 'current');
      if (file.size > maxBytes) {
        await sftp.reject(
          spec.directory,
          file,
          formatProblems(file.name, [
            { code: 'file-too-large', message: `The file is larger than ${maxBytes} bytes` },
          ]),
        );
        continue;
      }
      const { sha256 } = await sftp.download(path.posix.join(spec.directory, file.name), local, maxBytes);
      const imported = committedFiles.get(sha256);
      if (imported) {
        if (spec.now().getTime() - imported.at >= spec.archiveDelayMs)
          await sftp.archive(spec.directory, file, spec.now());
        continue;
      }
      if (seenInRun.has(sha256)) continue;
      const checked = await checkFile(local, spec.layout);
      if (!checked.accepted) {
        await sftp.reject(
          spec.directory,
          file,
          formatProblems(file.name, checked.problems, checked.truncated),
        );
        continue;
      }
      const rows: FileRecord[] = [];
      for await (const record of acceptedRecords(local, spec.layout, checked)) rows.push(record);
      const records = spec.toRecords(rows, file.name);
      seenInRun.add(sha256);
      const start = resumed?.file === sha256 ? (resumed.after ?? 0) : 0;
      if (records.length <= start) {
        state = withFile(state, sha256, file.name, spec.now().getTime());
        if (pending) yield pending;
        pending = page([], { state });
        continue;
      }
      for (let offset = start; offset < records.length; offset += options.pageSize) {
        const chunk = records.slice(offset, offset + options.pageSize);
        const lastOfFile = offset + chunk.length >= records.length;
        if (lastOfFile) state = withFile(state, sha256, file.name, spec.now().getTime());
        if (pending) yield pending;
        pending = page(chunk, lastOfFile ? { state } : { state, file: sha256, after: offset + chunk.length });
      }
    }
    if (pending) yield { ...pending, continuation: null };
    else if (observationChanged) yield { records: [], nextCursor: JSON.stringify(state), continuation: null };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
