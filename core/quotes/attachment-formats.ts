import path from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { UnprocessableRequest, UnsupportedMediaType } from '../platform/errors/hub-errors.ts';

/**
 * The files a quote takes (drawings, specifications, photos, office documents, archives) and how
 * a file's real format is found from its first bytes: a body is kept only when its bytes are the
 * format it was declared as (an `.exe` sent as `application/pdf` is 422).
 */
export interface AttachmentFormat {
  /** Stored and sent as `Content-Type`. */
  mediaType: string;
  /** Media types a client may declare for it (the canonical one included). */
  declaredAs: readonly string[];
  /** File name extensions, the first one added when the client's name has none of them. */
  extensions: readonly string[];
  /** Media types `file-type` reports for its bytes, or a test of the first bytes where it reports none. */
  detect: readonly string[] | ((head: Buffer) => boolean);
}

/** ASCII DXF opens with group code 0 then SECTION (after optional 999 comments); binary DXF with its sentinel. */
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

const OOXML = 'application/vnd.openxmlformats-officedocument';
// CAD tools rarely send a precise type, so `application/octet-stream` is taken and the bytes decide.
const OCTET = 'application/octet-stream';

export const ATTACHMENT_FORMATS: readonly AttachmentFormat[] = [
  {
    mediaType: 'application/pdf',
    declaredAs: ['application/pdf'],
    extensions: ['.pdf'],
    detect: ['application/pdf'],
  },
  {
    mediaType: 'image/jpeg',
    declaredAs: ['image/jpeg'],
    extensions: ['.jpg', '.jpeg'],
    detect: ['image/jpeg'],
  },
  { mediaType: 'image/png', declaredAs: ['image/png'], extensions: ['.png'], detect: ['image/png'] },
  { mediaType: 'image/webp', declaredAs: ['image/webp'], extensions: ['.webp'], detect: ['image/webp'] },
  { mediaType: 'image/gif', declaredAs: ['image/gif'], extensions: ['.gif'], detect: ['image/gif'] },
  {
    mediaType: 'image/tiff',
    declaredAs: ['image/tiff'],
    extensions: ['.tif', '.tiff'],
    detect: ['image/tiff'],
  },
  {
    mediaType: `${OOXML}.wordprocessingml.document`,
    declaredAs: [`${OOXML}.wordprocessingml.document`],
    extensions: ['.docx'],
    detect: [`${OOXML}.wordprocessingml.document`],
  },
  {
    mediaType: `${OOXML}.spreadsheetml.sheet`,
    declaredAs: [`${OOXML}.spreadsheetml.sheet`],
    extensions: ['.xlsx'],
    detect: [`${OOXML}.spreadsheetml.sheet`],
  },
  {
    mediaType: `${OOXML}.presentationml.presentation`,
    declaredAs: [`${OOXML}.presentationml.presentation`],
    extensions: ['.pptx'],
    detect: [`${OOXML}.presentationml.presentation`],
  },
  // Legacy Office files are OLE compound files; their bytes do not tell Word from Excel.
  {
    mediaType: 'application/msword',
    declaredAs: ['application/msword'],
    extensions: ['.doc'],
    detect: ['application/x-cfb'],
  },
  {
    mediaType: 'application/vnd.ms-excel',
    declaredAs: ['application/vnd.ms-excel'],
    extensions: ['.xls'],
    detect: ['application/x-cfb'],
  },
  {
    mediaType: 'application/vnd.ms-powerpoint',
    declaredAs: ['application/vnd.ms-powerpoint'],
    extensions: ['.ppt'],
    detect: ['application/x-cfb'],
  },
  {
    mediaType: 'application/zip',
    declaredAs: ['application/zip', 'application/x-zip-compressed'],
    extensions: ['.zip'],
    detect: ['application/zip'],
  },
  {
    mediaType: 'image/vnd.dwg',
    declaredAs: ['image/vnd.dwg', 'application/acad', OCTET],
    extensions: ['.dwg'],
    detect: ['image/vnd.dwg'],
  },
  {
    mediaType: 'image/vnd.dxf',
    declaredAs: ['image/vnd.dxf', 'application/dxf', OCTET],
    extensions: ['.dxf'],
    detect: looksLikeDxf,
  },
  {
    mediaType: 'model/step',
    declaredAs: ['model/step', 'application/step', OCTET],
    extensions: ['.step', '.stp'],
    detect: looksLikeStep,
  },
];

/** Every media type a client may declare: the upload routes' list. */
export const DECLARABLE_ATTACHMENT_TYPES: readonly string[] = [
  ...new Set(ATTACHMENT_FORMATS.flatMap((format) => format.declaredAs)),
];

/** Every media type an attachment is stored and served as: the download routes' list. */
export const STORED_ATTACHMENT_TYPES: readonly string[] = ATTACHMENT_FORMATS.map(
  (format) => format.mediaType,
);

/** How many first bytes are read to recognise a file (Office files need their zip directory entries). */
export const ATTACHMENT_SNIFF_BYTES = 256 * 1024;

async function detectedType(head: Buffer): Promise<string | undefined> {
  try {
    return (await fileTypeFromBuffer(head))?.mime;
  } catch {
    // A truncated or malformed container is simply not recognised.
    return undefined;
  }
}

/** 415 before any byte is read when the declared type is not one a quote takes. */
export function checkDeclaredAttachmentType(declaredType: string): void {
  if (!DECLARABLE_ATTACHMENT_TYPES.includes(declaredType)) {
    throw new UnsupportedMediaType(DECLARABLE_ATTACHMENT_TYPES);
  }
}

/**
 * The format of a file declared as `declaredType`, decided by its first bytes; 422
 * `attachment-type-mismatch` naming what the bytes look like otherwise.
 */
export async function recogniseAttachment(declaredType: string, head: Buffer): Promise<AttachmentFormat> {
  checkDeclaredAttachmentType(declaredType);
  const detected = await detectedType(head);
  const found = ATTACHMENT_FORMATS.find(
    (format) =>
      format.declaredAs.includes(declaredType) &&
      (typeof format.detect === 'function'
        ? detected === undefined && format.detect(head)
        : detected !== undefined && format.detect.includes(detected)),
  );
  if (found) return found;
  const what = detected ?? (head.length === 0 ? 'empty' : 'not a recognised format');
  throw new UnprocessableRequest(
    'attachment-type-mismatch',
    `The file's bytes are ${what}, not ${declaredType} as declared`,
    { errors: [{ pointer: '', detail: `the content is ${what}, not ${declaredType}` }] },
  );
}

/**
 * The name a download is saved under: the client's name when its extension fits the format, else
 * with the format's extension added, so a saved file never opens as something other than it was
 * checked to be. At most 200 characters (the column's bound).
 */
export function attachmentFileName(
  format: AttachmentFormat,
  clientName: string | undefined,
  fallback: string,
): string {
  const name = clientName ?? fallback;
  const extension = path.extname(name);
  const fits = format.extensions.includes(extension.toLowerCase());
  const suffix = fits ? extension : format.extensions[0]!;
  const stem = fits ? name.slice(0, name.length - extension.length) : name;
  return [...stem].slice(0, 200 - suffix.length).join('') + suffix;
}
