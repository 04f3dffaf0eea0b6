import type { ReadPage } from '../sdk/connector.ts';
import { ConnectorPermanentError, MappingError } from '../sdk/connector-errors.ts';
import type { KingdeeClient } from './kingdee-client.ts';
import { filterLiteral } from './sales-order-lookup.ts';

/**
 * Reading a Kingdee form in modification order, page by page, with ExecuteBillQuery.
 *
 * Why not plain StartRow offsets: a row modified while a run reads moves to the end of the
 * FModifyDate order, so every row after its old place shifts one up and an offset skips one.
 * Each page therefore restarts at the last row read (keyset paging): `FModifyDate > t OR
 * (FModifyDate = t AND id > last id)`, StartRow 0, Limit n. A row modified mid-run is read again
 * at its new place (its new version), none is skipped. A run that starts from a stored cursor
 * re-reads `lookbackSeconds` before it, for commits that landed late on the Kingdee side.
 */
export interface IncrementalQuery {
  formId: string;
  /** Header fields to read; the id and modification fields are added. */
  fieldKeys: string[];
  /** The form's primary key field: FID for bills, FMATERIALID, FCUSTID for base data. */
  idField: string;
  modifiedField: string;
  /** Extra condition ANDed to the paging filter (e.g. only audited bills). */
  filter?: string;
  lookbackSeconds: number;
  /** Bills with lines: one ExecuteBillQuery row per line, grouped back into one record per bill. */
  lines?: { name: string; entryIdField: string; fieldKeys: string[] };
}

/** Position in a modification-ordered form: the last (modification time, id) read. */
export interface ModificationCursor {
  modifiedAt: string;
  id: number;
}

export function encodeCursor(cursor: ModificationCursor): string {
  return JSON.stringify({ modifiedAt: cursor.modifiedAt, id: cursor.id });
}

const KINGDEE_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d{1,7})?)?$/;

export function decodeCursor(text: string): ModificationCursor {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MappingError('A Kingdee cursor is JSON: {"modifiedAt","id"}');
  }
  const { modifiedAt, id } = (value ?? {}) as Partial<ModificationCursor>;
  if (typeof modifiedAt !== 'string' || !KINGDEE_DATE.test(modifiedAt) || !Number.isSafeInteger(id)) {
    throw new MappingError('A Kingdee cursor is JSON: {"modifiedAt":"yyyy-MM-ddTHH:mm:ss","id":<integer>}');
  }
  return { modifiedAt: normalizeDate(modifiedAt), id: id as number };
}

/** Kingdee writes `yyyy-MM-ddTHH:mm:ss` in query answers; filters take either separator. */
function normalizeDate(value: string): string {
  const withTime = value.length === 10 ? `${value}T00:00:00` : value;
  return withTime.replace(' ', 'T');
}

export function compareModificationCursors(a: string, b: string): number {
  const left = decodeCursor(a);
  const right = decodeCursor(b);
  if (left.modifiedAt !== right.modifiedAt) return left.modifiedAt < right.modifiedAt ? -1 : 1;
  return left.id - right.id;
}

/** The wall-clock text `seconds` earlier (Kingdee times are China time without a zone). */
export function minusSeconds(kingdeeDate: string, seconds: number): string {
  const asUtc = new Date(`${normalizeDate(kingdeeDate).slice(0, 19)}Z`);
  return new Date(asUtc.getTime() - seconds * 1000).toISOString().slice(0, 19);
}

function pagingFilter(query: IncrementalQuery, from: { after?: ModificationCursor; since?: string }): string {
  const m = query.modifiedField;
  const conditions: string[] = [];
  if (query.filter) conditions.push(`(${query.filter})`);
  if (from.after) {
    const t = filterLiteral(from.after.modifiedAt);
    conditions.push(`(${m} > ${t} OR (${m} = ${t} AND ${query.idField} > ${from.after.id}))`);
  } else if (from.since) {
    conditions.push(`${m} >= ${filterLiteral(from.since)}`);
  }
  return conditions.join(' AND ');
}

/**
 * The pages of one run. `cursor` is where an earlier run stopped (look-back applied);
 * `continuation` resumes this run exactly (no look-back).
 */
