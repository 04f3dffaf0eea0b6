import type { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import yauzl from 'yauzl';
import type { SheetRow } from './csv-rows.ts';
import { type FileLimits, FileRefusedError } from './file-limits.ts';

/**
 * The rows of the first worksheet of an XLSX file, streamed (SpreadsheetML read with yauzl and
 * saxes, not exceljs: exceljs 4.4's streaming reader decodes each inflated chunk on its own and
 * turns Chinese characters cut by a chunk boundary into U+FFFD — exceljs issues #2063, #2084 —
 * and its unzipper follows local headers, which the central directory checked here does not
 * bound).
 *
 * Before anything is parsed the ZIP's central directory is checked: entry count, total
 * uncompressed size, compression ratio of large entries, no encryption; yauzl then refuses an
 * entry that inflates to more than it declared. XML with a DTD is refused (no entity of any kind
 * beyond XML's five is expanded). Shared strings are held in memory (bounded by their
 * uncompressed size); rows stream. Cells come back as text: numbers as written in the file,
 * booleans `true`/`false`, formulas as their cached result.
 */
export async function* readXlsxRows(file: string, limits: FileLimits): AsyncGenerator<SheetRow> {
  const zip = await openZip(file);
  try {
    const entries = await checkedEntries(zip, limits);
    const workbook = entries.get('xl/workbook.xml');
    if (!workbook)
      throw new FileRefusedError('not-xlsx', 'The file is a ZIP archive but not an XLSX workbook');
    const { sheetPath, sharedStringsPath } = await locateParts(zip, entries, limits);
    const sheet = entries.get(sheetPath);
    if (!sheet)
      throw new FileRefusedError('not-xlsx', 'The workbook names a worksheet the file does not contain');
    const shared = entries.get(sharedStringsPath);
    const strings = shared ? await readSharedStrings(zip, shared, limits) : [];
    yield* readSheet(zip, sheet, strings, limits);
  } finally {
    zip.close();
  }
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false },
      (error, zip) => {
        if (error || !zip) {
          reject(new FileRefusedError('not-xlsx', 'The file is not an XLSX workbook (not a ZIP archive)'));
        } else resolve(zip);
      },
    );
  });
}

const MIB = 1024 * 1024;

/** The central directory, checked against the bounds before a byte is inflated. */
function checkedEntries(zip: yauzl.ZipFile, limits: FileLimits): Promise<Map<string, yauzl.Entry>> {
  if (zip.entryCount > limits.maxZipEntries) {
    return Promise.reject(
      new FileRefusedError('zip-refused', `The archive has more than ${limits.maxZipEntries} entries`),
    );
  }
  return new Promise((resolve, reject) => {
    const entries = new Map<string, yauzl.Entry>();
    let total = 0;
    zip.on('entry', (entry: yauzl.Entry) => {
      total += entry.uncompressedSize;
      if ((entry.generalPurposeBitFlag & 1) !== 0) {
        reject(new FileRefusedError('zip-refused', 'The workbook is encrypted'));
      } else if (total > limits.maxUnzippedBytes) {
        reject(
          new FileRefusedError(
            'zip-refused',
            `The archive unpacks to more than ${limits.maxUnzippedBytes} bytes`,
          ),
        );
      } else if (
        entry.uncompressedSize > MIB &&
        entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxCompressionRatio
      ) {
        reject(
          new FileRefusedError(
            'zip-refused',
            `An entry of the archive is compressed more than ${limits.maxCompressionRatio} times: refused as a zip bomb`,
          ),
        );
      } else {
        entries.set(entry.fileName.replace(/^\/+/, ''), entry);
        zip.readEntry();
      }
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', () =>
      reject(new FileRefusedError('not-xlsx', 'The ZIP archive of the workbook is damaged')),
    );
    zip.readEntry();
  });
}

async function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  const stream = await new Promise<Readable>((resolve, reject) => {
    zip.openReadStream(entry, (error, readable) => {
      if (error || !readable) reject(new FileRefusedError('not-xlsx', `${entry.fileName} cannot be read`));
      else resolve(readable);
    });
  });
  // Decoding the stream (not each chunk) keeps characters that straddle chunks whole.
  stream.setEncoding('utf8');
  return stream;
}

