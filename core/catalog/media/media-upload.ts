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
 * Takes an uploaded file into the object store: reads its first bytes, decides its real format
 * (refusing a body whose bytes are not what was declared before anything is stored), then streams
 * the whole body to the store under `key`, bounded by the kind's size (413 past it, nothing kept).
 */
export async function storeUpload(
  storage: ObjectStore,
  key: string,
  upload: Upload,
  kind: MediaKind,
): Promise<{ format: MediaFormat; stored: StoredObject }> {
  const chunks = upload.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < SNIFF_BYTES) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    headBytes += next.value.length;
  }
  const first = Buffer.concat(head);
  let format: MediaFormat;
  try {
    format = await recogniseFormat(kind, upload.contentType, first.subarray(0, SNIFF_BYTES));
  } catch (error) {
    // The rest of a refused body is not read.
    upload.stream.destroy();
    throw error;
  }
  async function* body() {
    yield first;
    if (ended) return;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const stored = await storage.put(key, Readable.from(body(), { objectMode: false }), {
    contentType: format.mediaType,
    maxBytes: KIND_RULES[kind].maxBytes,
  });
  return { format, stored };
}
