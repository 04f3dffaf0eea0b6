import type { IncrementalQuery } from './kingdee-query-paging.ts';

/** BD_Customer (客户) by modification time; one record per customer, keyed by FNumber. */
export const customersQuery: IncrementalQuery = {
  formId: 'BD_Customer',
  idField: 'FCUSTID',
  modifiedField: 'FModifyDate',
  fieldKeys: [
    'FNumber',
    'FName',
    'FShortName',
    'FTaxRegisterCode',
    'FTel',
    'FDocumentStatus',
    'FForbidStatus',
  ],
  lookbackSeconds: 300,
};
