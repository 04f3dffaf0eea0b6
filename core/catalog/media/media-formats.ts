import path from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import {
  PayloadTooLarge,
  UnprocessableRequest,
  UnsupportedMediaType,
} from '../../platform/errors/hub-errors.ts';

/**
 * What kinds of files the catalog keeps, which formats each kind takes, how large they may be, and
 * how a file's real format is found from its first bytes (a `.exe` sent as `image/png` is refused).
 */
export const MEDIA_KINDS = [
  'image',
  'video',
  'cad',
  'datasheet',
  'case_study',
  'white_paper',
  'software',
  'other',
] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** One file format: the media type it is stored and served as, and how its bytes are recognised. */
export interface MediaFormat {
  /** The canonical media type, stored and sent as `Content-Type`. */
  mediaType: string;
  /** Media types a client may declare for it (the canonical one included). */
  declaredAs: readonly string[];
  /** File name extensions it goes by, the first one added when a name has none of them. */
  extensions: readonly string[];
  /** Media types `file-type` reports for its bytes; or a test of the first bytes where it reports none. */
  detect: readonly string[] | ((head: Buffer) => boolean);
  /** A browser shows it in place (`Content-Disposition: inline`); everything else is an attachment. */
  inline?: boolean;
}

const MB = 1024 * 1024;

/**
 * ASCII DXF: group code 0 then SECTION on the next line (comments, group 999, may come first);
 * binary DXF starts with its sentinel.
 */
function looksLikeDxf(head: Buffer): boolean {
  if (head.subarray(0, 22).equals(Buffer.from('AutoCAD Binary DXF\r\n\x1a\x00', 'latin1'))) return true;
  const text = head
    .subarray(0, 4096)
    .toString('latin1')
    .replace(/^\uFEFF/, '');
  return /^\s*(999\r?\n[^\n]*\r?\n\s*)*0\r?\nSECTION\r?\n/.test(text);
}

/** STEP (ISO 10303-21) files open with their header keyword. */
function looksLikeStep(head: Buffer): boolean {
  return /^\s*ISO-10303-21;/.test(
    head
      .subarray(0, 256)
      .toString('latin1')
      .replace(/^\uFEFF/, ''),
  );
}

