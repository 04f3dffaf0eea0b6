/**
 * STK_Inventory (即时库存): the on-hand snapshot per material, warehouse and stock organisation.
 * It has no modification time to page by, so each run reads it whole, in FID order with
 * StartRow/Limit offsets (quantities change in place; rows keep their order).
 */
export const stockQuery = {
  formId: 'STK_Inventory',
  fieldKeys: [
    'FID',
    'FMaterialId.FNumber',
    'FStockId.FNumber',
    'FStockOrgId.FNumber',
    'FLot.FNumber',
    'FStockStatusId.FNumber',
    'FBaseQty',
    'FBaseLockQty',
    'FBaseUnitId.FNumber',
  ],
  orderBy: 'FID',
};