/** The local name of an element or attribute: `x:row` → `row`. */
function local(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function xmlParser(part: string): SaxesParser {
  const parser = new SaxesParser({ position: false });
  parser.on('doctype', () => {
    throw new FileRefusedError('malformed-xlsx', `${part} declares a DTD: refused`);
  });
  return parser;
}

/**
 * Streams one XML entry through `parser`, calling `drain` after every chunk. Parser failures
 * become `FileRefusedError`; an entry inflating past its declared size is refused by yauzl.
 */
async function* parseEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  parser: SaxesParser,
): AsyncGenerator<void> {
  const stream = await openEntry(zip, entry);
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      parser.write(chunk);
      yield;
    }
    parser.close();
    yield;
  } catch (error) {
    if (error instanceof FileRefusedError) throw error;
    throw new FileRefusedError(
      'malformed-xlsx',
      `${entry.fileName} is not well-formed: ${(error as Error).message}`,
    );
  } finally {
    stream.destroy();
  }
}

async function readSmallXml(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  limits: FileLimits,
  onOpen: (tag: SaxesTagPlain) => void,
): Promise<void> {
  if (entry.uncompressedSize > limits.maxWorkbookXmlBytes) {
    throw new FileRefusedError(
      'zip-refused',
      `${entry.fileName} is larger than ${limits.maxWorkbookXmlBytes} bytes`,
    );
  }
  const parser = xmlParser(entry.fileName);
  parser.on('opentag', onOpen);
  await drain(parseEntry(zip, entry, parser));
}

async function drain(steps: AsyncGenerator<void>): Promise<void> {
  while (!(await steps.next()).done) {
    // each step is one chunk parsed; the handlers did the work
  }
}

/** The first sheet's part and the shared strings' part, from workbook.xml and its relationships. */
async function locateParts(
  zip: yauzl.ZipFile,
  entries: Map<string, yauzl.Entry>,
  limits: FileLimits,
): Promise<{ sheetPath: string; sharedStringsPath: string }> {
  let sheetRelation: string | undefined;
  await readSmallXml(zip, entries.get('xl/workbook.xml')!, limits, (tag) => {
    if (sheetRelation !== undefined || local(tag.name) !== 'sheet') return;
    const id = Object.entries(tag.attributes).find(([name]) => name !== 'id' && local(name) === 'id');
    sheetRelation = id?.[1] ?? '';
  });
  const relations = new Map<string, { target: string; type: string }>();
  const rels = entries.get('xl/_rels/workbook.xml.rels');
  if (rels) {
    await readSmallXml(zip, rels, limits, (tag) => {
      if (local(tag.name) !== 'Relationship') return;
      const { Id, Target, Type } = tag.attributes;
      if (Id && Target) relations.set(Id, { target: Target, type: Type ?? '' });
    });
  }
  const resolve = (target: string) => (target.startsWith('/') ? target.slice(1) : `xl/${target}`);
  const sheet = sheetRelation ? relations.get(sheetRelation) : undefined;
  const shared = [...relations.values()].find((relation) => relation.type.endsWith('/sharedStrings'));
  return {
    sheetPath: sheet ? resolve(sheet.target) : 'xl/worksheets/sheet1.xml',
    sharedStringsPath: shared ? resolve(shared.target) : 'xl/sharedStrings.xml',
  };
}

/** The shared string table (`<si>` items, rich-text runs joined, phonetic runs left out). */
async function readSharedStrings(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  limits: FileLimits,
): Promise<string[]> {
  if (entry.uncompressedSize > limits.maxSharedStringsBytes) {
    throw new FileRefusedError(
      'zip-refused',
      `The shared strings of the workbook are larger than ${limits.maxSharedStringsBytes} bytes`,
    );
  }
  const strings: string[] = [];
  const parser = xmlParser(entry.fileName);
  let text: string[] | undefined;
  let length = 0;
  let inT = false;
  let phonetic = 0;
  parser.on('opentag', (tag) => {
    const name = local(tag.name);
    if (name === 'si') {
      text = [];
      length = 0;
    } else if (name === 'rPh') phonetic++;
    else if (name === 't' && !tag.isSelfClosing) inT = true;
  });
  parser.on('text', (value) => {
    if (!inT || phonetic > 0 || !text) return;
    length += value.length;
    if (length > limits.maxCellChars) {
      throw new FileRefusedError(
        'cell-too-long',
        `A shared string is longer than ${limits.maxCellChars} characters`,
      );
    }
    text.push(value);
  });
  parser.on('closetag', (tag) => {
    const name = local(tag.name);
    if (name === 't') inT = false;
    else if (name === 'rPh') phonetic--;
    else if (name === 'si') {
      strings.push(text ? text.join('') : '');
      text = undefined;
    }
  });
  await drain(parseEntry(zip, entry, parser));
  return strings;
}

