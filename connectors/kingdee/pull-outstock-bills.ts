import type { IncrementalQuery } from './kingdee-query-paging.ts';

/**
 * SAL_OUTSTOCK (销售出库单, not STK_OutStock which is 其他出库): audited bills with their lines
 * (FEntity), grouped into one record per bill; the source sales order numbers are on the lines.
 */
export const outstockBillsQuery: IncrementalQuery = {
  formId: 'SAL_OUTSTOCK',
  idField: 'FID',
  modifiedField: 'FModifyDate',
  fieldKeys: [
    'FBillNo',
    'FDate',
    'FCustomerID.FNumber',
    'FCarrierID.FNumber',
    'FCarriageNO',
    'FDocumentStatus',
  ],
  filter: "FDocumentStatus = 'C'",
  lookbackSeconds: 300,
  lines: {
    name: 'FEntity',
    entryIdField: 'FEntity_FEntryID',
    fieldKeys: ['FMaterialId.FNumber', 'FRealQty', 'FUnitID.FNumber', 'FStockId.FNumber', 'FSoorDerno'],
  },
};
