import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import SftpClient from 'ssh2-sftp-client';
import { ConnectorPermanentError, ConnectorRetryableError, NotConnectedError } from '../connector-errors.ts';
import {
  type CompleteFile,
  type CompletionConvention,
  pickCompleteFiles,
  type RemoteEntry,
  type StableSizeObservation,
} from './completion-conventions.ts';
import { toFileTransferError } from './file-transfer-errors.ts';

type HostKeyAlgorithms = NonNullable<NonNullable<SftpClient.ConnectOptions['algorithms']>['serverHostKey']>;

/** How to reach a partner's SFTP server. Secrets (`privateKey`, `passphrase`, `password`) stay in memory. */
export interface SftpConnectionConfig {
  host: string;
  port?: number;
  username: string;
  privateKey?: string;
  passphrase?: string;
  password?: string;
  /**
   * The server's host key, pinned: `SHA256:<base64>` exactly as `ssh-keygen -lf <key>.pub` (or
   * OpenSSH's first-connection prompt) prints it. Any other key refuses the connection.
   */
  hostKeyFingerprint: string;
  /**
   * Host key types to accept, in order (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-512`, ...).
   * A server with several host keys presents the one the client prefers; name the pinned key's
   * type here when it is not the client's first choice (ssh2 prefers ed25519, then ECDSA, then RSA).
   */
  hostKeyAlgorithms?: HostKeyAlgorithms;
  /** Handshake and login (default 20 s). */
  connectTimeoutMs?: number;
  /** One remote operation (list, rename, stat; default 30 s). Streams use `idleTimeoutMs`. */
  operationTimeoutMs?: number;
  /** A transfer with no byte moving for this long is abandoned (default 30 s). */
  idleTimeoutMs?: number;
}

export interface DownloadedFile {
  size: number;
  /** Hex SHA-256 of the bytes as downloaded. */
  sha256: string;
}

/** `rename` extensions an OpenSSH server announces at SFTP init. */
const POSIX_RENAME = 'posix-rename@openssh.com';

/**
 * An SFTP session with a partner's server (ssh2-sftp-client over ssh2). Connects only to the
 * pinned host key; every failure leaves as an error of the file-transfer taxonomy
 * (`file-transfer-errors.ts`). One instance is one session: `connect`, work, `end`.
 *
 * Writing is all or nothing for the reader on the other side: bytes go to `<name>.tmp` and are
 * renamed when complete. A plain SFTP rename fails when the target exists (OpenSSH implements it
 * as link + unlink), which is the no-overwrite guarantee; `posix-rename@openssh.com` (which
 * replaces atomically) is used only when an overwrite is asked for, or when the server's plain
 * rename fails for another reason (filesystems without hard links) and the target is absent.
 */
export class SftpTransport {
  readonly #client: SftpClient;
  readonly #config: SftpConnectionConfig;

  private constructor(client: SftpClient, config: SftpConnectionConfig) {
    this.#client = client;
    this.#config = config;
  }

  static async connect(config: SftpConnectionConfig): Promise<SftpTransport> {
    const expected = normaliseFingerprint(config.hostKeyFingerprint);
    if (!expected) {
      throw new ConnectorPermanentError(
        `The host key fingerprint of ${config.host} is not of the form SHA256:<base64> (as ssh-keygen -l prints it)`,
      );
    }
    const client = new SftpClient('hub-file-exchange');
    let presented: string | undefined;
    const what = `connect to sftp://${config.username}@${config.host}:${config.port ?? 22}`;
    try {
      await withTimeout(
        client.connect({
          host: config.host,
          port: config.port ?? 22,
          username: config.username,
          ...(config.privateKey ? { privateKey: config.privateKey } : {}),
          ...(config.passphrase ? { passphrase: config.passphrase } : {}),
          ...(config.password ? { password: config.password } : {}),
          readyTimeout: config.connectTimeoutMs ?? 20_000,
          ...(config.hostKeyAlgorithms ? { algorithms: { serverHostKey: config.hostKeyAlgorithms } } : {}),
          hostVerifier: (key: Buffer) => {
            presented = fingerprintOf(key);
            return fingerprintsEqual(presented, expected);
          },
        }),
        (config.connectTimeoutMs ?? 20_000) + 5_000,
        what,
      );
    } catch (error) {
      await client.end().catch(() => undefined);
      if (presented !== undefined && !fingerprintsEqual(presented, expected)) {
        throw new NotConnectedError(
          `${what}: the server presented host key ${presented}, not the pinned ${expected}; refused (a changed server key must be confirmed and pinned again)`,
        );
      }
      throw toFileTransferError(error, what);
    }
    return new SftpTransport(client, config);
  }

  async end(): Promise<void> {
    await this.#client.end().catch(() => undefined);
  }

