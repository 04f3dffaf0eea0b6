import {
  contentWidth,
  createPdfDocument,
  drawTable,
  formatMoney,
  INK,
  pdfBytes,
  shanghaiDateTime,
} from '../../platform/documents/pdf-document.ts';
import type { PdfFont } from '../../platform/documents/pdf-font.ts';
import type { Money, OrderView } from '../order-store.ts';
import type { ShipmentView } from '../shipment-store.ts';

/**
 * The printable papers of an order, bilingual (Chinese first), A4:
 * - 销售订单 sales order: the order as placed, lines with unit price, VAT rate and amount, totals;
 * - 送货单 delivery note: per line ordered, shipped and still open, then each shipment (no prices);
 * - 发票 invoice: the receivable issued for the order (number, dates, amounts paid and due) with
 *   the order's lines; marked as not being a VAT fapiao (增值税发票 come from the tax system).
 */
export const ORDER_DOCUMENT_KINDS = ['sales-order', 'delivery-note', 'invoice'] as const;
export type OrderDocumentKind = (typeof ORDER_DOCUMENT_KINDS)[number];

export const DOCUMENT_TITLES: Record<OrderDocumentKind, { zh: string; en: string }> = {
  'sales-order': { zh: '销售订单', en: 'Sales order' },
  'delivery-note': { zh: '送货单', en: 'Delivery note' },
  invoice: { zh: '发票', en: 'Invoice' },
};

/** The receivable as receivables answers it (`entities/invoice-receivable`), the fields printed. */
export interface PrintedInvoice {
  number: string;
  issuedOn: string;
  dueDate: string;
  status: string;
  amount: Money;
  paid: Money;
  credited: Money;
  balance: Money;
}

export interface OrderDocumentData {
  order: OrderView;
  companyName: string;
  shipments: ShipmentView[];
  invoice: PrintedInvoice | null;
  generatedAt: Date;
}

const STATUS: Record<string, string> = {
  placing: '下单中 Placing',
  pending_approval: '待审批 Pending approval',
  pending_payment: '待付款 Pending payment',
  confirmed: '已确认 Confirmed',
  on_hold: '暂停 On hold',
  partially_shipped: '部分发货 Partially shipped',
  shipped: '已发货 Shipped',
  completed: '已完成 Completed',
  cancelled: '已取消 Cancelled',
  failed: '失败 Failed',
};

const PAYMENT: Record<string, string> = {
  credit: '账期 Credit',
  bank_transfer: '对公转账 Bank transfer',
  online: '在线支付 Online',
};

const INVOICE_STATUS: Record<string, string> = {
  open: '未付 Open',
  partially_paid: '部分已付 Partially paid',
  paid: '已付清 Paid',
  overdue: '逾期 Overdue',
};

function heading(doc: PDFKit.PDFDocument, kind: OrderDocumentKind, data: OrderDocumentData): void {
  const title = DOCUMENT_TITLES[kind];
  const left = doc.page.margins.left;
  doc.fontSize(18).fillColor(INK.text).text(`${title.zh} ${title.en}`, left, doc.page.margins.top);
  doc.moveDown(0.3);
  doc
    .fontSize(9)
    .fillColor(INK.muted)
    .text(`生成时间 Generated ${shanghaiDateTime(data.generatedAt)}（北京时间）`);
  doc.moveDown(0.6);
}

/** Label / value pairs, two per row. */
function facts(doc: PDFKit.PDFDocument, pairs: Array<[string, string]>): void {
  const left = doc.page.margins.left;
  const half = contentWidth(doc) / 2;
  doc.fontSize(9.5).fillColor(INK.text);
  for (let i = 0; i < pairs.length; i += 2) {
    const y = doc.y;
    let bottom = y;
    pairs.slice(i, i + 2).forEach(([label, value], j) => {
      doc.text(`${label}：${value}`, left + j * half, y, { width: half - 8 });
      bottom = Math.max(bottom, doc.y);
    });
    doc.y = bottom + 2;
  }
  doc.x = left;
  doc.moveDown(0.6);
}

function orderFacts(data: OrderDocumentData): Array<[string, string]> {
  const { order } = data;
  return [
    ['订单号 Order', order.number],
    ['客户 Customer', data.companyName],
    ['下单时间 Placed', shanghaiDateTime(order.placedAt)],
    ['状态 Status', STATUS[order.status] ?? order.status],
    ['采购单号 PO', order.poNumber ?? '—'],
    ['付款方式 Payment', PAYMENT[order.paymentMethod] ?? order.paymentMethod],
  ];
}

function pricedLines(doc: PDFKit.PDFDocument, order: OrderView): void {
  drawTable(
    doc,
    [
      { header: '#', width: 22 },
      { header: '编码 SKU', width: 72 },
      { header: '品名 Item', width: 0 },
      { header: '数量 Qty', width: 44, align: 'right' },
      { header: '单位 Unit', width: 40 },
      { header: '单价 Unit price', width: 74, align: 'right' },
      { header: '税率 VAT', width: 36, align: 'right' },
      { header: '金额 Amount', width: 80, align: 'right' },
    ],
    order.lines.map((line) => [
      String(line.lineNo),
      line.skuCode,
      line.name ?? '',
      String(line.quantity),
      line.unit ?? '',
      formatMoney(line.unitPrice),
      `${line.vatRate}%`,
      formatMoney(line.gross),
    ]),
  );
}

