import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  checkDeclared,
  DECLARABLE_TYPES,
  fileNameFor,
  formatOfType,
  KIND_RULES,
  MAX_UPLOAD_BYTES,
  MEDIA_KINDS,
  recogniseFormat,
} from './media-formats.ts';
import { DXF, exe, mp4, pdf, png, STEP, xlsx, zip } from './testing/media-fixtures.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

async function problemOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    const e = error as { code: number; type: string; message: string; data?: Record<string, unknown> };
    return { code: e.code, type: e.type, message: e.message, data: e.data };
  }
  throw new Error('expected a refusal');
}

describe('recognising a file from its first bytes', () => {
  it('takes each format when its bytes are what was declared, and answers the canonical type', async () => {
    expect((await recogniseFormat('image', 'image/png', png())).mediaType).toBe('image/png');
    expect((await recogniseFormat('datasheet', 'application/pdf', await pdf('M8'))).mediaType).toBe(
      'application/pdf',
    );
    expect((await recogniseFormat('white_paper', XLSX, await xlsx([['a', 1]]))).mediaType).toBe(XLSX);
    expect((await recogniseFormat('software', 'application/zip', zip({ 'setup.txt': 'x' }))).mediaType).toBe(
      'application/zip',
    );
    expect((await recogniseFormat('video', 'video/mp4', mp4())).mediaType).toBe('video/mp4');
    // CAD clients often send octet-stream: the bytes decide DXF from STEP from DWG.
    expect((await recogniseFormat('cad', 'application/octet-stream', DXF)).mediaType).toBe('image/vnd.dxf');
    expect((await recogniseFormat('cad', 'application/octet-stream', STEP)).mediaType).toBe('model/step');
    const dwg = Buffer.concat([Buffer.from('AC1032', 'latin1'), Buffer.alloc(122)]);
    expect((await recogniseFormat('cad', 'application/acad', dwg)).mediaType).toBe('image/vnd.dwg');
  });

  it('refuses an executable declared as an image, naming what the bytes are (422)', async () => {
    expect(await problemOf(recogniseFormat('image', 'image/png', exe()))).toEqual({
      code: 422,
      type: 'media-type-mismatch',
      message: "The file's bytes are application/x-msdownload, not image/png as declared",
      data: { errors: [{ pointer: '', detail: 'the content is application/x-msdownload, not image/png' }] },
    });
    // A real ELF binary from this machine.
    const elf = readFileSync('/bin/true');
    expect(await problemOf(recogniseFormat('datasheet', 'application/pdf', elf))).toMatchObject({
      code: 422,
      message: "The file's bytes are application/x-elf, not application/pdf as declared",
    });
  });

  it('refuses text and empty bodies where a binary format was declared, and a PNG sent as a JPEG', async () => {
    expect(await problemOf(recogniseFormat('image', 'image/jpeg', png()))).toMatchObject({
      code: 422,
      message: "The file's bytes are image/png, not image/jpeg as declared",
    });
    expect(
      await problemOf(recogniseFormat('cad', 'application/octet-stream', Buffer.from('hello'))),
    ).toMatchObject({
      code: 422,
      message: "The file's bytes are not a recognised format, not application/octet-stream as declared",
    });
    expect(await problemOf(recogniseFormat('datasheet', 'application/pdf', Buffer.alloc(0)))).toMatchObject({
      code: 422,
      message: "The file's bytes are empty, not application/pdf as declared",
    });
    // An XLSX is a ZIP underneath, but software packages are plain ZIPs, and vice versa.
    expect(
      await problemOf(recogniseFormat('software', 'application/zip', await xlsx([['a']]))),
    ).toMatchObject({
      code: 422,
      message: `The file's bytes are ${XLSX}, not application/zip as declared`,
    });
    expect(await problemOf(recogniseFormat('datasheet', XLSX, zip({ 'a.txt': 'a' })))).toMatchObject({
      code: 422,
      message: `The file's bytes are application/zip, not ${XLSX} as declared`,
    });
  });

  it('refuses a macro-enabled workbook sent as a plain XLSX', async () => {
    const types = (main: string) =>
      `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="${main}"/></Types>`;
    const xlsm = zip({
      '[Content_Types].xml': types('application/vnd.ms-excel.sheet.macroEnabled.main+xml'),
      'xl/workbook.xml': '<workbook/>',
      'xl/vbaProject.bin': 'macros',
    });
    expect(await problemOf(recogniseFormat('datasheet', XLSX, xlsm))).toMatchObject({
      code: 422,
      message: `The file's bytes are application/vnd.ms-excel.sheet.macroenabled.12, not ${XLSX} as declared`,
    });
  });

  it('checks the declared type and length per kind before reading (415, 413)', async () => {
    expect(() => checkDeclared('image', 'application/pdf', undefined)).toThrow(
      expect.objectContaining({
        code: 415,
        data: { accepted: ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] },
      }),
    );
    expect(() => checkDeclared('image', 'image/png', KIND_RULES.image.maxBytes + 1)).toThrow(
      expect.objectContaining({ code: 413, data: { maxBytes: 20 * 1024 * 1024 } }),
    );
    expect(() => checkDeclared('video', 'video/mp4', KIND_RULES.image.maxBytes + 1)).not.toThrow();
    expect(() => checkDeclared('software', 'application/octet-stream', 10)).toThrow(
      expect.objectContaining({ code: 415 }),
    );
    // SVG can carry script: no kind takes it.
    expect(DECLARABLE_TYPES).not.toContain('image/svg+xml');
  });

  it("bounds the upload route by the largest kind, and every kind's formats can be served", () => {
    expect(MAX_UPLOAD_BYTES).toBe(Math.max(...MEDIA_KINDS.map((kind) => KIND_RULES[kind].maxBytes)));
    expect(MAX_UPLOAD_BYTES).toBe(1024 * 1024 * 1024);
    for (const kind of MEDIA_KINDS) expect(KIND_RULES[kind].formats.length).toBeGreaterThan(0);
  });
});

describe('the saved file name', () => {
  const pngFormat = formatOfType('image/png')!;
  it('keeps a name whose extension fits, Chinese and all', () => {
    expect(fileNameFor(pngFormat, '产品图 正面.PNG', 'image')).toBe('产品图 正面.PNG');
    expect(fileNameFor(formatOfType('model/step')!, '螺栓.stp', 'cad')).toBe('螺栓.stp');
  });
  it('adds the format extension when the name says something else, or nothing', () => {
    expect(fileNameFor(pngFormat, 'setup.exe', 'image')).toBe('setup.exe.png');
    expect(fileNameFor(pngFormat, undefined, 'image-1a2b3c4d')).toBe('image-1a2b3c4d.png');
    expect([...fileNameFor(pngFormat, `${'长'.repeat(300)}.exe`, 'x')].length).toBe(255);
  });
});
