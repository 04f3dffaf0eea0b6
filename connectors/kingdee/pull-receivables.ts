import type { IncrementalQuery } from './kingdee-query-paging.ts';

/** AR_receivable (应收单) headers by modification time: amount, currency, due date, status. */
export const receivablesQuery: IncrementalQuery = {
  formId: 'AR_receivable',
  idField: 'FID',
  modifiedField: 'FModifyDate',
  fieldKeys: [
    'FBillNo',
    'FDate',
    'FENDDATE_H',
    'FCUSTOMERID.FNumber',
    'FCURRENCYID.FNumber',
    'FALLAMOUNTFOR',
    'FDocumentStatus',
  ],
  lookbackSeconds: 300,
};
