/** Rows of a delivery instruction as the `delivery-instruction.outbound` mapping produces them. */
export function deliveryRows(orderNo: string, lines: number): Array<Record<string, string>> {
  return Array.from({ length: lines }, (_, index) => ({
    order_no: orderNo,
    customer_code: 'ACME-SH',
    warehouse_code: 'WMS01-SH',
    ship_to_name: '张敏',
    ship_to_phone: '13800138000',
    province: '上海市',
    city: '上海市',
    district: '浦东新区',
    address: '张江路 88 号, 3 号楼',
    carrier_code: 'SF',
    line_no: String(index + 1),
    sku: `DIN933-M8X30-${index + 1}`,
    qty: String((index + 1) * 2),
    uom: 'BX',
  }));
}
