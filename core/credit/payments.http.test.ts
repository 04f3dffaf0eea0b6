import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import type moleculer from 'moleculer';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import { gatewayOf } from './credit.module.ts';
import { SimulatorPaymentGateway, simulatorSecret } from './payment-simulator.ts';
import {
  asStaff,
  assertMatchesSchema,
  cny,
  createCompany,
  openAccount,
  outboxEvents,
  startCreditHub,
} from './testing/credit-hub.ts';

let t: TestHub;
let broker: moleculer.ServiceBroker;
let staff: string;
/** The "provider": signs notifications with the secret the hub derives from its master key. */
let provider: SimulatorPaymentGateway;

// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;
const call = (action: string, params: object, options: object = {}) =>
  broker.call(action, params, options) as Promise<Any>;

beforeAll(async () => {
  t = await startCreditHub();
  broker = t.hub.broker;
  staff = await logInAs(t.baseUrl, 'admin@hub.local', 'demo-admin-password');
  provider = new SimulatorPaymentGateway({ secret: simulatorSecret(t.hub.platform.config.masterKey) });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

const hook = (body: unknown) => http(t.baseUrl, 'POST', '/hooks/payments/simulator', { body });

describe('online payments through the simulator', () => {
  it('a wrong signature is refused; duplicate callbacks confirm once; the invoice issued later is paid', async () => {
    const companyId = await createCompany(broker, 'Online');
    const reference = `order:${randomUUID()}`;
    const started = await call('payments.internal.start', {
      reference,
      companyId,
      method: 'online',
      amount: cny(25_800),
    });
    assertMatchesSchema('api/payments/start-payment-response', started);
    expect(started).toMatchObject({
      status: 'pending',
      instructions: { kind: 'redirect', provider: 'simulator' },
    });
    expect(
      await call('payments.internal.start', { reference, companyId, method: 'online', amount: cny(25_800) }),
    ).toMatchObject({ paymentId: started.paymentId });

    const forged = await hook(
      provider.notification(started.paymentId, { amountMinor: 25_800n, signWith: Buffer.from('x') }),
    );
    expect(forged.status).toBe(401);
    expect(forged.headers.get('content-type')).toMatch(/problem\+json/);
    expect(forged.body.type).toMatch(/invalid-signature/);

    const body = provider.notification(started.paymentId, {
      amountMinor: 25_800n,
      tradeNo: `T-${randomUUID()}`,
    });
    const answers = await Promise.all(Array.from({ length: 5 }, () => hook(body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[0]!.body).toEqual({ result: 'success' });
    expect((await hook(body)).status).toBe(200);

    const payment = await call('payments.internal.get', { id: started.paymentId });
    assertMatchesSchema('entities/payment-record', payment);
    expect(payment).toMatchObject({ status: 'confirmed', received: cny(25_800), unallocated: cny(25_800) });
    const confirmed = (await outboxEvents(t, 'payment.confirmed')).filter((e) => e.reference === reference);
    expect(confirmed).toHaveLength(1);
    assertMatchesSchema('events/payment-confirmed', confirmed[0]);
    expect(confirmed[0]).toMatchObject({
      paymentId: started.paymentId,
      amount: cny(25_800),
      method: 'online',
    });

    // The order's invoice is paid by the money already received.
    const invoice = await call('receivables.internal.issueInvoice', {
      reference,
      companyId,
      amount: cny(25_800),
    });
    expect(invoice).toMatchObject({ status: 'paid', balance: cny(0), paid: cny(25_800) });
    const account = await call('credit.staff.accounts.get', { companyId }, asStaff());
    expect(account).toMatchObject({ owed: cny(0), exposure: cny(0), creditEnabled: false });

    // An amount that is not the payment's is refused even when signed.
    const other = await call('payments.internal.start', {
      reference: `order:${randomUUID()}`,
      companyId,
      method: 'online',
      amount: cny(100),
    });
    const wrongAmount = await hook(provider.notification(other.paymentId, { amountMinor: 99n }));
    expect(wrongAmount.status).toBe(422);
  });

  it('a payment whose callback never came is settled by asking the provider', async () => {
    const companyId = await createCompany(broker, 'Lost callback');
    const reference = `order:${randomUUID()}`;
    const started = await call('payments.internal.start', {
      reference,
      companyId,
      method: 'online',
      amount: cny(4_200),
    });
    expect(await call('payments.internal.refresh', { id: started.paymentId })).toMatchObject({
      status: 'pending',
    });
    // The buyer paid at the provider; its notification is lost on the way.
    (gatewayOf(t.hub.platform) as SimulatorPaymentGateway).notification(started.paymentId);
    expect(await call('payments.internal.refresh', { id: started.paymentId })).toMatchObject({
      status: 'confirmed',
      received: cny(4_200),
    });
    expect(await call('payments.internal.refresh', { id: started.paymentId })).toMatchObject({
      received: cny(4_200),
    });
    expect(
      (await outboxEvents(t, 'payment.confirmed')).filter((e) => e.reference === reference),
    ).toHaveLength(1);
  });

  it('a closed trade fails the payment once and announces payment.failed; a new start is allowed', async () => {
    const companyId = await createCompany(broker, 'Failing');
    const reference = `order:${randomUUID()}`;
    const started = await call('payments.internal.start', {
      reference,
      companyId,
      method: 'online',
      amount: cny(999),
    });
    const body = provider.notification(started.paymentId, { status: 'failed' });
    expect((await hook(body)).status).toBe(200);
    expect((await hook(body)).status).toBe(200);
    expect(await call('payments.internal.get', { id: started.paymentId })).toMatchObject({
      status: 'failed',
    });
    const failed = (await outboxEvents(t, 'payment.failed')).filter((e) => e.reference === reference);
    expect(failed).toHaveLength(1);
    assertMatchesSchema('events/payment-failed', failed[0]);
    const again = await call('payments.internal.start', {
      reference,
      companyId,
      method: 'online',
      amount: cny(999),
    });
    expect(again.paymentId).not.toBe(started.paymentId);
  });
});

describe('bank transfers (对公转账)', () => {
  it('staff confirm part by hand; a statement import matches the rest by remittance code, with a per-row report', async () => {
    const companyId = await createCompany(broker, 'Transfer');
    const start = (amount: number) =>
      call('payments.internal.start', {
        reference: `order:${randomUUID()}`,
        companyId,
        method: 'bank_transfer',
        amount: cny(amount),
      });
    const first = await start(100_000);
    const second = await start(50_000);
    expect(first.instructions).toMatchObject({
      kind: 'bank_transfer',
      remittanceCode: expect.stringMatching(/^HB/),
    });
    const codeOf = (p: Any) => p.instructions.remittanceCode as string;

    const partial = await http(t.baseUrl, 'POST', `/api/staff/payments/${first.paymentId}/confirm-transfer`, {
      token: staff,
      body: { amount: cny(40_000), receivedOn: '2026-03-04', bankReference: `M-${first.paymentId}` },
    });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ status: 'partially_received', received: cny(40_000) });
    const refs = [`S1-${randomUUID()}`, `S2-${randomUUID()}`];
    const csv = [
      '交易日期,交易流水号,对方户名,贷方金额,借方金额,附言',
      `2026-03-05,${refs[0]},艾克美,"600.00",,货款 ${codeOf(first)}`,
      `2026-03-05,M-${first.paymentId},艾克美,400.00,,${codeOf(first)}`,
      `2026-03-06,${refs[1]},华东,300.00,,${codeOf(second).toLowerCase()} 部分`,
      `2026-03-06,S3-${randomUUID()},某人,10.00,,HB00000000`,
      `2026-03-06,S4-${randomUUID()},某人,10.00,,没有附言`,
      `2026-03-06,S5-${randomUUID()},银行,,5.00,手续费`,
      `2026-03-32,S6-${randomUUID()},某人,1.00,,${codeOf(second)}`,
    ].join('\r\n');
    const imported = await http(t.baseUrl, 'POST', '/api/staff/payments/statement-imports', {
      token: staff,
      rawBody: iconv.encode(csv, 'gbk') as unknown as string,
      headers: { 'content-type': 'text/csv', 'x-filename': encodeURIComponent('3月对账单.csv') },
    });
    expect(imported.status).toBe(200);
    assertMatchesSchema('api/payments/statement-import-response', imported.body);
    expect(imported.body.items.map((row: Any) => [row.row, row.outcome])).toEqual([
      [2, 'matched'],
      [3, 'duplicate'],
      [4, 'amount_mismatch'],
      [5, 'unmatched'],
      [6, 'unmatched'],
      [7, 'skipped'],
      [8, 'invalid'],
    ]);
    expect(imported.body.summary).toEqual({
      rows: 7,
      matched: 1,
      amount_mismatch: 1,
      unmatched: 2,
      duplicate: 1,
      skipped: 1,
      invalid: 1,
    });
    expect(imported.body.items[2]).toMatchObject({ expected: cny(50_000), amount: cny(30_000) });

    expect(await call('payments.internal.get', { id: first.paymentId })).toMatchObject({
      status: 'confirmed',
      received: cny(100_000),
    });
    expect(await call('payments.internal.get', { id: second.paymentId })).toMatchObject({
      status: 'partially_received',
      received: cny(30_000),
    });
    expect(
      (await outboxEvents(t, 'payment.confirmed')).filter((e) => e.paymentId === first.paymentId),
    ).toHaveLength(1);
    expect(
      (await outboxEvents(t, 'payment.confirmed')).filter((e) => e.paymentId === second.paymentId),
    ).toEqual([]);

    // Importing the same statement again records nothing twice.
    const again = await http(t.baseUrl, 'POST', '/api/staff/payments/statement-imports', {
      token: staff,
      rawBody: iconv.encode(csv, 'gbk') as unknown as string,
      headers: { 'content-type': 'text/csv' },
    });
    expect(again.body.summary).toMatchObject({ matched: 0, amount_mismatch: 0, duplicate: 3 });
    const { items } = await call('credit.staff.ledger.list', { companyId, limit: 50 }, asStaff());
    expect(items.filter((entry: Any) => entry.kind === 'payment')).toHaveLength(3);
  });
});

describe('receivables', () => {
  it('partial payments, oldest invoice first or a named one; the overdue list and sweep', async () => {
    const companyId = await createCompany(broker, 'Receivable');
    await openAccount(broker, companyId, 1_000_000, { terms: { kind: 'net', days: 30 } });
    const older = await call('receivables.internal.issueInvoice', {
      reference: `order:${randomUUID()}`,
      companyId,
      amount: cny(10_000),
      dueDate: '2026-01-10',
    });
    const newer = await call('receivables.internal.issueInvoice', {
      reference: `order:${randomUUID()}`,
      companyId,
      amount: cny(8_000),
      dueDate: '2026-02-10',
    });
    const third = await call('receivables.internal.issueInvoice', {
      reference: `order:${randomUUID()}`,
      companyId,
      amount: cny(3_000),
      dueDate: '2026-03-10',
    });
    const receive = (amount: number, extra: object = {}) =>
      http(t.baseUrl, 'POST', '/api/staff/payments/receipts', {
        token: staff,
        body: {
          companyId,
          amount: cny(amount),
          receivedOn: '2026-03-01',
          bankReference: `R-${randomUUID()}`,
          ...extra,
        },
      });
    expect((await receive(4_000)).status).toBe(201);
    const get = async (id: string) =>
      (await http(t.baseUrl, 'GET', `/api/staff/receivables/invoices/${id}`, { token: staff })).body;
    expect(await get(older.id)).toMatchObject({ status: 'partially_paid', balance: cny(6_000) });
    expect(await get(newer.id)).toMatchObject({ status: 'open' });
    expect((await receive(1_000, { invoiceId: third.id })).status).toBe(201);
    expect(await get(third.id)).toMatchObject({ status: 'partially_paid', balance: cny(2_000) });
    expect((await receive(9_000)).status).toBe(201);
    expect(await get(older.id)).toMatchObject({ status: 'paid', balance: cny(0) });
    expect(await get(newer.id)).toMatchObject({ status: 'partially_paid', balance: cny(5_000) });

    const overdue = await http(t.baseUrl, 'GET', `/api/staff/receivables/overdue?companyId=${companyId}`, {
      token: staff,
    });
    expect(overdue.status).toBe(200);
    assertMatchesSchema('api/receivables/invoice-list-response', overdue.body);
    expect(overdue.body.items.map((i: Any) => i.id).sort()).toEqual([newer.id, third.id].sort());
    expect(overdue.body.items.every((i: Any) => i.daysOverdue > 0)).toBe(true);

    const sweep = await call('receivables.internal.sweepOverdue', { today: '2026-02-20' });
    expect(sweep.marked).toBeGreaterThanOrEqual(1);
    expect(await get(newer.id)).toMatchObject({ status: 'overdue' });
    expect(await get(third.id)).toMatchObject({ status: 'partially_paid' });
    await call('receivables.internal.sweepOverdue', { today: '2026-02-21' });
    const announced = (await outboxEvents(t, 'invoice.overdue')).filter((e) => e.companyId === companyId);
    expect(announced.map((e) => e.invoiceId)).toEqual([newer.id]);
    assertMatchesSchema('events/invoice-overdue', announced[0]);
    expect(announced[0]).toMatchObject({ balance: cny(5_000), daysOverdue: 10 });

    // Paying an overdue invoice in full makes it paid.
    expect((await receive(5_000, { invoiceId: newer.id })).status).toBe(201);
    expect(await get(newer.id)).toMatchObject({ status: 'paid' });
    const account = await call('credit.staff.accounts.get', { companyId }, asStaff());
    expect(account.owed).toEqual(cny(21_000 - 19_000));
  });

  it('buyers see invoices within their scope; staff routes refuse buyers', async () => {
    const buyer = await logInAs(t.baseUrl, 'buyer@acme.example', 'demo-buyer-password');
    const me = (await http(t.baseUrl, 'GET', '/api/me', { token: buyer })).body;
    const mine = await call('receivables.internal.issueInvoice', {
      reference: `order:${randomUUID()}`,
      companyId: me.companyId,
      amount: cny(1_500),
      userId: me.id,
    });
    const colleagues = await call('receivables.internal.issueInvoice', {
      reference: `order:${randomUUID()}`,
      companyId: me.companyId,
      amount: cny(2_500),
      userId: randomUUID(),
    });
    const list = await http(t.baseUrl, 'GET', '/api/invoices', { token: buyer });
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: Any) => i.id)).toEqual(expect.arrayContaining([mine.id, colleagues.id]));
    const own = await call(
      'receivables.invoices.list',
      { limit: 50 },
      {
        meta: {
          auth: {
            kind: 'buyer',
            principalId: me.id,
            companyId: me.companyId,
            permissions: ['invoices.read@own'],
          },
        },
      },
    );
    expect(own.items.map((i: Any) => i.id)).toEqual([mine.id]);
    await expect(
      call(
        'receivables.invoices.get',
        { id: colleagues.id },
        {
          meta: {
            auth: {
              kind: 'buyer',
              principalId: me.id,
              companyId: me.companyId,
              permissions: ['invoices.read@own'],
            },
          },
        },
      ),
    ).rejects.toMatchObject({ code: 404 });
    expect((await http(t.baseUrl, 'GET', '/api/staff/receivables/invoices', { token: buyer })).status).toBe(
      403,
    );
    expect((await http(t.baseUrl, 'GET', '/api/staff/payments', { token: buyer })).status).toBe(403);
  });
});

