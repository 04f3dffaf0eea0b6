import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NotFound } from '../errors/hub-errors.ts';
import {
  assertObjectKey,
  MeasuringStream,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './object-store.ts';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (no leading or trailing slash), e.g. `hub/prod`. */
  prefix?: string;
  /** Endpoint of an S3-compatible store (MinIO, Ceph, OSS, COS); unset = AWS. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need. */
  forcePathStyle?: boolean;
  /** Explicit credentials; unset = the AWS SDK's default chain (AWS_ACCESS_KEY_ID, roles, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * Objects in an S3-compatible bucket. Bodies stream through a multipart upload (5 MB parts, the
 * whole body is never held in memory) that is aborted when the body fails or passes `maxBytes`,
 * so nothing partial is left. Checksums are sent only where S3 requires them: several
 * S3-compatible stores refuse the SDK's newer default trailing checksums.
 */
export class S3Store implements ObjectStore {
  readonly kind = 's3';
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3StoreOptions) {
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ? `${options.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
    this.#client = new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  #keyOf(key: string): string {
    assertObjectKey(key);
    return this.#prefix + key;
  }

  async put(key: string, body: NodeJS.ReadableStream, options: PutOptions): Promise<StoredObject> {
    const measure = new MeasuringStream(options.maxBytes);
    body.on('error', (error) => measure.destroy(error));
    body.pipe(measure);
    const upload = new Upload({
      client: this.#client,
      params: {
        Bucket: this.#bucket,
        Key: this.#keyOf(key),
        Body: measure,
        ContentType: options.contentType,
      },
      leavePartsOnError: false,
    });
    // The measuring stream's own error (too large, or the body's) is the cause worth reporting.
    let failure: unknown;
    measure.once('error', (error) => {
      failure = error;
      void upload.abort().catch(() => {});
    });
    try {
      await upload.done();
    } catch (error) {
      throw failure ?? error;
    }
    if (failure) throw failure;
    return { key, size: measure.bytes, sha256: measure.digest(), contentType: options.contentType };
  }

  async get(key: string): Promise<NodeJS.ReadableStream> {
    try {
      const answer = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#keyOf(key) }),
      );
      return answer.Body as NodeJS.ReadableStream;
    } catch (error) {
      if (isMissing(error)) throw new NotFound('Stored file');
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#keyOf(key) }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#keyOf(key) }));
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
