import { Readable } from 'node:stream';
import type { Upload } from '../../platform/http/uploads.ts';
import type { ObjectStore, StoredObject } from '../../platform/storage/object-store.ts';
import {
  KIND_RULES,
  type MediaFormat,
  type MediaKind,
  recogniseFormat,
  SNIFF_BYTES,
} from './media-formats.ts';

/**
 * How much of a refused body is still read (and dropped) before answering, so that the client,
 * which is usually still sending, gets to read the answer: a connection closed with unread bytes
 * is reset by TCP, and the client sees ECONNRESET instead of the 413/422. Past this the
 * connection is cut.
 */
const DRAIN_BYTES = 64 * 1024 * 1024;

/** An upload's body read through one iterator: its first bytes, the rest, or what is left dropped. */
export class UploadBody {
  readonly #chunks: AsyncIterator<Buffer>;
  readonly #stream: Upload['stream'];
  #done = false;

  constructor(upload: Upload) {
    this.#stream = upload.stream;
    this.#chunks = upload.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** At least `bytes` first bytes (fewer when the body is shorter), taken off the body. */
  async head(bytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    while (length < bytes && !this.#done) {
      const next = await this.#chunks.next();
      if (next.done) this.#done = true;
      else {
        chunks.push(next.value);
        length += next.value.length;
      }
    }
    return Buffer.concat(chunks);
  }

  /** The rest of the body. */
  async *rest(): AsyncGenerator<Buffer> {
    while (!this.#done) {
      const next = await this.#chunks.next();
      if (next.done) this.#done = true;
      else yield next.value;
    }
  }

  /**
   * Reads and drops what is left of a refused body (at most `DRAIN_BYTES`; past that the
   * connection is cut), resolving once it is gone: answered only then, the client reads the
   * refusal instead of a connection reset under it while it is still sending.
   */
  async discard(): Promise<void> {
    let dropped = 0;
    try {
      while (!this.#done && dropped <= DRAIN_BYTES) {
        const next = await this.#chunks.next();
        if (next.done) this.#done = true;
        else dropped += next.value.length;
      }
    } catch {
      // A body that fails while being dropped (over the route's bound, client gone) needs nothing more.
      return;
    }
    if (!this.#done) this.#stream.destroy();
  }
}

/**
 * Takes an uploaded file into the object store: reads its first bytes, decides its real format
 * (refusing a body whose bytes are not what was declared before anything is stored), then streams
 * the whole body to the store under `key`, bounded by the kind's size (413 past it, nothing kept).
 */
export async function storeUpload(
  storage: ObjectStore,
  key: string,
  body: UploadBody,
  declaredType: string,
  kind: MediaKind,
): Promise<{ format: MediaFormat; stored: StoredObject }> {
  const first = await body.head(SNIFF_BYTES);
  const format = await recogniseFormat(kind, declaredType, first.subarray(0, SNIFF_BYTES));
  async function* whole() {
    yield first;
    yield* body.rest();
  }
  const stored = await storage.put(key, Readable.from(whole(), { objectMode: false }), {
    contentType: format.mediaType,
    maxBytes: KIND_RULES[kind].maxBytes,
  });
  return { format, stored };
}
