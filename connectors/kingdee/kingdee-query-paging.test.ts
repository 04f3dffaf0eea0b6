import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ReadPage } from '../sdk/connector.ts';
import { KingdeeSimulator } from './kingdee.simulator.ts';
import { KingdeeClient } from './kingdee-client.ts';
import { createKingdeeConnector } from './kingdee-connector.ts';
import { minusSeconds } from './kingdee-query-paging.ts';
import { LONG_AGO, seedOutstockBill } from './kingdee-seed-data.ts';

let simulator: KingdeeSimulator;
const connector = createKingdeeConnector();

beforeAll(async () => {
  simulator = await KingdeeSimulator.start();
});

afterAll(async () => {
  await connector.close?.();
  await simulator.close();
});

function connection() {
  return simulator.connection({ requestsPerSecond: 1000 });
}

describe('incremental streams', () => {
  it('read every row once across page boundaries while rows are modified during the read', async () => {
    // All rows share one modification time, as after a bulk import: ties broken by id.
    simulator.seedMaterials(10, { prefix: 'PG', modifiedAt: LONG_AGO });
    const seen: string[] = [];
    const pages: ReadPage[] = [];
    let modified = false;
    for await (const page of connector.read(connection(), 'materials', null, { pageSize: 3 })) {
      pages.push(page);
      seen.push(...page.records.map((record) => String(record.FNumber)));
      if (!modified) {
        modified = true;
        simulator.advanceClock(1);
        // One row already read (moves behind the read position) and one not yet read.
        simulator.modify('BD_MATERIAL', 'PG000001', { FName: 'renamed while reading' });
        simulator.modify('BD_MATERIAL', 'PG000008', { FName: 'renamed while reading' });
      }
    }
    const expected = Array.from({ length: 10 }, (_, index) => `PG${String(index + 1).padStart(6, '0')}`);
    expect(new Set(seen)).toEqual(new Set(expected));
    // The row modified after it was read comes again as its new version; nothing else twice.
    expect(seen.filter((number) => number === 'PG000001')).toHaveLength(2);
    expect(seen.filter((number) => number === 'PG000008')).toHaveLength(1);
    expect(seen).toHaveLength(11);
    const last = pages.at(-1)?.records.at(-1);
    expect(last?.FName).toBe('renamed while reading');
  });

  it('shows why offsets are not used: StartRow paging skips a row when an already read row is modified', async () => {
    simulator.seedMaterials(6, { prefix: 'OFF', modifiedAt: LONG_AGO });
    const client = new KingdeeClient(connection().config, connection().credentials);
    const query = {
      FormId: 'BD_MATERIAL',
      FieldKeys: ['FNumber'],
      FilterString: "FNumber LIKE 'OFF%'",
      OrderString: 'FModifyDate ASC, FMATERIALID ASC',
      Limit: 3,
    };
    const first = await client.executeBillQuery({ ...query, StartRow: 0 });
    simulator.advanceClock(1);
    simulator.modify('BD_MATERIAL', 'OFF000001', { FName: 'moved' });
    const second = await client.executeBillQuery({ ...query, StartRow: 3 });
    const seen = [...first, ...second].map((row) => row[0]);
    expect(seen).not.toContain('OFF000004'); // the simulator is faithful enough to show the skip
  });

  it('starts a later run at the stored cursor minus the look-back window', async () => {
    const base = '2024-06-01T10:00:00';
    simulator.seed('BD_Customer', [{ FNumber: 'LB-OLD', FName: 'old' }], {
      modifiedAt: minusSeconds(base, 3600),
    });
    simulator.seed('BD_Customer', [{ FNumber: 'LB-EDGE', FName: 'edge' }], {
      modifiedAt: minusSeconds(base, 200),
    });
    simulator.seed('BD_Customer', [{ FNumber: 'LB-LAST', FName: 'last' }], { modifiedAt: base });
    const cursor = JSON.stringify({ modifiedAt: base, id: 0 });
    const numbers: string[] = [];
    for await (const page of connector.read(connection(), 'customers', cursor, { pageSize: 100 })) {
      numbers.push(...page.records.map((record) => String(record.FNumber)));
    }
    // 300 s look-back: the row 200 s before the cursor is read again, the one an hour before is not.
    expect(numbers).toContain('LB-EDGE');
    expect(numbers).toContain('LB-LAST');
    expect(numbers).not.toContain('LB-OLD');
  });

  it('groups bill lines into one record per bill, never splitting a bill across pages', async () => {
    for (let index = 1; index <= 4; index += 1) {
      seedOutstockBill(simulator, `GRP${index}`, { lines: 3, modifiedAt: '2024-07-01T00:00:00' });
    }
    const bills: Record<string, unknown>[] = [];
    for await (const page of connector.read(connection(), 'outstockBills', null, { pageSize: 5 })) {
      bills.push(...page.records);
    }
    const grouped = bills.filter((bill) => String(bill.FBillNo).startsWith('GRP'));
    expect(grouped.map((bill) => bill.FBillNo)).toEqual(['GRP1', 'GRP2', 'GRP3', 'GRP4']);
    for (const bill of grouped) {
      expect((bill.FEntity as Record<string, unknown>[]).map((line) => line['FMaterialId.FNumber'])).toEqual([
        'MAT000001',
        'MAT000002',
        'MAT000003',
      ]);
      expect(bill.FCarriageNO).toBe(`SF${String(bill.FBillNo)}`);
    }
  });

  it('refuses a bill with more lines than a page holds instead of looping', async () => {
    const isolated = await KingdeeSimulator.start();
    try {
      seedOutstockBill(isolated, 'BIG', { lines: 6 });
      const pages = connector.read(isolated.connection(), 'outstockBills', null, { pageSize: 4 });
      await expect(
        (async () => {
          for await (const _page of pages) {
            // drain
          }
        })(),
      ).rejects.toThrow(/more lines than one page/);
    } finally {
      await isolated.close();
    }
  });
});

describe('stock (full read by StartRow/Limit)', () => {
  it('reads the whole snapshot in FID order, quantities changed mid-read included', async () => {
    const isolated = await KingdeeSimulator.start();
    try {
      const ids = isolated.seedStock(['A1', 'A2', 'A3', 'A4', 'A5'], ['CK001', 'CK002'], 10);
      const rows: Record<string, unknown>[] = [];
      let changed = false;
      for await (const page of connector.read(isolated.connection(), 'stock', null, { pageSize: 3 })) {
        rows.push(...page.records);
        expect(page.nextCursor).toBeNull();
        if (!changed) {
          changed = true;
          isolated.setStock(ids[9] as number, 42);
        }
      }
      expect(rows).toHaveLength(10);
      expect(rows.map((row) => row.FID)).toEqual(ids);
      expect(rows.at(-1)).toMatchObject({
        'FMaterialId.FNumber': 'A5',
        'FStockId.FNumber': 'CK002',
        FBaseQty: 42,
      });
    } finally {
      await isolated.close();
    }
  });
});