  #op<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return withTimeout(operation(), this.#config.operationTimeoutMs ?? 30_000, what).catch(
      (error: unknown) => {
        throw toFileTransferError(error, what);
      },
    );
  }

  /** The regular files of a folder (no folders, no links), unordered. */
  async list(directory: string): Promise<RemoteEntry[]> {
    const listing = await this.#op(`list ${directory}`, () => this.#client.list(directory));
    return listing
      .filter((entry) => entry.type === '-')
      .map((entry) => ({ name: entry.name, size: entry.size, modifiedAt: entry.modifyTime }));
  }

  /** The complete files of a folder by the producer's convention (see `completion-conventions.ts`). */
  async completeFiles(
    directory: string,
    convention: CompletionConvention,
    previous?: StableSizeObservation,
  ): Promise<{ complete: CompleteFile[]; observation: StableSizeObservation }> {
    return pickCompleteFiles(await this.list(directory), convention, previous);
  }

  async exists(remotePath: string): Promise<boolean> {
    return (await this.#op(`stat ${remotePath}`, () => this.#client.exists(remotePath))) !== false;
  }

  /**
   * Streams a remote file into a local file, hashing as it goes. More than `maxBytes` stops the
   * transfer with a permanent error (the file is refused, not truncated); no byte for
   * `idleTimeoutMs` with a retryable one.
   */
  async download(remotePath: string, localPath: string, maxBytes: number): Promise<DownloadedFile> {
    const what = `download ${remotePath}`;
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback: TransformCallback) {
        size += chunk.length;
        if (size > maxBytes) {
          callback(new ConnectorPermanentError(`${what}: the file is larger than ${maxBytes} bytes`));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      const source = this.#client.createReadStream(remotePath);
      await pipeline(
        source,
        idleGuard(this.#config.idleTimeoutMs ?? 30_000, what),
        meter,
        createWriteStream(localPath),
      );
    } catch (error) {
      throw toFileTransferError(error, what);
    }
    return { size, sha256: hash.digest('hex') };
  }

  async mkdir(directory: string): Promise<void> {
    await this.#op(`mkdir ${directory}`, async () => {
      if ((await this.#client.exists(directory)) !== 'd') await this.#client.mkdir(directory, true);
    });
  }

  /**
   * Moves a file (and its marker, if any) to `<folder>/archive/YYYYMMDD/` (UTC). A name already
   * there (the partner sent the same name twice) is kept and this one gets a unique suffix.
   */
  async archive(
    directory: string,
    file: { name: string; marker?: string },
    now = new Date(),
  ): Promise<string> {
    const day = now.toISOString().slice(0, 10).replaceAll('-', '');
    return this.#moveInto(directory, path.posix.join(directory, 'archive', day), file);
  }

  /**
   * Moves a refused file (and its marker) to `<folder>/error/` with `<name>.err` beside it: the
   * report the partner reads to fix and resend the file.
   */
  async reject(directory: string, file: { name: string; marker?: string }, report: string): Promise<string> {
    const errorDirectory = path.posix.join(directory, 'error');
    const moved = await this.#moveInto(directory, errorDirectory, file);
    await this.writeFile(errorDirectory, `${path.posix.basename(moved)}.err`, Buffer.from(report, 'utf8'), {
      overwrite: true,
    });
    return moved;
  }

  async #moveInto(from: string, to: string, file: { name: string; marker?: string }): Promise<string> {
    await this.mkdir(to);
    let target = path.posix.join(to, file.name);
    if (await this.exists(target)) target = path.posix.join(to, uniqueName(file.name));
    await this.#renameNoClobber(path.posix.join(from, file.name), target);
    if (file.marker) {
      const marker = `${target}${file.marker.slice(file.name.length)}`;
      await this.#renameNoClobber(path.posix.join(from, file.marker), marker);
    }
    return target;
  }

  /**
   * Writes `content` as `<directory>/<name>`: to `<name>.tmp` first, renamed when complete, so the
   * reader never sees a partial file. An existing `<name>` is never replaced silently: with the
   * same bytes the write is taken as already done (a retry after a lost answer), with other bytes
   * it is refused (permanent) unless `overwrite` is set. Temporary files an earlier attempt left
   * behind (the session died mid-upload) are removed first.
   */
  async writeFile(
    directory: string,
    name: string,
    content: Buffer,
    options: { overwrite?: boolean } = {},
  ): Promise<{ path: string; alreadyThere: boolean }> {
    const target = path.posix.join(directory, name);
    if (!options.overwrite && (await this.exists(target))) {
      if (await this.#sameContent(target, content)) return { path: target, alreadyThere: true };
      throw new ConnectorPermanentError(
        `write ${target}: a different file of that name is already there; not replaced`,
      );
    }
    const leftover = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{8}\\.tmp$`);
    for (const entry of await this.list(directory)) {
      if (leftover.test(entry.name)) {
        await this.#op(`delete ${entry.name}`, () =>
          this.#client.delete(path.posix.join(directory, entry.name), true),
        );
      }
    }
    const temporary = path.posix.join(directory, `${name}.${randomUUID().slice(0, 8)}.tmp`);
    const what = `write ${temporary}`;
    try {
      const sink = this.#client.createWriteStream(temporary);
      await pipeline(Readable.from([content]), idleGuard(this.#config.idleTimeoutMs ?? 30_000, what), sink);
    } catch (error) {
      await this.#client.delete(temporary, true).catch(() => undefined);
      throw toFileTransferError(error, what);
    }
    try {
      if (options.overwrite) await this.#posixRename(temporary, target);
      else await this.#renameNoClobber(temporary, target);
    } catch (error) {
      await this.#client.delete(temporary, true).catch(() => undefined);
      throw error;
    }
    return { path: target, alreadyThere: false };
  }

  /** A small remote file in memory (acknowledgements, a file to compare); larger than `maxBytes` is refused. */
  async readSmallFile(remotePath: string, maxBytes: number): Promise<Buffer> {
    const stat = await this.#op(`stat ${remotePath}`, () => this.#client.stat(remotePath));
    if (stat.size > maxBytes) {
      throw new ConnectorPermanentError(`read ${remotePath}: the file is larger than ${maxBytes} bytes`);
    }
    const there = await this.#op(`read ${remotePath}`, () => this.#client.get(remotePath));
    if (!Buffer.isBuffer(there) || there.length > maxBytes) {
      throw new ConnectorPermanentError(
        `read ${remotePath}: the file grew past ${maxBytes} bytes while read`,
      );
    }
    return there;
  }

  async #sameContent(remotePath: string, content: Buffer): Promise<boolean> {
    const stat = await this.#op(`stat ${remotePath}`, () => this.#client.stat(remotePath));
    if (stat.size !== content.length) return false;
    return (await this.readSmallFile(remotePath, content.length)).equals(content);
  }

  async #renameNoClobber(from: string, to: string): Promise<void> {
    try {
      await withTimeout(
        this.#client.rename(from, to),
        this.#config.operationTimeoutMs ?? 30_000,
        `rename ${from}`,
      );
    } catch (error) {
      if (await this.exists(to)) {
        throw new ConnectorPermanentError(
          `rename ${from} to ${to}: the target exists; not replaced`,
          undefined,
          {
            cause: error,
          },
        );
      }
      if (!(await this.exists(from))) throw toFileTransferError(error, `rename ${from} to ${to}`);
      // Plain rename failed with the target absent (a server without hard links): the atomic
      // POSIX rename is as safe here.
      if (!this.#serverHas(POSIX_RENAME)) throw toFileTransferError(error, `rename ${from} to ${to}`);
      await this.#posixRename(from, to);
    }
  }

  async #posixRename(from: string, to: string): Promise<void> {
    if (!this.#serverHas(POSIX_RENAME)) {
      throw new ConnectorPermanentError(
        `rename ${from} to ${to}: the server cannot replace a file atomically (no ${POSIX_RENAME})`,
      );
    }
    await this.#op(`rename ${from} to ${to}`, () => this.#client.posixRename(from, to));
  }

  #serverHas(extension: string): boolean {
    const sftp = (this.#client as unknown as { sftp?: { _extensions?: Record<string, string> } }).sftp;
    return Boolean(sftp?._extensions?.[extension]);
  }
}

/** `SHA256:<base64 without padding>` of a raw SSH public key blob. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function normaliseFingerprint(value: string): string | undefined {
  const match = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(value.trim());
  return match ? `SHA256:${match[1]}` : undefined;
}

function fingerprintsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** `X.csv` → `X.<time>-<random>.csv`: a name that does not collide with an earlier file. */
function uniqueName(name: string): string {
  const extension = path.posix.extname(name);
  const stem = name.slice(0, name.length - extension.length);
  return `${stem}.${Date.now()}-${randomUUID().slice(0, 8)}${extension}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectorRetryableError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A pass-through that fails when no chunk has passed for `ms`. */
function idleGuard(ms: number, what: string): Transform {
  let timer: NodeJS.Timeout | undefined;
  const guard: Transform = new Transform({
    transform(chunk, _encoding, callback) {
      arm();
      callback(null, chunk);
    },
    flush(callback) {
      clearTimeout(timer);
      callback();
    },
    destroy(error, callback) {
      clearTimeout(timer);
      callback(error);
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => guard.destroy(new ConnectorRetryableError(`${what}: no byte moved for ${ms} ms`)),
      ms,
    );
  };
  arm();
  return guard;
}