const FORMATS = {
  jpeg: {
    mediaType: 'image/jpeg',
    declaredAs: ['image/jpeg'],
    extensions: ['.jpg', '.jpeg'],
    detect: ['image/jpeg'],
    inline: true,
  },
  png: {
    mediaType: 'image/png',
    declaredAs: ['image/png'],
    extensions: ['.png'],
    detect: ['image/png'],
    inline: true,
  },
  webp: {
    mediaType: 'image/webp',
    declaredAs: ['image/webp'],
    extensions: ['.webp'],
    detect: ['image/webp'],
    inline: true,
  },
  gif: {
    mediaType: 'image/gif',
    declaredAs: ['image/gif'],
    extensions: ['.gif'],
    detect: ['image/gif'],
    inline: true,
  },
  mp4: {
    mediaType: 'video/mp4',
    declaredAs: ['video/mp4'],
    extensions: ['.mp4', '.m4v'],
    detect: ['video/mp4', 'video/x-m4v'],
    inline: true,
  },
  webm: {
    mediaType: 'video/webm',
    declaredAs: ['video/webm'],
    extensions: ['.webm'],
    detect: ['video/webm'],
    inline: true,
  },
  pdf: {
    mediaType: 'application/pdf',
    declaredAs: ['application/pdf'],
    extensions: ['.pdf'],
    detect: ['application/pdf'],
    inline: true,
  },
  docx: {
    mediaType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    declaredAs: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    extensions: ['.docx'],
    detect: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  },
  xlsx: {
    mediaType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    declaredAs: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    extensions: ['.xlsx'],
    detect: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  },
  pptx: {
    mediaType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    declaredAs: ['application/vnd.openxmlformats-officedocument.presentationml.presentation'],
    extensions: ['.pptx'],
    detect: ['application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  },
  // Legacy Office files are OLE compound files; their bytes do not tell Word from Excel.
  doc: {
    mediaType: 'application/msword',
    declaredAs: ['application/msword'],
    extensions: ['.doc'],
    detect: ['application/x-cfb'],
  },
  xls: {
    mediaType: 'application/vnd.ms-excel',
    declaredAs: ['application/vnd.ms-excel'],
    extensions: ['.xls'],
    detect: ['application/x-cfb'],
  },
  ppt: {
    mediaType: 'application/vnd.ms-powerpoint',
    declaredAs: ['application/vnd.ms-powerpoint'],
    extensions: ['.ppt'],
    detect: ['application/x-cfb'],
  },
  zip: {
    mediaType: 'application/zip',
    declaredAs: ['application/zip', 'application/x-zip-compressed'],
    extensions: ['.zip'],
    detect: ['application/zip'],
  },
  // CAD: clients rarely know these types, so `application/octet-stream` is taken and the bytes decide.
  dwg: {
    mediaType: 'image/vnd.dwg',
    declaredAs: ['image/vnd.dwg', 'application/acad', 'application/octet-stream'],
    extensions: ['.dwg'],
    detect: ['image/vnd.dwg'],
  },
  dxf: {
    mediaType: 'image/vnd.dxf',
    declaredAs: ['image/vnd.dxf', 'application/dxf', 'application/octet-stream'],
    extensions: ['.dxf'],
    detect: looksLikeDxf,
  },
  step: {
    mediaType: 'model/step',
    declaredAs: ['model/step', 'application/step', 'application/octet-stream'],
    extensions: ['.step', '.stp'],
    detect: looksLikeStep,
  },
} satisfies Record<string, MediaFormat>;

type FormatName = keyof typeof FORMATS;

const DOCUMENTS: FormatName[] = ['pdf', 'docx', 'xlsx', 'pptx', 'doc', 'xls', 'ppt'];

/** Per kind: the formats it takes and its size bound (the upload route's bound is the largest). */
export const KIND_RULES: Record<MediaKind, { formats: readonly FormatName[]; maxBytes: number }> = {
  image: { formats: ['jpeg', 'png', 'webp', 'gif'], maxBytes: 20 * MB },
  video: { formats: ['mp4', 'webm'], maxBytes: 500 * MB },
  cad: { formats: ['dwg', 'dxf', 'step', 'pdf', 'zip'], maxBytes: 200 * MB },
  datasheet: { formats: DOCUMENTS, maxBytes: 50 * MB },
  case_study: { formats: DOCUMENTS, maxBytes: 50 * MB },
  white_paper: { formats: DOCUMENTS, maxBytes: 50 * MB },
  software: { formats: ['zip'], maxBytes: 1024 * MB },
  other: { formats: [...DOCUMENTS, 'zip', 'jpeg', 'png', 'webp', 'gif'], maxBytes: 100 * MB },
};

/** Every media type any kind may declare: the upload routes' list (checked per kind in the action). */
export const DECLARABLE_TYPES: readonly string[] = [
  ...new Set(Object.values(FORMATS).flatMap((format) => format.declaredAs)),
];

/** Every media type an asset can be stored and served as. */
export const STORED_TYPES: readonly string[] = [...new Set(Object.values(FORMATS).map((f) => f.mediaType))];

/** The largest file of any kind: the upload routes' bound. */
export const MAX_UPLOAD_BYTES = Math.max(...Object.values(KIND_RULES).map((rule) => rule.maxBytes));

/** How many first bytes are read to recognise a file (Office files need their zip directory entries). */
export const SNIFF_BYTES = 256 * 1024;

function formatsOf(kind: MediaKind): MediaFormat[] {
  return KIND_RULES[kind].formats.map((name) => FORMATS[name]);
}

/** The media types a kind may be declared as, for its 415 answer. */
export function declarableTypesOf(kind: MediaKind): string[] {
  return [...new Set(formatsOf(kind).flatMap((format) => format.declaredAs))];
}

/**
 * Checks what the client declared before any byte is read: a type this kind does not take is 415,
 * a declared length over the kind's bound is 413.
 */
export function checkDeclared(kind: MediaKind, declaredType: string, length: number | undefined): void {
  if (!formatsOf(kind).some((format) => format.declaredAs.includes(declaredType))) {
    throw new UnsupportedMediaType(declarableTypesOf(kind));
  }
  if (length !== undefined && length > KIND_RULES[kind].maxBytes) {
    throw new PayloadTooLarge(KIND_RULES[kind].maxBytes);
  }
}

/** What `file-type` makes of the first bytes; undefined when it recognises nothing (plain text, DXF, STEP). */
async function detectedType(head: Buffer): Promise<string | undefined> {
  try {
    return (await fileTypeFromBuffer(head))?.mime;
  } catch {
    // A truncated or malformed container is simply not recognised.
    return undefined;
  }
}

/**
 * The format of a file of this kind declared as `declaredType`, decided by its first bytes: one of
 * the kind's formats that may be declared so and whose signature the bytes carry. Otherwise 422
 * `media-type-mismatch` naming what the bytes look like.
 */
export async function recogniseFormat(
  kind: MediaKind,
  declaredType: string,
  head: Buffer,
): Promise<MediaFormat> {
  const candidates = formatsOf(kind).filter((format) => format.declaredAs.includes(declaredType));
  if (candidates.length === 0) throw new UnsupportedMediaType(declarableTypesOf(kind));
  const detected = await detectedType(head);
  const found = candidates.find((format) =>
    typeof format.detect === 'function'
      ? detected === undefined && format.detect(head)
      : detected !== undefined && format.detect.includes(detected),
  );
  if (found) return found;
  const what = detected ?? (head.length === 0 ? 'empty' : 'not a recognised format');
  throw new UnprocessableRequest(
    'media-type-mismatch',
    `The file's bytes are ${what}, not ${declaredType} as declared`,
    { errors: [{ pointer: '', detail: `the content is ${what}, not ${declaredType}` }] },
  );
}

/** Whether a kind takes files stored as this media type (a kind change keeps the file). */
export function kindTakesType(kind: MediaKind, mediaType: string): boolean {
  return formatsOf(kind).some((format) => format.mediaType === mediaType);
}

/** The format an asset is stored as, by its media type. */
export function formatOfType(mediaType: string): MediaFormat | undefined {
  return Object.values(FORMATS).find((format) => format.mediaType === mediaType);
}

/**
 * The name a download is saved under: the client's name when its extension fits the format, else
 * with the format's extension added (`setup.exe` kept as a PNG is saved as `setup.exe.png`), so a
 * saved file never opens as something other than what it was checked to be.
 */
export function fileNameFor(
  format: MediaFormat,
  clientName: string | undefined,
  fallbackStem: string,
): string {
  const name = clientName ?? fallbackStem;
  const extension = path.extname(name).toLowerCase();
  if (format.extensions.includes(extension)) return name;
  const suffix = format.extensions[0]!;
  return [...name].slice(0, 255 - suffix.length).join('') + suffix;
}
