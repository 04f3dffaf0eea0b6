import type { WriteResult } from '../sdk/connector.ts';
import { MappingError } from '../sdk/connector-errors.ts';
import type { KingdeeClient } from './kingdee-client.ts';
import { findSalesOrder, SALES_ORDER_FORM } from './sales-order-lookup.ts';

/**
 * Cancels a sales order by FBillNo: an audited bill is un-audited, a submitted one withdrawn
 * (CancelAssign), then the bill is deleted. A bill that is not there counts as cancelled, so a
 * repeat is harmless. Kingdee refuses UnAudit when downstream bills exist (an outbound stock
 * bill): that is a permanent error for a person to resolve.
 */
export async function cancelSalesOrder(
  client: KingdeeClient,
  payload: unknown,
  options: { signal?: AbortSignal } = {},
): Promise<WriteResult> {
  const billNo = (payload as { FBillNo?: unknown } | null)?.FBillNo;
  if (typeof billNo !== 'string' || billNo.trim() === '')
    throw new MappingError('A cancellation needs FBillNo');
  const { signal } = options;
  const bill = await findSalesOrder(client, billNo, signal);
  if (!bill) return { externalId: billNo, outcome: 'not-found' };
  if (bill.status === 'C') await client.workflow('UnAudit', SALES_ORDER_FORM, [billNo], signal);
  if (bill.status === 'B') await client.workflow('CancelAssign', SALES_ORDER_FORM, [billNo], signal);
  await client.workflow('Delete', SALES_ORDER_FORM, [billNo], signal);
  return { externalId: billNo, outcome: 'deleted', details: { id: bill.id, previousStatus: bill.status } };
}
