import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `hub mapping test` as a user runs it: a real process, its stdout, stderr and exit code. */
const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const hub = path.join(repository, 'core/cli/hub.ts');
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'hub-mapping-cli-'));
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runHub(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [hub, ...args],
      { cwd: repository, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const json = (file: string): unknown => JSON.parse(readFileSync(path.join(repository, file), 'utf8'));

test('prints the mapped record and exits 0', async () => {
  const cases = 'mappings/kingdee/sales-order.outbound.cases';
  const result = await runHub(
    'mapping',
    'test',
    'mappings/kingdee/sales-order.outbound.yaml',
    `${cases}/confirmed-order.input.json`,
    '--links',
    `${cases}/links.json`,
  );
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(result.stdout)).toEqual(json(`${cases}/confirmed-order.expected.json`));
}, 150_000);

test('a record that maps but breaks the target schema is printed with the schema errors, exit 1', async () => {
  const input = path.join(scratch, 'negative-stock.json');
  writeFileSync(
    input,
    JSON.stringify({
      snapshot_at: '2026-05-11 00:00:00',
      warehouse_code: 'WMS01-SH',
      sku: 'WASHER-M8-A2',
      batch_no: '',
      status: 'available',
      qty_on_hand: '-5',
      qty_allocated: '',
      qty_available: '0',
    }),
  );
  const result = await runHub('mapping', 'test', 'mappings/wms/stock-snapshot.inbound.yaml', input);
  expect(result.code).toBe(1);
  expect(JSON.parse(result.stdout)).toMatchObject({ skuCode: 'WASHER-M8-A2', onHand: -5 });
  expect(result.stderr).toMatch(/1 error:\n\s+\/onHand\s+target-schema: must be >= 0/);
}, 150_000);

test('mapping errors print no record, exit 1', async () => {
  const result = await runHub(
    'mapping',
    'test',
    'mappings/kingdee/stock.inbound.yaml',
    'mappings/kingdee/stock.inbound.cases/fractional-quantity.input.json',
  );
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
  expect(result.stderr).toContain('/onHand  precision-loss');
}, 150_000);

test('a malformed mapping file is rejected with its file and line, exit 2', async () => {
  mkdirSync(path.join(scratch, 'broken'), { recursive: true });
  const file = path.join(scratch, 'broken', 'thing.inbound.yaml');
  writeFileSync(file, 'direction: inbound\nfields:\n  a:\n    form: x\n');
  const input = path.join(scratch, 'empty.json');
  writeFileSync(input, '{}');
  const result = await runHub('mapping', 'test', file, input);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(`${file}:4:5: /fields/a/form: is not an allowed property`);
}, 150_000);