export async function* readByModification(
  client: KingdeeClient,
  query: IncrementalQuery,
  cursor: string | null,
  options: { pageSize: number; continuation?: string | null; signal?: AbortSignal },
): AsyncGenerator<ReadPage> {
  const headerKeys = [
    query.idField,
    query.modifiedField,
    ...query.fieldKeys.filter((key) => key !== query.idField && key !== query.modifiedField),
  ];
  const lineKeys = query.lines ? [query.lines.entryIdField, ...query.lines.fieldKeys] : [];
  const fieldKeys = [...headerKeys, ...lineKeys];
  let after = options.continuation ? decodeCursor(options.continuation) : undefined;
  const since =
    !after && cursor ? minusSeconds(decodeCursor(cursor).modifiedAt, query.lookbackSeconds) : undefined;
  let watermark = cursor;
  for (;;) {
    const rows = await client.executeBillQuery(
      {
        FormId: query.formId,
        FieldKeys: fieldKeys,
        FilterString: pagingFilter(query, { after, since }),
        OrderString: [
          `${query.modifiedField} ASC`,
          `${query.idField} ASC`,
          ...(query.lines ? [`${query.lines.entryIdField} ASC`] : []),
        ].join(','),
        StartRow: 0,
        Limit: options.pageSize,
      },
      options.signal,
    );
    const full = rows.length === options.pageSize;
    let records = query.lines
      ? groupLines(rows, headerKeys, lineKeys, query.lines.name)
      : rows.map((row) => toRecord(row, headerKeys));
    if (query.lines && full) {
      // The last bill of a full page may have more lines on the next page: read it again there.
      if (records.length === 1) {
        throw new ConnectorPermanentError(
          `A ${query.formId} bill has more lines than one page holds (${options.pageSize}); raise pageSize`,
        );
      }
      records = records.slice(0, -1);
    }
    const last = records.at(-1);
    if (last) {
      after = {
        modifiedAt: normalizeDate(String(last[query.modifiedField])),
        id: Number(last[query.idField]),
      };
      watermark = encodeCursor(after);
    }
    const more = full && last !== undefined;
    yield { records, nextCursor: watermark, continuation: more && after ? encodeCursor(after) : null };
    if (!more) return;
  }
}

function toRecord(row: unknown[], keys: string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  keys.forEach((key, index) => {
    record[key] = row[index] ?? null;
  });
  return record;
}

function groupLines(rows: unknown[][], headerKeys: string[], lineKeys: string[], linesName: string) {
  const bills: Record<string, unknown>[] = [];
  let current: Record<string, unknown> | undefined;
  for (const row of rows) {
    const id = row[0];
    if (!current || current[headerKeys[0] as string] !== id) {
      current = { ...toRecord(row.slice(0, headerKeys.length), headerKeys), [linesName]: [] };
      bills.push(current);
    }
    (current[linesName] as Record<string, unknown>[]).push(toRecord(row.slice(headerKeys.length), lineKeys));
  }
  return bills;
}

/**
 * A full read in a stable order with StartRow/Limit offsets: for forms read whole each run
 * (stock), whose rows change in place and keep their order.
 */
export async function* readByOffset(
  client: KingdeeClient,
  query: { formId: string; fieldKeys: string[]; orderBy: string; filter?: string },
  options: { pageSize: number; continuation?: string | null; signal?: AbortSignal },
): AsyncGenerator<ReadPage> {
  let startRow = options.continuation ? Number(options.continuation) : 0;
  if (!Number.isSafeInteger(startRow) || startRow < 0)
    throw new MappingError('A stock continuation is a row number');
  for (;;) {
    const rows = await client.executeBillQuery(
      {
        FormId: query.formId,
        FieldKeys: query.fieldKeys,
        FilterString: query.filter ?? '',
        OrderString: `${query.orderBy} ASC`,
        StartRow: startRow,
        Limit: options.pageSize,
      },
      options.signal,
    );
    startRow += rows.length;
    const more = rows.length === options.pageSize;
    yield {
      records: rows.map((row) => toRecord(row, query.fieldKeys)),
      nextCursor: null,
      continuation: more ? String(startRow) : null,
    };
    if (!more) return;
  }
}