describe('invoice requests (开票申请)', () => {
  it('validated, issued with the e-invoice PDF, downloaded; rejected with a reason', async () => {
    const buyer = await logInAs(t.baseUrl, 'buyer@acme.example', 'demo-buyer-password');
    const me = (await http(t.baseUrl, 'GET', '/api/me', { token: buyer })).body;
    const issue = () =>
      call('receivables.internal.issueInvoice', {
        reference: `order:${randomUUID()}`,
        companyId: me.companyId,
        amount: cny(11_300),
      });
    const invoice = await issue();
    const request = (body: object) =>
      http(t.baseUrl, 'POST', '/api/invoice-requests', { token: buyer, body });
    const normal = {
      invoiceId: invoice.id,
      type: 'normal',
      title: '艾克美工业有限公司',
      taxNumber: '91440300708461136T',
      email: 'finance@acme.example',
    };
    const badTax = await request({ ...normal, taxNumber: '91440300708461136A' });
    expect(badTax.status).toBe(400);
    expect(badTax.body.errors).toEqual([{ pointer: '/taxNumber', detail: 'has a wrong check character' }]);
    const specialWithoutBank = await request({
      ...normal,
      type: 'special',
      address: '上海市',
      phone: '021-12345678',
    });
    expect(specialWithoutBank.status).toBe(400);
    expect(specialWithoutBank.body.errors[0].pointer).toBe('/bankName');
    const created = await request({
      ...normal,
      type: 'special',
      bankName: '招商银行上海分行',
      bankAccount: '6214 8300 0000 0000',
      address: '上海市浦东新区示例路 1 号',
      phone: '021-12345678',
    });
    expect(created.status).toBe(201);
    assertMatchesSchema('entities/invoice-request', created.body);
    expect(created.body).toMatchObject({ status: 'requested', invoiceNumber: invoice.number, file: null });
    expect((await request(normal)).status).toBe(409);

    const upload = (id: string, body: Buffer, type = 'application/pdf') =>
      fetch(
        `${t.baseUrl}/api/staff/receivables/invoice-requests/${id}/issue?eInvoiceNumber=24312000000012345678`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${staff}`, 'content-type': type },
          body,
        },
      );
    const notPdf = await upload(created.body.id, Buffer.from('hello'));
    expect(notPdf.status).toBe(422);
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.7\n'),
      Buffer.from('发票'.repeat(100)),
      Buffer.from('\n%%EOF'),
    ]);
    const issued = await upload(created.body.id, pdf);
    expect(issued.status).toBe(200);
    const issuedBody = (await issued.json()) as Any;
    expect(issuedBody).toMatchObject({ status: 'issued', eInvoiceNumber: '24312000000012345678' });
    expect(issuedBody.file.size).toBe(pdf.length);
    expect((await upload(created.body.id, pdf)).status).toBe(409);

    const download = await fetch(`${t.baseUrl}/api/invoice-requests/${created.body.id}/file`, {
      headers: { authorization: `Bearer ${buyer}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);

    const second = await request({ ...normal, invoiceId: (await issue()).id });
    const rejected = await http(
      t.baseUrl,
      'POST',
      `/api/staff/receivables/invoice-requests/${second.body.id}/reject`,
      {
        token: staff,
        body: { reason: '抬头与税号不一致' },
      },
    );
    expect(rejected.status).toBe(200);
    const seen = await http(t.baseUrl, 'GET', `/api/invoice-requests/${second.body.id}`, { token: buyer });
    expect(seen.body).toMatchObject({ status: 'rejected', rejectReason: '抬头与税号不一致' });
    expect(
      (await http(t.baseUrl, 'GET', `/api/invoice-requests/${second.body.id}/file`, { token: buyer })).status,
    ).toBe(404);
    // A rejected request may be made again.
    expect((await request({ ...normal, invoiceId: second.body.invoiceId })).status).toBe(201);
    const decided = (await outboxEvents(t, 'invoice_request.decided')).filter(
      (e) => e.companyId === me.companyId,
    );
    expect(decided.map((e) => e.status)).toEqual(['issued', 'rejected']);
    const listed = await http(t.baseUrl, 'GET', '/api/invoice-requests?status=issued', { token: buyer });
    expect(listed.body.items.map((r: Any) => r.id)).toEqual([created.body.id]);
  });
});
