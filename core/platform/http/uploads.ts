import path from 'node:path';
import { pipeline } from 'node:stream';
import { create as createContentDisposition, parse as parseContentDisposition } from 'content-disposition';
import type { Context } from 'moleculer';
import { ValidationFailed } from '../errors/hub-errors.ts';
import { MeasuringStream } from '../storage/object-store.ts';

/**
 * What the gateway tells an upload action (a route with `upload` in its `RouteSpec`) about the
 * body it streams in `ctx.stream`: the media type it checked against the route's list, the
 * client's file name if it sent one, and the route's size bound.
 */
export interface UploadMeta {
  contentType: string;
  filename: string | undefined;
  /** `Content-Length`, when the client sent one (already checked against `maxBytes`). */
  length: number | undefined;
  maxBytes: number;
}

export interface Upload {
  /** The body, failing with `PayloadTooLarge` once it passes the route's bound. */
  stream: MeasuringStream;
  contentType: string;
  filename: string | undefined;
}

/**
 * A client-sent file name made safe to keep and show: the last path segment, no control
 * characters, at most 255 characters; undefined when nothing is left.
 */
export function cleanFilename(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const base = path.posix.basename(raw.replaceAll('\\', '/'));
  const clean = [...base.replace(/[\p{Cc}\p{Cf}]/gu, '')].slice(0, 255).join('').trim();
  return clean && clean !== '.' && clean !== '..' ? clean : undefined;
}

/** The file name a client gave in `Content-Disposition` (`filename*` preferred) or `X-Filename` (percent-encoded). */
export function filenameFromHeaders(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const disposition = headers['content-disposition'];
  if (typeof disposition === 'string') {
    try {
      const name = parseContentDisposition(disposition).parameters.filename;
      if (name) return cleanFilename(name);
    } catch {
      // A malformed header names no file; the upload itself is still fine.
    }
  }
  const plain = headers['x-filename'];
  if (typeof plain === 'string') {
    try {
      return cleanFilename(decodeURIComponent(plain));
    } catch {
      return cleanFilename(plain);
    }
  }
  return undefined;
}

/** The uploaded body of a stream route, bounded by the route's `maxBytes` wherever the action runs. */
export function uploadOf(ctx: Context): Upload {
  const meta = (ctx.meta as { upload?: UploadMeta }).upload;
  const body = (ctx as unknown as { stream?: NodeJS.ReadableStream | null }).stream;
  if (!meta || !body) {
    throw new ValidationFailed([{ pointer: '', detail: 'this operation takes a file as the request body' }]);
  }
  const bounded = new MeasuringStream(meta.maxBytes);
  // The reader of `bounded` sees its errors; the callback only keeps them from going unhandled.
  pipeline(body, bounded, () => {});
  return { stream: bounded, contentType: meta.contentType, filename: meta.filename };
}

export interface FileAnswer {
  contentType: string;
  /** Shown to the user as the saved file's name (any Unicode; encoded per RFC 6266/8187). */
  filename: string;
  /** `inline` for what a browser should show (images), `attachment` (default) to download. */
  disposition?: 'inline' | 'attachment';
  size?: number;
  /** Default `private, no-store`: files are often access-controlled. */
  cacheControl?: string;
}

/**
 * Marks the action's answer as a file: the gateway sends the returned stream with these headers.
 * Returns the stream so handlers can `return sendFile(ctx, file, stream)`.
 */
export function sendFile<T>(ctx: Context, file: FileAnswer, body: T): T {
  const meta = ctx.meta as Record<string, unknown>;
  meta.$responseType = file.contentType;
  meta.$responseHeaders = {
    'Content-Disposition': createContentDisposition(file.filename, {
      type: file.disposition ?? 'attachment',
    }),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': file.cacheControl ?? 'private, no-store',
    ...(file.size !== undefined ? { 'Content-Length': String(file.size) } : {}),
  };
  return body;
}
