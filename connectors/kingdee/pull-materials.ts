import type { IncrementalQuery } from './kingdee-query-paging.ts';

/** BD_MATERIAL (物料) by modification time; one record per material, keyed by FNumber. */
export const materialsQuery: IncrementalQuery = {
  formId: 'BD_MATERIAL',
  idField: 'FMATERIALID',
  modifiedField: 'FModifyDate',
  fieldKeys: [
    'FNumber',
    'FName',
    'FSpecification',
    'FBaseUnitId.FNumber',
    'FMaterialGroup.FNumber',
    'FDocumentStatus',
    'FForbidStatus',
  ],
  lookbackSeconds: 300,
};
