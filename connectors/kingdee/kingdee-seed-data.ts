import type { KingdeeSimulator } from './kingdee.simulator.ts';

/** An older modification time, well outside the streams' five-minute look-back. */
export const LONG_AGO = '2024-01-01T08:00:00';

/** Seeds one outbound stock bill (销售出库单) with `lines` lines. */
export function seedOutstockBill(
  simulator: KingdeeSimulator,
  billNo: string,
  options: { lines?: number; status?: string; modifiedAt?: string; salesOrder?: string } = {},
): number {
  const lines = Array.from({ length: options.lines ?? 2 }, (_, index) => ({
    FMaterialId: { FNumber: `MAT${String(index + 1).padStart(6, '0')}` },
    FRealQty: index + 1,
    FUnitID: { FNumber: 'Pcs' },
    FStockId: { FNumber: 'CK001' },
    FSoorDerno: options.salesOrder ?? 'HUB-SO-0001',
  }));
  const [id] = simulator.seed(
    'SAL_OUTSTOCK',
    [
      {
        FBillNo: billNo,
        FDate: '2024-04-12T00:00:00',
        FCustomerID: { FNumber: 'CUST0001' },
        FCarrierID: { FNumber: 'SF' },
        FCarriageNO: `SF${billNo}`,
        FDocumentStatus: options.status ?? 'C',
        FEntity: lines,
      },
    ],
    { modifiedAt: options.modifiedAt },
  );
  return id as number;
}

export function seedReceivable(simulator: KingdeeSimulator, billNo: string, modifiedAt?: string): number {
  const [id] = simulator.seed(
    'AR_receivable',
    [
      {
        FBillNo: billNo,
        FDate: '2024-04-12T00:00:00',
        FENDDATE_H: '2024-05-12T00:00:00',
        FCUSTOMERID: { FNumber: 'CUST0001' },
        FCURRENCYID: { FNumber: 'PRE001' },
        FALLAMOUNTFOR: 1130.0,
      },
    ],
    { modifiedAt },
  );
  return id as number;
}

/** A SAL_SaleOrder Save payload (fact sheet §1.3) for customer CUST0001 and material MAT000001. */
export function salesOrderPayload(billNo: string): { Model: { FBillNo: string; [field: string]: unknown } } {
  return {
    Model: {
      FBillNo: billNo,
      FBillTypeID: { FNUMBER: 'XSDD01_SYS' },
      FDate: '2024-04-10 00:00:00',
      FSaleOrgId: { FNumber: '100' },
      FCustId: { FNumber: 'CUST0001' },
      FSaleOrderFinance: { FSettleCurrId: { FNumber: 'PRE001' }, FIsIncludedTax: true },
      FSaleOrderEntry: [
        {
          FMaterialId: { FNumber: 'MAT000001' },
          FUnitID: { FNumber: 'Pcs' },
          FQty: 2,
          FTaxPrice: 565.0,
          FEntryTaxRate: 13,
        },
      ],
    },
  };
}
