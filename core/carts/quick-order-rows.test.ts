import { describe, expect, it } from '@jest/globals';
import { quantityOf, quickOrderRows, rowsOfText } from './quick-order-rows.ts';

const brief = (rows: ReturnType<typeof rowsOfText>) => rows.map((r) => [r.row, r.sku, r.quantity]);

describe('pasted quick-order text', () => {
  it('reads Excel cells (tabs), SKU,qty, SKU;qty and SKU qty, keeping line numbers', () => {
    const text = [
      'DIN933-M8X30\t20',
      '',
      'DIN934-M8, 15',
      'GB/T-97.1-8;100',
      '  6204-2RS   4  ',
      '\t',
      'LAST 1',
    ].join('\r\n');
    expect(brief(rowsOfText(text))).toEqual([
      [1, 'DIN933-M8X30', 20],
      [3, 'DIN934-M8', 15],
      [4, 'GB/T-97.1-8', 100],
      [5, '6204-2RS', 4],
      [7, 'LAST', 1],
    ]);
  });

  it('skips a first line naming the columns, in English or Chinese, and follows its order', () => {
    expect(brief(rowsOfText('SKU\tQty\nA-1\t5'))).toEqual([[2, 'A-1', 5]]);
    expect(brief(rowsOfText('数量,物料编码\n7,B-2'))).toEqual([[2, 'B-2', 7]]);
    expect(brief(rowsOfText('Part No.;Quantity\nC-3;9'))).toEqual([[2, 'C-3', 9]]);
  });

  it('reads full-width digits and separators as typed on a Chinese keyboard', () => {
    expect(brief(rowsOfText('Ａ-１，１２\nB-2　３'))).toEqual([
      [1, 'A-1', 12],
      [2, 'B-2', 3],
    ]);
  });

  it('keeps rows whose quantity is not a whole number, saying why', () => {
    const rows = rowsOfText('A-1 ten\nA-2 0\nA-3 2.5\nA-4 1000001\nA-5\nA-6 12.00');
    expect(rows.map((r) => [r.sku, r.quantity, r.quantityProblem])).toEqual([
      ['A-1', null, '"ten" is not a whole number'],
      ['A-2', null, 'the quantity must be at least 1'],
      ['A-3', null, '"2.5" is not a whole number'],
      ['A-4', null, 'the quantity must be at most 1,000,000'],
      ['A-5', null, 'no quantity given'],
      ['A-6', 12, null],
    ]);
  });

  it('refuses more than 500 rows as a whole, a header not counted', () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => `SKU-${i} 1`).join('\n');
    expect(rowsOfText(rows(500))).toHaveLength(500);
    expect(rowsOfText(`SKU\tQty\n${rows(500)}`)).toHaveLength(500);
    expect(() => rowsOfText(rows(501))).toThrow(
      expect.objectContaining({ code: 422, type: 'too-many-rows' }),
    );
    expect(() => rowsOfText(`${rows(501)}\n\n\n`)).toThrow(
      expect.objectContaining({ type: 'too-many-rows' }),
    );
  });
});

describe('quick-order cells', () => {
  it('takes thousands separators from spreadsheet cells', () => {
    expect(quantityOf('1,200')).toEqual({ quantity: 1200, problem: null });
    expect(quantityOf('12,00')).toEqual({ quantity: null, problem: '"12,00" is not a whole number' });
  });

  it('finds the columns by their header wherever they are', () => {
    const rows = quickOrderRows([
      { row: 1, cells: ['Line', 'Description', '物料编码', '数量'] },
      { row: 2, cells: ['1', 'Bolt', 'BOLT-1', '30'] },
      { row: 4, cells: ['2', 'Nut', 'NUT-1', '40'] },
    ]);
    expect(rows.map((r) => [r.row, r.sku, r.quantity])).toEqual([
      [2, 'BOLT-1', 30],
      [4, 'NUT-1', 40],
    ]);
  });

  it('without a header the SKU is the first cell and the quantity the second', () => {
    const rows = quickOrderRows([
      { row: 1, cells: ['BOLT-1', '30', 'ignored'] },
      { row: 2, cells: ['', '', ''] },
    ]);
    expect(rows.map((r) => [r.row, r.sku, r.quantity])).toEqual([[1, 'BOLT-1', 30]]);
  });
});
