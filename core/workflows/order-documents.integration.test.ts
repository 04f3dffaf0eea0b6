import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { formatMinor } from '../platform/documents/pdf-document.ts';
import { readPdf } from '../platform/testing/read-pdf.ts';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import { asStaff, buildWorld, cny, startOrdersHub, type World } from './testing/orders-hub.ts';

/**
 * The printable papers of an order (sales order, delivery note, invoice) on the real hub: an order
 * placed through checkout, shipped in part and invoiced, printed for its buyer and for staff, read
 * back with pdftotext; another company's buyer gets 404.
 */

let test: TestHub;
let world: World;
const COMPANY_NAME = '艾可美工业（上海）有限公司';

interface PlacedOrder {
  id: string;
  number: string;
  totals: { net: { amountMinor: string }; tax: { amountMinor: string }; gross: { amountMinor: string } };
}
let order: PlacedOrder;
let invoiceNumber: string;
let otherBuyer: string;

async function pdfOf(path: string, token: string) {
  const response = await fetch(`${test.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { response, bytes };
}

beforeAll(async () => {
  test = await startOrdersHub();
  // 123.45 and 999.00 CNY a unit, VAT included.
  world = await buildWorld(test, { 'DOC-A': 12345, 'DOC-B': 99900 });
  await world.broker.call(
    'accounts.companies.update',
    { id: world.companyId, name: COMPANY_NAME },
    asStaff(),
  );
  const placed = await http(test.baseUrl, 'POST', '/api/orders', {
    token: world.buyer,
    body: {
      lines: [
        { skuId: world.skus.get('DOC-A')!, quantity: 3 },
        { skuId: world.skus.get('DOC-B')!, quantity: 2 },
      ],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
      poNumber: 'PO-2025-0042',
    },
  });
  if (placed.status !== 201) throw new Error(`place: ${placed.status} ${JSON.stringify(placed.body)}`);
  order = placed.body.order;
  const shipped = await http(test.baseUrl, 'POST', `/api/staff/orders/${order.id}/shipments`, {
    token: world.staff,
    body: {
      shipmentId: randomUUID(),
      carrier: '顺丰速运',
      trackingNo: 'SF1234567890',
      lines: [{ lineNo: 1, quantity: 2 }],
    },
  });
  if (shipped.status !== 200) throw new Error(`ship: ${shipped.status} ${JSON.stringify(shipped.body)}`);
  // Idempotent per reference: answers the order's invoice whether or not confirmation issued it already.
  const invoice = (await world.broker.call(
    'receivables.internal.issueInvoice',
    {
      reference: `order:${order.id}`,
      companyId: world.companyId,
      amount: cny(order.totals.gross.amountMinor),
    },
    asStaff(),
  )) as { number: string };
  invoiceNumber = invoice.number;
  const otherEmail = `admin-${randomUUID().slice(0, 8)}@other-docs.example`;
  const other = await http(test.baseUrl, 'POST', '/api/staff/companies', {
    token: world.staff,
    body: {
      name: '别家公司',
      status: 'active',
      admin: { email: otherEmail, displayName: 'O', password: 'other-password-1' },
    },
  });
  if (other.status !== 201) throw new Error(`company: ${other.status} ${JSON.stringify(other.body)}`);
  otherBuyer = await logInAs(test.baseUrl, otherEmail, 'other-password-1');
}, 180_000);

afterAll(async () => {
  await test?.stop();
});

const squash = (text: string) => text.replace(/[ \t]+/g, ' ');

describe('order documents', () => {
  it('prints the sales order for its buyer: number, company, PO, Chinese lines, quantities, unit prices and exact totals', async () => {
    const { response, bytes } = await pdfOf(`/api/orders/${order.id}/documents/sales-order`, world.buyer);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(decodeURIComponent(response.headers.get('content-disposition') ?? '')).toContain(
      `销售订单-${order.number}.pdf`,
    );
    const pdf = await readPdf(bytes);
    const text = squash(pdf.text);
    expect(pdf.pages).toBe(1);
    expect(text).toContain('销售订单 Sales order');
    expect(text).toContain(order.number);
    expect(text).toContain(COMPANY_NAME);
    expect(text).toContain('PO-2025-0042');
    expect(text).toMatch(/1 DOC-A 不锈钢螺栓 DOC-A 3 pcs 123\.45 CNY 13% 370\.35 CNY/);
    expect(text).toMatch(/2 DOC-B 不锈钢螺栓 DOC-B 2 pcs 999\.00 CNY 13% 1,998\.00 CNY/);
    expect(order.totals.gross.amountMinor).toBe('236835');
    expect(text).toContain('价税合计 Total 2,368.35 CNY');
    expect(text).toContain(`不含税金额 Net ${formatMinor(order.totals.net.amountMinor)} CNY`);
    expect(text).toContain(`税额 VAT ${formatMinor(order.totals.tax.amountMinor)} CNY`);
    expect(BigInt(order.totals.net.amountMinor) + BigInt(order.totals.tax.amountMinor)).toBe(236835n);
  });

  it('prints the delivery note: ordered, shipped and open per line, the shipment with carrier and tracking, no prices', async () => {
    const { response, bytes } = await pdfOf(`/api/orders/${order.id}/documents/delivery-note`, world.buyer);
    expect(response.status).toBe(200);
    const text = squash((await readPdf(bytes)).text);
    expect(text).toContain('送货单 Delivery note');
    expect(text).toContain(order.number);
    expect(text).toContain(COMPANY_NAME);
    expect(text).toMatch(/1 DOC-A 不锈钢螺栓 DOC-A pcs 3 2 1/);
    expect(text).toMatch(/2 DOC-B 不锈钢螺栓 DOC-B pcs 2 0 2/);
    expect(text).toContain('顺丰速运');
    expect(text).toContain('SF1234567890');
    expect(text).not.toContain('CNY');
  });

  it('prints the invoice issued for the order: its number, due date, amounts invoiced, paid and due', async () => {
    const { response, bytes } = await pdfOf(`/api/orders/${order.id}/documents/invoice`, world.buyer);
    expect(response.status).toBe(200);
    const text = squash((await readPdf(bytes)).text);
    expect(text).toContain('发票 Invoice');
    expect(text).toContain(invoiceNumber);
    expect(text).toContain(order.number);
    expect(text).toContain(COMPANY_NAME);
    expect(text).toContain('应收金额 Invoiced 2,368.35 CNY');
    expect(text).toContain('已付 Paid 0.00 CNY');
    expect(text).toContain('未付余额 Balance due 2,368.35 CNY');
    expect(text).toMatch(/到期日 Due：\d{4}-\d{2}-\d{2}/);
    expect(text).toContain('不作为增值税发票');
  });

  it('staff print any order; an order without an invoice answers 409 for the invoice', async () => {
    const staffCopy = await pdfOf(`/api/staff/orders/${order.id}/documents/sales-order`, world.staff);
    expect(staffCopy.response.status).toBe(200);
    expect(squash((await readPdf(staffCopy.bytes)).text)).toContain(COMPANY_NAME);

    const bareId = randomUUID();
    await world.broker.call(
      'orders.internal.open',
      {
        order: {
          orderId: bareId,
          companyId: world.companyId,
          placedBy: world.buyerId,
          unitId: null,
          unitPath: [],
          checkoutKey: randomUUID(),
          source: 'lines',
          cartId: null,
          quoteId: null,
          paymentMethod: 'bank_transfer',
          poNumber: null,
          note: null,
          currency: 'CNY',
          totals: { net: cny(100), tax: cny(13), gross: cny(113) },
          lines: [
            {
              skuId: world.skus.get('DOC-A')!,
              skuCode: 'DOC-A',
              productId: null,
              name: '不锈钢螺栓 DOC-A',
              unit: 'pcs',
              quantity: 1,
              unitPrice: cny(113),
              vatRate: 13,
              pricesIncludeTax: true,
              net: cny(100),
              tax: cny(13),
              gross: cny(113),
              priceListCode: null,
            },
          ],
        },
      },
      asStaff(),
    );
    const noInvoice = await http(test.baseUrl, 'GET', `/api/staff/orders/${bareId}/documents/invoice`, {
      token: world.staff,
    });
    expect(noInvoice.status).toBe(409);
    expect(noInvoice.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('another company’s buyer gets 404 for every paper; a buyer is refused the staff route; an unknown kind is 400', async () => {
    for (const kind of ['sales-order', 'delivery-note', 'invoice']) {
      const answer = await http(test.baseUrl, 'GET', `/api/orders/${order.id}/documents/${kind}`, {
        token: otherBuyer,
      });
      expect(answer.status).toBe(404);
    }
    const staffRoute = await http(
      test.baseUrl,
      'GET',
      `/api/staff/orders/${order.id}/documents/sales-order`,
      {
        token: world.buyer,
      },
    );
    expect(staffRoute.status).toBe(403);
    const unknown = await http(test.baseUrl, 'GET', `/api/orders/${order.id}/documents/receipt`, {
      token: world.buyer,
    });
    expect(unknown.status).toBe(400);
  });
});
