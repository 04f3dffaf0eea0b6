import { describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { MAX_ROWS, parseAmount, parseDate, readStatement } from './bank-statement.ts';

describe('bank statement CSV', () => {
  it('reads a GBK export with preface lines and Chinese headers', () => {
    const text = [
      '账号：6222000000000000000,,,,',
      '查询期间：2026-03-01 至 2026-03-31,,,,',
      '交易日期,交易流水号,对方户名,贷方金额,借方金额,摘要',
      '2026/03/05,BR001,艾克美工业,"12,345.60",,货款 HB7K2M9QXD',
      '20260306,BR002,某公司,,500.00,手续费',
      '2026年3月7日,BR003,华东机电,abc,,HB0000000',
      '2026-02-30,BR004,华东机电,1.00,,',
    ].join('\r\n');
    const lines = readStatement(iconv.encode(text, 'gbk'));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({
      row: 4,
      receivedOn: '2026-03-05',
      amountMinor: 1_234_560n,
      outgoing: false,
      currency: 'CNY',
      remark: '货款 HB7K2M9QXD',
      bankReference: 'BR001',
      payer: '艾克美工业',
      problem: null,
    });
    expect(lines[1]).toMatchObject({ receivedOn: '2026-03-06', outgoing: true });
    expect(lines[2]!.problem).toMatch(/not an amount/);
    expect(lines[3]!.problem).toMatch(/not a date/);
  });

  it('reads UTF-8 with a BOM and English headers', () => {
    const text = '\uFEFFDate,Amount,Remark,Reference\n2026-03-05,99.9,HBABCDEFGH,X1\n';
    const [line] = readStatement(Buffer.from(text, 'utf8'));
    expect(line).toMatchObject({ amountMinor: 9_990n, remark: 'HBABCDEFGH', bankReference: 'X1' });
  });

  it('refuses a file without a header it understands, and one with too many rows', () => {
    expect(() => readStatement(Buffer.from('a,b,c\n1,2,3\n'))).toThrow(/no header row/);
    expect(() => readStatement(Buffer.alloc(0))).toThrow(/empty/);
    const rows = Array.from({ length: MAX_ROWS + 1 }, (_, i) => `2026-03-05,1.00,row ${i}`);
    expect(() => readStatement(Buffer.from(['日期,金额,附言', ...rows].join('\n')))).toThrow(
      /more than 5000 rows/,
    );
  });

  it('parses amounts exactly and dates strictly', () => {
    expect(parseAmount('￥1,234.5')).toBe(123_450n);
    expect(parseAmount('0.10')).toBe(10n);
    expect(parseAmount('1.005')).toBeNull();
    expect(parseAmount('1.000')).toBe(100n);
    expect(parseAmount('-20')).toBe(-2_000n);
    expect(parseAmount('1e5')).toBeNull();
    expect(parseDate('2026-3-5 10:22:01')).toBe('2026-03-05');
    expect(parseDate('2026-13-01')).toBeNull();
    expect(parseDate('05/03/2026')).toBeNull();
  });
});
