import type { WriteResult } from '../sdk/connector.ts';
import { MappingError } from '../sdk/connector-errors.ts';
import { type KingdeeClient, remoteMessages } from './kingdee-client.ts';
import { type BillState, findSalesOrder, SALES_ORDER_FORM } from './sales-order-lookup.ts';

/** The Save payload of a sales order, as the mapping produces it (fact sheet §1.3). */
export interface SalesOrderSavePayload {
  Model: { FBillNo: string; [field: string]: unknown };
  [saveOption: string]: unknown;
}

const ALREADY_AUDITED = /已审核|already audited/i;
const ALREADY_SUBMITTED = /已提交|审核中|已审核|already submitted|already audited/i;

function assertPayload(payload: unknown): asserts payload is SalesOrderSavePayload {
  const model = (payload as { Model?: { FBillNo?: unknown } } | null)?.Model;
  if (typeof model !== 'object' || model === null)
    throw new MappingError('A sales order payload needs a Model');
  if (typeof model.FBillNo !== 'string' || model.FBillNo.trim() === '') {
    // The bill number is the key that makes the push repeatable; Kingdee's own numbering would not be.
    throw new MappingError('A sales order payload needs Model.FBillNo: it is what makes a retry safe');
  }
}

/**
 * The Save payload, given either the payload itself or the bare Model (what the sales-order
 * mapping in `mappings/kingdee/sales-order.outbound.yaml` produces: a record with FBillNo).
 */
function asSavePayload(payload: unknown): unknown {
  const record = payload as Record<string, unknown> | null;
  if (record && typeof record === 'object' && !('Model' in record) && 'FBillNo' in record) {
    return { Model: record };
  }
  return payload;
}

/**
 * Pushes one sales order: Save, then Submit and Audit as the connection is configured.
 *
 * Safe to repeat at any point: the bill is first looked up by FBillNo and the workflow continues
 * from its status (A → Submit → B → Audit → C). When Save gets no answer (timeout after commit),
 * or fails because the number already exists (a concurrent or earlier attempt won), the bill is
 * looked up again before anything else, so no second bill is ever created. Re-auditing an audited
 * bill is a business error in Kingdee ("已审核"), treated as done.
 */
export async function pushSalesOrder(
  client: KingdeeClient,
  payload: unknown,
  options: { workflow: 'save' | 'submit' | 'audit'; signal?: AbortSignal },
): Promise<WriteResult> {
  payload = asSavePayload(payload);
  assertPayload(payload);
  const billNo = payload.Model.FBillNo;
  const { signal } = options;
  let bill = await findSalesOrder(client, billNo, signal);
  let outcome: WriteResult['outcome'] = 'unchanged';
  if (!bill) {
    const data = { IsAutoSubmitAndAudit: 'false', ...payload, Model: { FID: 0, ...payload.Model } };
    try {
      const saved = await client.save(SALES_ORDER_FORM, data, signal);
      bill = { id: saved.id, number: saved.number, status: 'A' };
    } catch (error) {
      // If the lookup fails too, the Save's own error says more (maybe committed, refused, ...).
      const found = await findSalesOrder(client, billNo, signal).catch(() => {
        throw error;
      });
      if (!found) throw error;
      bill = found;
    }
    outcome = 'created';
  }
  const start = bill.status;
  bill = await advance(client, bill, options.workflow, signal);
  if (outcome === 'unchanged' && bill.status !== start) outcome = 'updated';
  return { externalId: bill.number, outcome, details: { id: bill.id, documentStatus: bill.status } };
}

async function advance(
  client: KingdeeClient,
  bill: BillState,
  workflow: 'save' | 'submit' | 'audit',
  signal?: AbortSignal,
): Promise<BillState> {
  let current = bill;
  if (workflow !== 'save' && (current.status === 'A' || current.status === 'Z' || current.status === 'D')) {
    await step(client, 'Submit', current.number, ALREADY_SUBMITTED, signal);
    current = { ...current, status: 'B' };
  }
  if (workflow === 'audit' && current.status === 'B') {
    await step(client, 'Audit', current.number, ALREADY_AUDITED, signal);
    current = { ...current, status: 'C' };
  }
  return current;
}

async function step(
  client: KingdeeClient,
  operation: 'Submit' | 'Audit',
  billNo: string,
  alreadyDone: RegExp,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await client.workflow(operation, SALES_ORDER_FORM, [billNo], signal);
  } catch (error) {
    // A step another attempt already took (or a later one) is done, not failed.
    if (alreadyDone.test(remoteMessages(error))) return;
    throw error;
  }
}
