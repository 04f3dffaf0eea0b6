import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { PayloadTooLarge } from '../errors/hub-errors.ts';

/** What the store knows of an object it holds. */
export interface StoredObject {
  key: string;
  size: number;
  /** Hex SHA-256 of the bytes, computed while they were written. */
  sha256: string;
  contentType: string;
}

export interface PutOptions {
  contentType: string;
  /** Refuse (with `PayloadTooLarge`) and keep nothing once the body passes this many bytes. */
  maxBytes?: number;
}

/**
 * The storage port: where files the hub keeps (uploaded imports, product media and documents,
 * generated reports) live. Domains keep their own metadata (name, owner, access rules) in their
 * tables and address bytes here by key. Two adapters: local disk (default, under `var/storage`)
 * and an S3-compatible bucket (`HUB_STORAGE_URL=s3://...`).
 *
 * A `put` is all or nothing: a body that fails or passes `maxBytes` leaves no object behind, and
 * an existing object under the key is replaced only by a complete new one.
 */
export interface ObjectStore {
  /** `file` or `s3`, for logs and readiness. */
  readonly kind: string;
  put(key: string, body: NodeJS.ReadableStream, options: PutOptions): Promise<StoredObject>;
  /** The object's bytes; `NotFound` when there is none. */
  get(key: string): Promise<NodeJS.ReadableStream>;
  /** Size of the object, or undefined when there is none. */
  stat(key: string): Promise<{ size: number } | undefined>;
  /** Removes the object; removing what is not there is not an error. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Keys are `/`-separated segments of letters, digits, `.`, `_` and `-`, each starting with a
 * letter or digit (so no `..`, no hidden files, no absolute paths), at most 512 characters.
 * Domains build keys from ids they generated, never from client text.
 */
export function assertObjectKey(key: string): void {
  const segments = key.split('/');
  if (key.length > 512 || segments.length > 16 || !segments.every((s) => SEGMENT.test(s))) {
    throw new Error(`Invalid object key ${JSON.stringify(key.slice(0, 100))}`);
  }
}

/**
 * A pass-through that counts and hashes the bytes and fails with `PayloadTooLarge` as soon as
 * they pass `maxBytes` (the body is not read further).
 */
export class MeasuringStream extends Transform {
  readonly #hash = createHash('sha256');
  readonly #maxBytes: number;
  /** Bytes passed so far (not `size`: upload libraries read `Body.size` as the total length). */
  bytes = 0;

  constructor(maxBytes = Number.POSITIVE_INFINITY) {
    super();
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#maxBytes) {
      callback(new PayloadTooLarge(this.#maxBytes));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  /** Hex digest; call once, after the stream ended. */
  digest(): string {
    return this.#hash.digest('hex');
  }
}
