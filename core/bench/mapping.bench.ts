/**
 * Throughput of the mapping engine, in process: 100,000 records through two real mapping files,
 * one at a time (the way a sync job maps a page), each compiled once.
 *
 * - kingdee/sales-order.outbound: a canonical order of 3 lines → SAL_SaleOrder Save Model (customer
 *   link, zoned date, code tables, money to decimals, JSONata note, `when` per line, target schema).
 * - kingdee/material.inbound: a BD_MATERIAL ExecuteBillQuery row → the inbound material record
 *   (columns, code tables, unit conversion, JSONata lifecycle, zoned date, canonical schema).
 *
 * Each beside a floor: the same material translation written by hand in plain TypeScript (no
 * checks, no schema), to show what the declarative layer costs. `BENCH_MAPPING_RECORDS` records
 * per run (default 100,000).
 *
 * Run alone: `node core/bench/mapping.bench.ts` (through npm's Node 24).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InMemoryLinkResolver } from '../platform/mapping/link-resolver.ts';
import { loadMapping } from '../platform/mapping/mapping-engine.ts';

export interface MappingFigures {
  name: string;
  records: number;
  perSecond: number;
  heapMiB: number;
}

const RECORDS = Number(process.env.BENCH_MAPPING_RECORDS ?? 100_000);
const mappings = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../mappings');

function order(index: number, companyId: string) {
  const money = (amountMinor: string) => ({ amountMinor, currency: 'CNY' });
  return {
    id: '0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f',
    number: `SO-2026-${String(index).padStart(7, '0')}`,
    companyId,
    placedBy: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
    unitId: null,
    status: 'confirmed',
    source: 'cart',
    cartId: null,
    quoteId: null,
    paymentMethod: 'credit',
    paymentId: null,
    poNumber: index % 2 ? `PO-${index}` : null,
    note: null,
    totals: { net: money('300000'), tax: money('39000'), gross: money('339000') },
    cancelReason: null,
    placedAt: new Date(Date.UTC(2026, 3, 1) + index * 60_000).toISOString(),
    updatedAt: '2026-04-10T16:35:00.000Z',
    version: 1,
    lines: [1, 2, 3].map((lineNo) => ({
      lineNo,
      skuId: '9e6f2d4b-5c7a-4f9e-9dab-4a5f6e7d8c93',
      skuCode: `SKU-${(index * 3 + lineNo) % 5000}`,
      productId: null,
      name: null,
      unit: lineNo === 2 ? 'box' : 'pcs',
      quantity: lineNo * 10,
      shippedQuantity: 0,
      openQuantity: lineNo * 10,
      unitPrice: money(String(1000 + lineNo * 333)),
      vatRate: 13,
      pricesIncludeTax: lineNo !== 3,
      net: money('100000'),
      tax: money('13000'),
      gross: money('113000'),
      priceListCode: null,
    })),
  };
}

function materialRow(index: number): unknown[] {
  return [
    `MAT-${index}`,
    `物料 ${index}`,
    index % 3 ? `M${index % 40}×${index % 90}` : '',
    'LS01',
    index % 2 ? 'Pcs' : '个',
    index % 5 ? (index % 1000) / 100 : 0,
    'kg',
    'SL04_SYS',
    index % 7 ? 'C' : 'A',
    index % 11 ? 'A' : 'B',
    `2026-04-${String((index % 28) + 1).padStart(2, '0')}T08:30:00`,
  ];
}

/** The material mapping written by hand, without checks: the floor the declarative layer is compared to. */
function materialByHand(row: unknown[]) {
  const [number, name, spec, group, unit, weight, , , status, forbid, modified] = row as [
    string,
    string,
    string,
    string,
    string,
    number,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    externalId: number,
    skuCode: number,
    nameZh: name,
    model: spec || null,
    categoryCode: group || null,
    unitOfMeasure: unit === 'Pcs' || unit === '个' ? 'pcs' : unit,
    ...(weight > 0 ? { weightGrams: Math.round(weight * 1000) } : {}),
    vatRate: 13,
    lifecycle: forbid === 'B' ? 'discontinued' : status === 'C' ? 'active' : 'draft',
    modifiedAt: new Date(`${modified}+08:00`).toISOString(),
  };
}

async function measure(
  name: string,
  records: number,
  work: (index: number) => unknown,
): Promise<MappingFigures> {
  for (let index = 0; index < Math.min(2000, records); index++) await work(index);
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const started = performance.now();
  for (let index = 0; index < records; index++) {
    await work(index);
    if (index % 5000 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }
  const seconds = (performance.now() - started) / 1000;
  return { name, records, perSecond: records / seconds, heapMiB: (heapPeak - heapBefore) / 2 ** 20 };
}

export async function benchMapping(): Promise<MappingFigures[]> {
  const companyId = '5b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  const links = new InMemoryLinkResolver({ customer: { [companyId]: 'CUST0001' } });
  const salesOrder = loadMapping(path.join(mappings, 'kingdee/sales-order.outbound.yaml'));
  const material = loadMapping(path.join(mappings, 'kingdee/material.inbound.yaml'));
  // Inputs are built beforehand so the loops time the mapping only.
  const orders = Array.from({ length: Math.min(RECORDS, 10_000) }, (_, index) => order(index, companyId));
  const rows = Array.from({ length: Math.min(RECORDS, 10_000) }, (_, index) => materialRow(index));
  const check = async () => {
    const model = (await salesOrder.map(orders[1], { links })) as { FSaleOrderEntry: unknown[] };
    if (model.FSaleOrderEntry.length !== 3) throw new Error('the sales order did not map');
    const mapped = (await material.map(rows[1])) as { weightGrams?: number };
    const byHand = materialByHand(rows[1] as unknown[]);
    if (mapped.weightGrams !== byHand.weightGrams) throw new Error('the hand-written floor maps differently');
  };
  await check();
  return [
    await measure('kingdee/sales-order.outbound (order of 3 lines → Save Model)', RECORDS, (index) =>
      salesOrder.map(orders[index % orders.length], { links }),
    ),
    await measure('kingdee/material.inbound (BD_MATERIAL row → inbound material)', RECORDS, (index) =>
      material.map(rows[index % rows.length]),
    ),
    await measure('floor: the material translation by hand (no checks)', RECORDS, (index) =>
      materialByHand(rows[index % rows.length] as unknown[]),
    ),
  ];
}

export function mappingFiguresTable(rows: MappingFigures[]): string {
  const header = ['mapping', 'records', 'records/s', 'heap growth MiB'];
  const lines = rows.map((row) => [
    row.name,
    String(row.records),
    row.perSecond.toFixed(0),
    row.heapMiB.toFixed(1),
  ]);
  const widths = header.map((title, index) =>
    Math.max(title.length, ...lines.map((line) => line[index]?.length ?? 0)),
  );
  return [header, ...lines]
    .map((line) => line.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  '))
    .join('\n');
}

if (import.meta.main) {
  console.log(mappingFiguresTable(await benchMapping()));
}
