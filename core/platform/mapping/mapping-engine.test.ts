import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InMemoryLinkResolver } from './link-resolver.ts';
import { type CompiledMapping, loadMapping, type MappingOptions } from './mapping-engine.ts';
import { MappingError, MappingFileError } from './mapping-error.ts';

/**
 * The engine's features, each with a case a wrong engine gets wrong. Every test writes its own
 * small mappings folder (<root>/test/<entity>.<direction>.yaml, <root>/lookups/*.yaml).
 */
let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'mapping-engine-'));
  mkdirSync(path.join(root, 'test'));
  mkdirSync(path.join(root, 'lookups'));
  writeFileSync(
    path.join(root, 'lookups', 'units.yaml'),
    [
      'kind: code-table',
      'columns: [hub, erp]',
      'rows:',
      '  - { hub: pcs, erp: [Pcs, 个] }',
      '  - { hub: box, erp: Box }',
    ].join('\n'),
  );
  writeFileSync(
    path.join(root, 'lookups', 'weights.yaml'),
    ['kind: unit-factors', 'base: g', 'factors: { g: 1, kg: 1000, lb: "453.59237" }'].join('\n'),
  );
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;

function mappingFile(yaml: string, direction: 'inbound' | 'outbound' = 'inbound'): string {
  counter += 1;
  const file = path.join(root, 'test', `case-${counter}.${direction}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

function mapping(yaml: string, options?: MappingOptions): CompiledMapping {
  const direction = /direction: (inbound|outbound)/.exec(yaml)?.[1] as 'inbound' | 'outbound';
  return loadMapping(mappingFile(yaml, direction), options);
}

function loadProblem(yaml: string, direction: 'inbound' | 'outbound' = 'inbound'): MappingFileError {
  try {
    loadMapping(mappingFile(yaml, direction));
  } catch (error) {
    expect(error).toBeInstanceOf(MappingFileError);
    return error as MappingFileError;
  }
  throw new Error('the mapping loaded');
}

describe('value maps (code tables)', () => {
  const unitField = (unknown: string) => `
direction: inbound
fields:
  unit:
    from: u
    map: { table: units, from: erp, to: hub${unknown} }
`;

  test('a code and each of its aliases translate to the first code of the other column', async () => {
    const units = mapping(unitField(''));
    await expect(units.map({ u: 'Pcs' })).resolves.toEqual({ unit: 'pcs' });
    await expect(units.map({ u: '个' })).resolves.toEqual({ unit: 'pcs' });
    await expect(units.map({ u: 'Box' })).resolves.toEqual({ unit: 'box' });
  });

  test('an unknown code is an error by default, naming the code and the table', async () => {
    await expect(mapping(unitField('')).tryMap({ u: '桶' })).resolves.toEqual({
      ok: false,
      errors: [
        { path: '/unit', code: 'unknown-code', message: '"桶" is not in code table units (column erp)' },
      ],
    });
  });

  test('unknown: default writes the default; unknown: pass-through writes the code unchanged', async () => {
    await expect(mapping(unitField(', unknown: default, default: pcs')).map({ u: '桶' })).resolves.toEqual({
      unit: 'pcs',
    });
    await expect(mapping(unitField(', unknown: pass-through')).map({ u: '桶' })).resolves.toEqual({
      unit: '桶',
    });
  });

  test('matching is exact unless the table says case-insensitive', async () => {
    await expect(mapping(unitField('')).tryMap({ u: 'PCS' })).resolves.toMatchObject({ ok: false });
  });

  test('inline values translate like a table', async () => {
    const status = mapping(`
direction: inbound
fields:
  status: { from: s, map: { values: { A: active, B: blocked } } }
`);
    await expect(status.map({ s: 'B' })).resolves.toEqual({ status: 'blocked' });
    await expect(status.tryMap({ s: 'C' })).resolves.toMatchObject({
      ok: false,
      errors: [{ code: 'unknown-code' }],
    });
  });
});

describe('required fields, defaults and whole-or-nothing records', () => {
  const order = () =>
    mapping(`
direction: inbound
fields:
  number: { from: no, required: true }
  note: { from: remark }
  priority: { from: prio, default: normal }
  dueAt: { from: due, default: null }
`);

  test('a missing required value is an error and no record is returned, not even the fields that mapped', async () => {
    const result = await order().tryMap({ remark: 'fine' });
    expect(result).toEqual({
      ok: false,
      errors: [
        { path: '/number', code: 'required', message: 'is required but the record has no value for it' },
      ],
    });
    await expect(order().map({ remark: 'fine' })).rejects.toBeInstanceOf(MappingError);
  });

  test('absent, null and empty text are all missing: omitted, or the default (null writes null)', async () => {
    await expect(order().map({ no: 'A1', remark: '', prio: null })).resolves.toEqual({
      number: 'A1',
      priority: 'normal',
      dueAt: null,
    });
  });

  test('MappingError lists every problem of the record at once', async () => {
    const several = mapping(`
direction: inbound
fields:
  a: { from: a, required: true }
  b: { from: b, type: integer }
  c: { from: c, required: true }
`);
    const error = (await several.map({ b: 'x' }).catch((caught: unknown) => caught)) as MappingError;
    expect(error).toBeInstanceOf(MappingError);
    expect(error.entries.map((entry) => [entry.path, entry.code])).toEqual([
      ['/a', 'required'],
      ['/b', 'invalid-type'],
      ['/c', 'required'],
    ]);
    expect(error.message).toContain('3 mapping errors');
  });
});

describe('arrays and nested lines', () => {
  const lines = () =>
    mapping(`
direction: inbound
fields:
  orderNo: { from: head.no, required: true }
  lines:
    each: items
    where: "$number(qty) > 0"
    fields:
      lineNo: { from: pos, type: integer }
      sku: { from: article.code, required: true }
      qty: { from: qty, type: integer }
      orderNo: { from: $root.head.no }
`);

  test('each item is mapped by the sub-mapping, $root reads the whole record, where filters items', async () => {
    await expect(
      lines().map({
        head: { no: 'SO-1' },
        items: [
          { pos: '1', article: { code: 'A' }, qty: 2 },
          { pos: '2', article: { code: 'B' }, qty: 0 },
          { pos: '3', article: { code: 'C' }, qty: '5' },
        ],
      }),
    ).resolves.toEqual({
      orderNo: 'SO-1',
      lines: [
        { lineNo: 1, sku: 'A', qty: 2, orderNo: 'SO-1' },
        { lineNo: 3, sku: 'C', qty: 5, orderNo: 'SO-1' },
      ],
    });
  });

  test('errors inside lines point at the line and the field', async () => {
    const result = await lines().tryMap({
      head: { no: 'SO-1' },
      items: [
        { pos: '1', article: { code: 'A' }, qty: 1 },
        { pos: '2', article: {}, qty: 1.5 },
      ],
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map((error) => [error.path, error.code])).toEqual([
      ['/lines/1/sku', 'required'],
      ['/lines/1/qty', 'invalid-type'],
    ]);
  });

  test('an each source that is not an array, or longer than maxItems, is an error', async () => {
    await expect(lines().tryMap({ head: { no: 'X' }, items: { pos: 1 } })).resolves.toMatchObject({
      errors: [{ path: '/lines', code: 'not-an-array' }],
    });
    const bounded = mapping(`
direction: inbound
fields:
  lines: { each: items, maxItems: 2, fields: { v: { from: v } } }
`);
    await expect(bounded.tryMap({ items: [{}, {}, {}] })).resolves.toMatchObject({
      errors: [{ path: '/lines', code: 'too-many-items' }],
    });
  });

  test('dotted targets build nested objects, written in the order of the mapping file', async () => {
    const nested = mapping(`
direction: outbound
fields:
  Z: { const: 1 }
  FCustId.FNumber: { from: customer }
  A: { const: 2 }
  FCustId.FName: { const: n }
`);
    const value = (await nested.map({ customer: 'C1' })) as Record<string, unknown>;
    expect(JSON.stringify(value)).toBe('{"Z":1,"FCustId":{"FNumber":"C1","FName":"n"},"A":2}');
  });

  test('array records are read by column name, dots and all', async () => {
    const row = mapping(`
direction: inbound
columns: [FNumber, FMaterialGroup.FNumber, FName]
fields:
  code: { from: FNumber }
  group: { from: FMaterialGroup.FNumber }
  label: { expr: "FName & ' (' & \`FMaterialGroup.FNumber\` & ')'" }
`);
    await expect(row.map(['M-1', 'G-7', 'Bolt'])).resolves.toEqual({
      code: 'M-1',
      group: 'G-7',
      label: 'Bolt (G-7)',
    });
    await expect(row.tryMap(['M-1', 'G-7'])).resolves.toMatchObject({
      ok: false,
      errors: [{ code: 'columns' }],
    });
  });

  test('paths read own properties only, never a prototype', async () => {
    const probe = mapping(`
direction: inbound
fields:
  a: { from: constructor, default: none }
  b: { from: x.__proto__.polluted, default: none }
`);
    await expect(probe.map(JSON.parse('{"x": {"__proto__": {"polluted": "yes"}}}'))).resolves.toEqual({
      a: 'none',
      b: 'yes',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('conditionals and expressions', () => {
  test('when writes a field only if its condition holds; expr computes values in JSONata', async () => {
    const priced = mapping(`
direction: outbound
fields:
  FTaxPrice: { when: gross, from: price }
  FPrice: { when: "gross = false", from: price }
  total: { expr: "$sum(lines.(qty * price))" }
`);
    await expect(priced.map({ gross: true, price: 5, lines: [{ qty: 2, price: 3 }] })).resolves.toEqual({
      FTaxPrice: 5,
      total: 6,
    });
    // $sum of no lines is no value: the field is left out like any missing value.
    await expect(priced.map({ gross: false, price: 5, lines: [] })).resolves.toEqual({ FPrice: 5 });
  });

  test('$error in an expression is a mapping error of that field', async () => {
    const guarded = mapping(`
direction: inbound
fields:
  order: { expr: "$count($distinct(rows.o)) = 1 ? rows[0].o : $error('rows name more than one order')" }
`);
    await expect(guarded.map({ rows: [{ o: 'A' }, { o: 'A' }] })).resolves.toEqual({ order: 'A' });
    await expect(guarded.tryMap({ rows: [{ o: 'A' }, { o: 'B' }] })).resolves.toMatchObject({
      errors: [
        { path: '/order', code: 'expression', message: expect.stringContaining('more than one order') },
      ],
    });
  });

  test('a hostile expression that loops forever is stopped by the time bound', async () => {
    const looping = mapping(
      `
direction: inbound
fields:
  x: { expr: "($f := function($n){ $f($n + 1) }; $f(0))" }
`,
      { expressionLimits: { timeoutMs: 50 } },
    );
    await expect(looping.tryMap({})).resolves.toMatchObject({
      ok: false,
      errors: [{ path: '/x', code: 'expression-timeout' }],
    });
  });

  test('deep recursion is stopped by the depth bound, huge ranges by the sequence bound', async () => {
    const recursive = mapping(`
direction: inbound
fields:
  x: { expr: "($f := function($n){ 1 + $f($n + 1) }; $f(0))" }
  y: { expr: "$sum([1..50000000])" }
`);
    const result = await recursive.tryMap({});
    expect(result.ok ? [] : result.errors.map((error) => [error.path, error.code])).toEqual([
      ['/x', 'expression-depth'],
      ['/y', 'expression'],
    ]);
  });

  test('$eval is refused at load time: record text must never become code', () => {
    const problem = loadProblem(`
direction: inbound
fields:
  x: { expr: "$eval(formula)" }
`);
    expect(problem.problems[0]).toMatchObject({ line: 4, pointer: '/fields/x/expr' });
    expect(problem.message).toContain('$eval is not allowed');
  });
});

describe('numbers, money and units without float errors', () => {
  test('decimal to minor units is exact: 1.005 rounds half-up to 101 (a float gives 100.49999...)', async () => {
    const money = mapping(`
direction: inbound
fields:
  rounded: { from: amount, money: { to: minor, currency: CNY, rounding: half-up } }
  evenly: { from: amount, money: { to: minor, currency: CNY, rounding: half-even } }
  yen: { from: yen, money: { to: minor, currency: JPY } }
  big: { from: big, money: { to: minor, currencyPath: cur } }
`);
    await expect(
      money.map({ amount: 1.005, yen: '1200', big: '123456789012345678.99', cur: 'CNY' }),
    ).resolves.toEqual({
      rounded: '101',
      evenly: '100',
      yen: '1200',
      big: '12345678901234567899',
    });
    expect(Math.round(1.005 * 100)).toBe(100);
  });

  test('without a rounding rule, a fraction of a minor unit is an error, not silently rounded', async () => {
    const strict = mapping(`
direction: inbound
fields:
  amount: { from: amount, money: { to: minor, currency: CNY } }
`);
    await expect(strict.tryMap({ amount: '0.125' })).resolves.toMatchObject({
      errors: [{ path: '/amount', code: 'precision-loss' }],
    });
    await expect(strict.tryMap({ amount: '1e999999' })).resolves.toMatchObject({
      errors: [{ code: 'invalid-number' }],
    });
  });

  test('minor units to decimal: 0.1 + 0.2 style sums stay exact', async () => {
    const decimal = mapping(`
direction: outbound
fields:
  price: { from: minor, money: { to: decimal, currencyPath: currency } }
  sum: { expr: "a + b", number: { scale: 2, rounding: half-up } }
`);
    await expect(decimal.map({ minor: '30', currency: 'CNY', a: 0.1, b: 0.2 })).resolves.toEqual({
      price: 0.3,
      sum: 0.3,
    });
    await expect(decimal.tryMap({ minor: '30.5', currency: 'CNY', a: 0, b: 0 })).resolves.toMatchObject({
      errors: [{ path: '/price', code: 'invalid-number' }],
    });
    await expect(decimal.tryMap({ minor: '30', currency: 'cny', a: 0, b: 0 })).resolves.toMatchObject({
      errors: [{ path: '/price', code: 'invalid-currency' }],
    });
  });

  test('unit conversion multiplies exactly by the factor table and rounds only where declared', async () => {
    const weight = mapping(`
direction: inbound
fields:
  grams: { from: w, unit: { table: weights, fromPath: wu, toUnit: g }, number: { scale: 0, rounding: half-up }, type: integer }
  exact: { from: w, unit: { table: weights, fromPath: wu, toUnit: g } }
`);
    await expect(weight.map({ w: '0.1', wu: 'kg' })).resolves.toEqual({ grams: 100, exact: 100 });
    await expect(weight.map({ w: '1.1', wu: 'lb' })).resolves.toEqual({ grams: 499, exact: 498.951607 });
    await expect(weight.tryMap({ w: 1, wu: '斤' })).resolves.toMatchObject({
      errors: [
        { path: '/grams', code: 'unknown-unit' },
        { path: '/exact', code: 'unknown-unit' },
      ],
    });
  });

  test('type integer refuses fractions and unsafe integers instead of truncating', async () => {
    const typed = mapping(`
direction: inbound
fields:
  n: { from: n, type: integer }
`);
    await expect(typed.map({ n: '42' })).resolves.toEqual({ n: 42 });
    await expect(typed.tryMap({ n: '4.2' })).resolves.toMatchObject({ errors: [{ code: 'invalid-type' }] });
    await expect(typed.tryMap({ n: '90071992547409930' })).resolves.toMatchObject({
      errors: [{ code: 'out-of-range' }],
    });
  });
});

describe('dates in time zones', () => {
  test('a China wall-clock time becomes the right UTC instant, and back', async () => {
    const dates = mapping(`
direction: inbound
fields:
  at: { from: at, date: { parse: "yyyy-MM-dd HH:mm:ss", format: iso, timezone: Asia/Shanghai } }
  back: { from: utc, date: { parse: iso, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai } }
`);
    await expect(dates.map({ at: '2026-03-31 23:30:00', utc: '2026-03-31T16:30:00Z' })).resolves.toEqual({
      at: '2026-03-31T15:30:00.000Z',
      back: '2026-04-01 00:30:00',
    });
  });

  test('daylight saving time is the zone rules, not a fixed offset', async () => {
    const newYork = mapping(`
direction: inbound
fields:
  winter: { from: w, date: { parse: "yyyy-MM-dd HH:mm", format: iso, timezone: America/New_York } }
  summer: { from: s, date: { parse: "yyyy-MM-dd HH:mm", format: iso, timezone: America/New_York } }
`);
    await expect(newYork.map({ w: '2026-01-15 12:00', s: '2026-07-15 12:00' })).resolves.toEqual({
      winter: '2026-01-15T17:00:00.000Z',
      summer: '2026-07-15T16:00:00.000Z',
    });
  });

  test('an ISO time without an offset, or a date that does not exist, is an error', async () => {
    const dates = mapping(`
direction: inbound
fields:
  iso: { from: iso, date: { parse: iso, format: iso } }
  local: { from: local, date: { parse: "yyyy-MM-dd", format: iso, timezone: Asia/Shanghai } }
`);
    await expect(dates.tryMap({ iso: '2026-03-31T16:30:00', local: '2026-02-30' })).resolves.toMatchObject({
      errors: [
        { path: '/iso', code: 'invalid-date' },
        { path: '/local', code: 'invalid-date' },
      ],
    });
  });
});

describe('links to ids of the other side', () => {
  const linked = `
direction: outbound
fields:
  customer: { from: companyId, link: { entity: customer, to: external } }
  owner: { from: userId, link: { entity: user, to: external, missing: omit } }
  group: { from: groupId, link: { entity: group, to: external, missing: "null" } }
`;
  const links = new InMemoryLinkResolver({ customer: { 'c-1': 'CUST0001' }, user: { 'u-1': 'EMP7' } });

  test('ids are replaced through the resolver', async () => {
    await expect(
      mapping(linked).map({ companyId: 'c-1', userId: 'u-1', groupId: 'g' }, { links }),
    ).resolves.toEqual({
      customer: 'CUST0001',
      owner: 'EMP7',
      group: null,
    });
  });

  test('a missing link is an error unless the mapping says null or omit', async () => {
    await expect(
      mapping(linked).tryMap({ companyId: 'c-2', userId: 'u-2', groupId: 'g' }, { links }),
    ).resolves.toEqual({
      ok: false,
      errors: [{ path: '/customer', code: 'unlinked', message: 'customer "c-2" has no external link' }],
    });
  });

  test('inbound links resolve external ids to canonical ones', async () => {
    const inbound = mapping(`
direction: inbound
fields:
  companyId: { from: FNumber, link: { entity: customer, to: canonical } }
`);
    await expect(inbound.map({ FNumber: 'CUST0001' }, { links })).resolves.toEqual({ companyId: 'c-1' });
    await expect(inbound.tryMap({ FNumber: 'CUST0001' })).resolves.toMatchObject({
      errors: [{ code: 'unlinked' }],
    });
  });
});

describe('schemas', () => {
  test('inbound records are checked against the canonical target schema', async () => {
    const stock = mapping(`
direction: inbound
target: commands/inbound-stock-level
fields:
  skuCode: { from: sku }
  warehouseCode: { const: SH-01 }
  batchNo: { const: null }
  status: { const: available }
  onHand: { from: qty, type: integer }
  allocated: { const: null }
  asOf: { const: null }
`);
    await expect(stock.map({ sku: 'A-1', qty: '3' })).resolves.toMatchObject({ skuCode: 'A-1', onHand: 3 });
    const result = await stock.tryMap({ sku: 'A-1', qty: '-3' });
    expect(result).toEqual({
      ok: false,
      errors: [{ path: '/onHand', code: 'target-schema', message: 'must be >= 0' }],
      unvalidated: expect.objectContaining({ onHand: -3 }),
    });
  });

  test('a source schema rejects a record before it is mapped', async () => {
    const checked = mapping(`
direction: outbound
source: entities/money
fields:
  amount: { from: amountMinor, money: { to: decimal, currencyPath: currency } }
`);
    await expect(checked.map({ amountMinor: '1999', currency: 'CNY' })).resolves.toEqual({ amount: 19.99 });
    await expect(checked.tryMap({ amountMinor: '19.99', currency: 'CNY' })).resolves.toMatchObject({
      errors: [{ path: '/amountMinor', code: 'source-schema' }],
    });
  });
});

describe('load-time checks name the file and line', () => {
  test('an unknown property is rejected by the meta-schema at its line', () => {
    const problem = loadProblem(`direction: inbound
fields:
  sku:
    from: code
    rounding: up
`);
    expect(problem.problems).toEqual([
      expect.objectContaining({
        line: 5,
        column: 5,
        pointer: '/fields/sku/rounding',
        message: 'is not an allowed property',
      }),
    ]);
    expect(problem.message).toMatch(
      /case-\d+\.inbound\.yaml:5:5: \/fields\/sku\/rounding: is not an allowed property/,
    );
  });

  test('a field with two sources, a bad path, a syntax error in JSONata, or an unknown table is refused', () => {
    expect(loadProblem('direction: inbound\nfields:\n  a: { from: x, const: 1 }\n').message).toContain(
      'exactly one of from, const, expr, fields',
    );
    expect(loadProblem('direction: inbound\nfields:\n  a: { from: "x..y" }\n').problems[0]).toMatchObject({
      line: 3,
      pointer: '/fields/a/from',
    });
    expect(loadProblem('direction: inbound\nfields:\n  a: { expr: "(1 + " }\n').message).toContain(
      'JSONata syntax error',
    );
    expect(
      loadProblem('direction: inbound\nfields:\n  a: { from: x, map: { table: nope, from: a, to: b } }\n')
        .message,
    ).toContain('nope.yaml');
    expect(
      loadProblem(
        'direction: inbound\nfields:\n  a: { from: x, map: { table: units, from: erp, to: wms } }\n',
      ).message,
    ).toContain('code table units has no column wms');
  });

  test('steps on an object or array of fields are refused rather than ignored', () => {
    expect(
      loadProblem('direction: inbound\nfields:\n  a: { each: xs, default: [], fields: { b: { from: b } } }\n')
        .message,
    ).toContain('take no default');
  });

  test('the direction must match the file name, and a date pattern needs a zone', () => {
    expect(loadProblem('direction: outbound\nfields:\n  a: { from: x }\n').message).toContain(
      'the file name says inbound',
    );
    expect(
      loadProblem(
        'direction: inbound\nfields:\n  a: { from: x, date: { parse: "yyyy-MM-dd", format: iso } }\n',
      ).message,
    ).toContain('name its timezone');
  });

  test('a YAML syntax error is reported with its line', () => {
    const problem = loadProblem('direction: inbound\nfields:\n  a: { from: x\n  b: 1\n');
    expect(problem.problems[0]?.line).toBeGreaterThanOrEqual(3);
  });

  test('a code table listing one code in two rows is ambiguous and refused', () => {
    writeFileSync(
      path.join(root, 'lookups', 'ambiguous.yaml'),
      'kind: code-table\ncolumns: [hub, erp]\nrows:\n  - { hub: a, erp: X }\n  - { hub: b, erp: [Y, X] }\n',
    );
    const problem = loadProblem(
      'direction: inbound\nfields:\n  a: { from: x, map: { table: ambiguous, from: erp, to: hub } }\n',
    );
    expect(problem.problems[0]).toMatchObject({ file: expect.stringContaining('ambiguous.yaml'), line: 5 });
    expect(problem.message).toContain('also in row 1');
  });
});