function totals(doc: PDFKit.PDFDocument, rows: Array<[string, string]>): void {
  const left = doc.page.margins.left;
  const width = contentWidth(doc);
  doc.fontSize(10).fillColor(INK.text);
  for (const [label, value] of rows) {
    if (doc.y + 16 > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const y = doc.y;
    doc.text(label, left + width - 300, y, { width: 170, align: 'right' });
    doc.text(value, left + width - 125, y, { width: 125, align: 'right' });
    doc.y = Math.max(doc.y, y + 14);
  }
  doc.x = left;
  doc.moveDown(0.8);
}

function orderTotals(order: OrderView): Array<[string, string]> {
  return [
    ['不含税金额 Net', formatMoney(order.totals.net)],
    ['税额 VAT', formatMoney(order.totals.tax)],
    ['价税合计 Total', formatMoney(order.totals.gross)],
  ];
}

function note(doc: PDFKit.PDFDocument, text: string): void {
  doc
    .fontSize(8.5)
    .fillColor(INK.muted)
    .text(text, doc.page.margins.left, doc.y, { width: contentWidth(doc) });
  doc.moveDown(0.4);
}

/** The PDF of one of an order's papers. */
export async function renderOrderDocument(
  kind: OrderDocumentKind,
  data: OrderDocumentData,
  font: PdfFont,
): Promise<Buffer> {
  const title = DOCUMENT_TITLES[kind];
  const doc = createPdfDocument({
    font,
    title: `${title.zh} ${data.order.number}`,
    creator: 'B2B Hub orders',
    createdAt: data.generatedAt,
  });
  heading(doc, kind, data);
  const { order } = data;

  if (kind === 'sales-order') {
    facts(doc, orderFacts(data));
    pricedLines(doc, order);
    totals(doc, orderTotals(order));
    if (order.note) note(doc, `备注 Note：${order.note}`);
  }

  if (kind === 'delivery-note') {
    facts(
      doc,
      orderFacts(data).filter(([label]) => !label.startsWith('付款方式')),
    );
    drawTable(
      doc,
      [
        { header: '#', width: 22 },
        { header: '编码 SKU', width: 80 },
        { header: '品名 Item', width: 0 },
        { header: '单位 Unit', width: 44 },
        { header: '订购 Ordered', width: 60, align: 'right' },
        { header: '已发 Shipped', width: 60, align: 'right' },
        { header: '未发 Open', width: 56, align: 'right' },
      ],
      order.lines.map((line) => [
        String(line.lineNo),
        line.skuCode,
        line.name ?? '',
        line.unit ?? '',
        String(line.quantity),
        String(line.shippedQuantity),
        String(line.openQuantity),
      ]),
    );
    const skuCode = new Map(order.lines.map((line) => [line.lineNo, line.skuCode]));
    if (data.shipments.length === 0) note(doc, '尚未发货。Nothing has shipped yet.');
    data.shipments.forEach((shipment, i) => {
      doc.moveDown(0.4);
      doc
        .fontSize(10)
        .fillColor(INK.text)
        .text(
          `发货 Shipment ${i + 1}：${shanghaiDateTime(shipment.shippedAt)}  承运商 Carrier ${shipment.carrier ?? '—'}  运单号 Tracking ${shipment.trackingNo ?? '—'}`,
          doc.page.margins.left,
          doc.y,
          { width: contentWidth(doc) },
        );
      doc.moveDown(0.2);
      drawTable(
        doc,
        [
          { header: '行 Line', width: 50 },
          { header: '编码 SKU', width: 0 },
          { header: '数量 Qty', width: 80, align: 'right' },
        ],
        shipment.lines.map((line) => [
          String(line.lineNo),
          skuCode.get(line.lineNo) ?? '',
          String(line.quantity),
        ]),
      );
    });
    doc.moveDown(1.5);
    note(doc, '收货人签字 Received by：____________________    日期 Date：______________');
  }

  if (kind === 'invoice') {
    const invoice = data.invoice!;
    facts(doc, [
      ['发票号 Invoice', invoice.number],
      ['订单号 Order', order.number],
      ['客户 Customer', data.companyName],
      ['采购单号 PO', order.poNumber ?? '—'],
      ['开票日期 Issued', invoice.issuedOn],
      ['到期日 Due', invoice.dueDate],
      ['状态 Status', INVOICE_STATUS[invoice.status] ?? invoice.status],
    ]);
    pricedLines(doc, order);
    totals(doc, [
      ...orderTotals(order),
      ['应收金额 Invoiced', formatMoney(invoice.amount)],
      ...(BigInt(invoice.credited.amountMinor) > 0n
        ? ([['已冲减 Credited', formatMoney(invoice.credited)]] as Array<[string, string]>)
        : []),
      ['已付 Paid', formatMoney(invoice.paid)],
      ['未付余额 Balance due', formatMoney(invoice.balance)],
    ]);
    note(doc, '本单据为商业发票，不作为增值税发票（增值税发票由税务系统开具）。');
    note(doc, 'This commercial invoice is not a VAT fapiao; VAT fapiao are issued through the tax system.');
  }

  return pdfBytes(doc);
}