/** `BC12` → 54 (0-based column of a cell reference). */
function columnOf(reference: string): number {
  let column = 0;
  for (let i = 0; i < reference.length; i++) {
    const code = reference.charCodeAt(i);
    if (code < 65 || code > 90) break;
    column = column * 26 + (code - 64);
  }
  return column - 1;
}

async function* readSheet(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  strings: readonly string[],
  limits: FileLimits,
): AsyncGenerator<SheetRow> {
  const parser = xmlParser(entry.fileName);
  const ready: SheetRow[] = [];
  let rowNumber = 0;
  let dataRows = -1; // the first non-empty row is the header
  let cells: string[] | undefined;
  let column = -1;
  let type = 'n';
  let capture = false;
  let inInline = false;
  let phonetic = 0;
  let text = '';

  parser.on('opentag', (tag) => {
    const name = local(tag.name);
    if (name === 'c') {
      const reference = tag.attributes.r;
      column = reference ? columnOf(reference) : column + 1;
      if (column < 0 || column >= limits.maxColumns) {
        throw new FileRefusedError(
          'too-many-columns',
          `Row ${rowNumber} has a cell beyond column ${limits.maxColumns}`,
          rowNumber,
        );
      }
      type = tag.attributes.t ?? 'n';
      text = '';
    } else if (name === 'row') {
      const r = Number(tag.attributes.r);
      rowNumber = Number.isSafeInteger(r) && r > 0 ? r : rowNumber + 1;
      cells = [];
      column = -1;
    } else if (name === 'v') capture = !tag.isSelfClosing;
    else if (name === 'is') inInline = true;
    else if (name === 't' && inInline) capture = !tag.isSelfClosing;
    else if (name === 'rPh') phonetic++;
  });
  parser.on('text', (value) => {
    if (!capture || phonetic > 0) return;
    text += value;
    if (text.length > limits.maxCellChars) {
      throw new FileRefusedError(
        'cell-too-long',
        `Row ${rowNumber}, column ${column + 1}: a cell is longer than ${limits.maxCellChars} characters`,
        rowNumber,
        column + 1,
      );
    }
  });
  parser.on('closetag', (tag) => {
    const name = local(tag.name);
    if (name === 'v' || name === 't') capture = false;
    else if (name === 'is') inInline = false;
    else if (name === 'rPh') phonetic--;
    else if (name === 'c') {
      if (!cells) return;
      let value = text;
      if (type === 's') {
        const found = strings[Number(text)];
        if (found === undefined) {
          throw new FileRefusedError(
            'malformed-xlsx',
            `Row ${rowNumber} refers to a shared string that does not exist`,
            rowNumber,
          );
        }
        value = found;
      } else if (type === 'b') value = text === '1' ? 'true' : text === '0' ? 'false' : text;
      cells[column] = value;
    } else if (name === 'row') {
      const row = cells ?? [];
      cells = undefined;
      let last = row.length - 1;
      while (last >= 0 && (row[last] === undefined || row[last]!.trim() === '')) last--;
      if (last < 0) return;
      if (++dataRows > limits.maxRows) {
        throw new FileRefusedError(
          'too-many-rows',
          `The file has more than ${limits.maxRows} data rows`,
          rowNumber,
        );
      }
      const dense = Array.from({ length: last + 1 }, (_, index) => row[index] ?? '');
      ready.push({ row: rowNumber, cells: dense });
    }
  });
  const steps = parseEntry(zip, entry, parser);
  while (!(await steps.next()).done) {
    if (ready.length) yield* ready.splice(0, ready.length);
  }
}
