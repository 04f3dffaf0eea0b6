import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NotFound } from '../errors/hub-errors.ts';
import {
  assertObjectKey,
  MeasuringStream,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './object-store.ts';

/**
 * Objects as files under one root directory (default `var/storage`). A body is written to
 * `<root>/.incoming/<uuid>` and renamed into place only when complete, so readers never see a
 * partial file and a failed upload leaves nothing. In a cluster every process must mount the same
 * directory; use the S3 adapter otherwise.
 */
export class LocalDiskStore implements ObjectStore {
  readonly kind = 'file';
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  #pathOf(key: string): string {
    assertObjectKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: NodeJS.ReadableStream, options: PutOptions): Promise<StoredObject> {
    const target = this.#pathOf(key);
    const incoming = path.join(this.root, '.incoming', randomUUID());
    await mkdir(path.dirname(incoming), { recursive: true });
    const measure = new MeasuringStream(options.maxBytes);
    try {
      await pipeline(body, measure, createWriteStream(incoming, { flags: 'wx', mode: 0o600 }));
      await mkdir(path.dirname(target), { recursive: true });
      await rename(incoming, target);
    } catch (error) {
      await rm(incoming, { force: true });
      throw error;
    }
    return { key, size: measure.bytes, sha256: measure.digest(), contentType: options.contentType };
  }

  async get(key: string): Promise<NodeJS.ReadableStream> {
    const file = this.#pathOf(key);
    if (!(await this.stat(key))) throw new NotFound('Stored file');
    return createReadStream(file);
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    try {
      const info = await stat(this.#pathOf(key));
      return info.isFile() ? { size: info.size } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#pathOf(key), { force: true });
  }

  async close(): Promise<void> {}
}
