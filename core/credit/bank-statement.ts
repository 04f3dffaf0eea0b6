import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { UnprocessableRequest } from '../platform/errors/hub-errors.ts';

/**
 * Reading a bank statement export (对账单 / 交易明细) as CSV: UTF-8 (with or without BOM), UTF-16
 * with a BOM, or GBK/GB18030 as Chinese online banking and Excel save it. Columns are found by
 * their header, in Chinese or English (`交易日期`, `贷方金额`, `附言`, `流水号`, ...), so exports
 * of different banks read alike; lines before the header (account number, period) are skipped.
 * Bounded: the upload's bytes (the route's bound), at most `MAX_ROWS` rows and `MAX_RECORD_CHARS`
 * characters per row.
 */
export const STATEMENT_MAX_BYTES = 5 * 1024 * 1024;
export const MAX_ROWS = 5000;
const MAX_RECORD_CHARS = 10_000;
const MAX_CELLS = 50;
/** The header must be among the first lines. */
const HEADER_SEARCH_LINES = 30;

type Column = 'date' | 'credit' | 'debit' | 'remark' | 'bankReference' | 'payer' | 'currency';

const ALIASES: Record<Column, string[]> = {
  date: [
    '交易日期',
    '日期',
    '记账日期',
    '入账日期',
    '交易时间',
    'date',
    'transactiondate',
    'valuedate',
    'bookingdate',
  ],
  credit: [
    '贷方金额',
    '贷方发生额',
    '收入金额',
    '收入',
    '存入金额',
    '来账金额',
    '金额',
    '交易金额',
    'credit',
    'creditamount',
    'amount',
  ],
  debit: ['借方金额', '借方发生额', '支出金额', '支出', 'debit', 'debitamount'],
  remark: [
    '附言',
    '交易附言',
    '摘要',
    '用途',
    '备注',
    '汇款附言',
    'remark',
    'remarks',
    'memo',
    'note',
    'description',
    'narrative',
  ],
  bankReference: [
    '流水号',
    '交易流水号',
    '银行流水号',
    '凭证号',
    '交易参考号',
    '业务流水号',
    'bankreference',
    'transactionid',
    'referenceno',
    'reference',
  ],
  payer: [
    '对方户名',
    '对方账户名称',
    '付款人',
    '付款人名称',
    '对方名称',
    'payer',
    'payername',
    'counterparty',
  ],
  currency: ['币种', '货币', 'currency'],
};

export interface StatementLine {
  /** 1-based line of the file. */
  row: number;
  receivedOn: string | null;
  /** Minor units; null when the cell is not an amount. */
  amountMinor: bigint | null;
  /** Money out (a debit line): not a receipt. */
  outgoing: boolean;
  currency: string;
  remark: string;
  bankReference: string | null;
  payer: string | null;
  /** Stands in for a missing bank reference: the row's content. */
  fingerprint: string;
  problem: string | null;
}

function unreadable(detail: string): never {
  throw new UnprocessableRequest('unreadable-statement', `The bank statement cannot be read: ${detail}`);
}

function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return iconv.decode(bytes.subarray(2), 'utf-16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return iconv.decode(bytes.subarray(2), 'utf-16be');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return iconv.decode(bytes, 'gb18030');
  }
}

const normalise = (cell: string) => cell.replace(/[\s_\-()（）:：*]/g, '').toLowerCase();

function headerColumns(cells: string[]): Partial<Record<Column, number>> | undefined {
  const found: Partial<Record<Column, number>> = {};
  cells.forEach((cell, index) => {
    const name = normalise(cell);
    for (const [column, aliases] of Object.entries(ALIASES) as Array<[Column, string[]]>) {
      if (found[column] === undefined && aliases.includes(name)) {
        found[column] = index;
        break;
      }
    }
  });
  return found.date !== undefined && found.credit !== undefined ? found : undefined;
}

/** `12,345.67`, `￥12345.6`, `12345` → minor units (two decimals); null when it is not an amount. */
export function parseAmount(text: string, digits = 2): bigint | null {
  const clean = text.replace(/[,，\s¥￥]|CNY|RMB|元/gi, '');
  if (clean === '') return 0n;
  const match = /^([+-]?)(\d{1,15})(?:\.(\d+))?$/.exec(clean);
  if (!match) return null;
  const fraction = match[3] ?? '';
  if (fraction.length > digits && /[^0]/.test(fraction.slice(digits))) return null;
  const minor = BigInt(match[2]! + fraction.slice(0, digits).padEnd(digits, '0'));
  return match[1] === '-' ? -minor : minor;
}

/** `2026-03-05`, `2026/3/5`, `20260305`, `2026年3月5日`, optionally followed by a time. */
export function parseDate(text: string): string | null {
  const match =
    /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$/.exec(text.trim()) ??
    /^(\d{4})(\d{2})(\d{2})(?:[ T]?\d{2}:?\d{2}(?::?\d{2})?)?$/.exec(text.trim());
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return null;
  return `${match[1]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The statement's lines after its header row, each read as far as it can be. */
export function readStatement(bytes: Buffer, defaultCurrency = 'CNY'): StatementLine[] {
  if (!bytes.length) unreadable('the file is empty');
  const text = decodeText(bytes);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, {
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
      max_record_size: MAX_RECORD_CHARS,
      to_line: MAX_ROWS + HEADER_SEARCH_LINES + 1,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (error) {
    unreadable((error as Error).message.slice(0, 200));
  }
  const headerIndex = records.slice(0, HEADER_SEARCH_LINES).findIndex(({ record }) => headerColumns(record));
  if (headerIndex < 0) {
    unreadable('no header row with a date (交易日期) and a credit amount (贷方金额 / 金额) column');
  }
  const columns = headerColumns(records[headerIndex]!.record)!;
  const body = records.slice(headerIndex + 1);
  if (body.length > MAX_ROWS) unreadable(`more than ${MAX_ROWS} rows; split the statement`);
  const cell = (cells: string[], column: Column) => {
    const index = columns[column];
    return index === undefined ? '' : (cells[index] ?? '').slice(0, 500);
  };
  return body.map(({ record, info }) => {
    const cells = record.slice(0, MAX_CELLS);
    const dateText = cell(cells, 'date');
    const creditText = cell(cells, 'credit');
    const debitText = cell(cells, 'debit');
    const receivedOn = parseDate(dateText);
    const credit = parseAmount(creditText);
    const debit = parseAmount(debitText);
    const outgoing = (credit !== null && credit < 0n) || (credit === 0n && debit !== null && debit > 0n);
    let problem: string | null = null;
    if (!receivedOn) problem = `the date ${JSON.stringify(dateText.slice(0, 40))} is not a date`;
    else if (credit === null)
      problem = `the amount ${JSON.stringify(creditText.slice(0, 40))} is not an amount`;
    const currency = (cell(cells, 'currency').toUpperCase().replace('人民币', 'CNY').replace('RMB', 'CNY') ||
      defaultCurrency) as string;
    return {
      row: info.lines,
      receivedOn,
      amountMinor: credit,
      outgoing,
      currency: /^[A-Z]{3}$/.test(currency) ? currency : defaultCurrency,
      remark: cell(cells, 'remark'),
      bankReference: cell(cells, 'bankReference') || null,
      payer: cell(cells, 'payer') || null,
      fingerprint: createHash('sha256').update(JSON.stringify(cells)).digest('hex').slice(0, 32),
      problem,
    };
  });
}
