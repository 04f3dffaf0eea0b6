import { UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { LIMITS } from './carts-area.ts';

/**
 * Quick-order rows from what buyers paste or upload: a SKU code and a quantity per row, read from
 * cells (a CSV or XLSX row) or from a pasted line (cells copied from Excel arrive tab-separated;
 * people also type `SKU,qty`, `SKU;qty` or `SKU qty`). A first row naming the columns is a header:
 * it picks the SKU and quantity columns and is skipped; without one the SKU is the first cell and
 * the quantity the second. Full-width characters (１２, ，) are read as their ASCII forms.
 */

/** One row of input: 1-based `row` as the buyer sees it (the line of the text or file). */
export interface SheetRow {
  row: number;
  cells: string[];
}

export interface QuickOrderRow {
  row: number;
  /** The SKU code as given, trimmed. */
  sku: string;
  /** A whole number from 1 to 1,000,000, or null when the cell holds anything else. */
  quantity: number | null;
  /** Why the quantity is null. */
  quantityProblem: string | null;
}

const SKU_HEADERS = new Set([
  'sku',
  'skucode',
  'code',
  'item',
  'itemcode',
  'itemno',
  'part',
  'partno',
  'partnumber',
  'article',
  'articleno',
  'material',
  'materialno',
  'productcode',
  '物料编码',
  '物料号',
  '物料代码',
  '编码',
  '商品编码',
  '产品编码',
  '货号',
  '型号',
  'sku编码',
]);
const QUANTITY_HEADERS = new Set(['qty', 'quantity', 'count', '数量', '订购数量', '采购数量', '订货数量']);

const headerKey = (cell: string) =>
  cell
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_.#:-]/g, '');

/** Which columns hold the SKU and the quantity, and whether the first row is a header. */
function columnsOf(first: SheetRow | undefined): { sku: number; quantity: number; header: boolean } {
  if (!first) return { sku: 0, quantity: 1, header: false };
  const keys = first.cells.map(headerKey);
  const sku = keys.findIndex((key) => SKU_HEADERS.has(key));
  const quantity = keys.findIndex((key) => QUANTITY_HEADERS.has(key));
  if (sku >= 0 && quantity >= 0) return { sku, quantity, header: true };
  // One column named: the other one is the first column left.
  if (sku >= 0) return { sku, quantity: sku === 0 ? 1 : 0, header: true };
  if (quantity >= 0) return { sku: quantity === 0 ? 1 : 0, quantity, header: true };
  return { sku: 0, quantity: 1, header: false };
}

/** A quantity cell: a whole number (thousands separators and a `.0` tolerated) within the line bound. */
export function quantityOf(cell: string | undefined): { quantity: number | null; problem: string | null } {
  const text = (cell ?? '').normalize('NFKC').trim();
  if (!text) return { quantity: null, problem: 'no quantity given' };
  const plain = /^\d{1,3}(,\d{3})+$/.test(text) ? text.replaceAll(',', '') : text;
  const match = /^(\d{1,9})(?:\.0*)?$/.exec(plain);
  if (!match) return { quantity: null, problem: `"${text.slice(0, 20)}" is not a whole number` };
  const quantity = Number(match[1]);
  if (quantity < 1) return { quantity: null, problem: 'the quantity must be at least 1' };
  if (quantity > LIMITS.maxQuantity) {
    return {
      quantity: null,
      problem: `the quantity must be at most ${LIMITS.maxQuantity.toLocaleString('en')}`,
    };
  }
  return { quantity, problem: null };
}

function tooManyRows(): never {
  throw new UnprocessableRequest(
    'too-many-rows',
    `A quick order takes at most ${LIMITS.quickOrderRows} rows: split it into several`,
  );
}

/** Rows of SKU and quantity from sheet rows (blank rows dropped; at most 500 rows, else 422). */
export function quickOrderRows(sheet: readonly SheetRow[]): QuickOrderRow[] {
  const nonEmpty = sheet.filter((row) => row.cells.some((cell) => cell.trim() !== ''));
  const columns = columnsOf(nonEmpty[0]);
  const data = columns.header ? nonEmpty.slice(1) : nonEmpty;
  if (data.length > LIMITS.quickOrderRows) tooManyRows();
  return data.map((row) => {
    const { quantity, problem } = quantityOf(row.cells[columns.quantity]);
    return {
      row: row.row,
      sku: (row.cells[columns.sku] ?? '').normalize('NFKC').trim(),
      quantity,
      quantityProblem: problem,
    };
  });
}

/** The cells of one pasted line: tab-separated when it has tabs, else by `,` / `;`, else by spaces. */
function cellsOfLine(line: string): string[] {
  const text = line.normalize('NFKC').trim();
  if (text.includes('\t')) return text.split('\t').map((cell) => cell.trim());
  if (/[,;]/.test(text)) return text.split(/[,;]/).map((cell) => cell.trim());
  return text.split(/\s+/);
}

/** Rows of pasted text, one per line (at most 500 non-empty lines, else 422). */
export function rowsOfText(text: string): QuickOrderRow[] {
  const lines = text.split(/\r\n|\n|\r/);
  const nonEmpty = lines.reduce((n, line) => (line.trim() ? n + 1 : n), 0);
  // One header line may come on top of the 500 rows.
  if (nonEmpty > LIMITS.quickOrderRows + 1) tooManyRows();
  return quickOrderRows(lines.map((line, index) => ({ row: index + 1, cells: cellsOfLine(line) })));
}
