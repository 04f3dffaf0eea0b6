import type { KingdeeClient } from './kingdee-client.ts';

export const SALES_ORDER_FORM = 'SAL_SaleOrder';

/** A FilterString text literal: single quotes, a quote inside doubled. */
export function filterLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export type DocumentStatus = 'Z' | 'A' | 'B' | 'C' | 'D';

export interface BillState {
  id: number;
  number: string;
  status: DocumentStatus;
}

/**
 * The sales order with this FBillNo, or `null`: the lookup that makes pushes and cancellations
 * safe to repeat (Save is not idempotent; a lost answer may hide a committed bill).
 */
export async function findSalesOrder(
  client: KingdeeClient,
  billNo: string,
  signal?: AbortSignal,
): Promise<BillState | null> {
  // One row per bill, not per entry: only header fields are asked for.
  const rows = await client.executeBillQuery(
    {
      FormId: SALES_ORDER_FORM,
      FieldKeys: ['FID', 'FBillNo', 'FDocumentStatus'],
      FilterString: `FBillNo = ${filterLiteral(billNo)}`,
      StartRow: 0,
      Limit: 2,
    },
    signal,
  );
  const row = rows[0];
  if (!row) return null;
  return { id: Number(row[0]), number: String(row[1]), status: String(row[2]) as DocumentStatus };
}
