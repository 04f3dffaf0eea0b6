import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { esignatureOf } from '../contracts/contracts.module.ts';
import type { CallbackRequest, FascSimulator } from '../contracts/esign/fasc-simulator.ts';
import { readPdf } from '../platform/testing/read-pdf.ts';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import {
  asBuyer,
  asStaff,
  assertMatchesSchema,
  buildWorld,
  startOrdersHub,
  type World,
} from './testing/orders-hub.ts';

/**
 * Contracts on the real hub: a template, a contract generated for a placed order (PDF read back),
 * sent to the 法大大-style e-signature simulator, its signed callbacks verified (a forged one is
 * refused), repeated callbacks applied once, the signed file kept with its SHA-256; rejection,
 * cancellation and expiry; another company's buyer sees nothing.
 */

let test: TestHub;
let world: World;
let simulator: FascSimulator;
let templateId: string;
let otherBuyer: string;
const COMPANY_NAME = '艾可美工业（上海）有限公司';

const TEMPLATE_BODY = [
  '买方：{{buyer.name}}',
  '卖方：{{seller.name}}',
  '根据{{subject.kind}} {{subject.number}}，双方签订本合同，明细如下：',
  '{{lines}}',
  '合同金额：{{subject.total}}（{{subject.totalInWords}}）',
  '买方签署人：{{signer.name}}，请于 {{sign.deadline}} 前签署。',
].join('\n');

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function placeOrder(): Promise<{ id: string; number: string }> {
  const placed = await http(test.baseUrl, 'POST', '/api/orders', {
    token: world.buyer,
    body: {
      lines: [
        { skuId: world.skus.get('CT-A')!, quantity: 3 },
        { skuId: world.skus.get('CT-B')!, quantity: 2 },
      ],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
    },
  });
  if (placed.status !== 201) throw new Error(`place: ${placed.status} ${JSON.stringify(placed.body)}`);
  return placed.body.order;
}

async function createContract(orderId: string) {
  return http(test.baseUrl, 'POST', '/api/staff/contracts', {
    token: world.staff,
    body: {
      templateId,
      subject: { type: 'order', id: orderId },
      signer: { name: '王小明', mobile: '13800138000' },
    },
  });
}

const staffPost = (path: string, body?: unknown) =>
  http(test.baseUrl, 'POST', path, { token: world.staff, ...(body ? { body } : {}) });

function deliver(callback: CallbackRequest) {
  return http(test.baseUrl, 'POST', '/hooks/esign/fasc-simulator', {
    headers: { ...callback.headers, 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: callback.body,
  });
}

async function download(path: string, token: string) {
  const response = await fetch(`${test.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
}

async function events(name: string, contractId: string) {
  const { rows } = await test.hub.platform.db.query(
    `SELECT payload FROM platform.outbox WHERE kind = 'event' AND topic = $1 AND payload->>'contractId' = $2`,
    [name, contractId],
  );
  return rows.map((row) => row.payload);
}

beforeAll(async () => {
  test = await startOrdersHub();
  await test.hub.broker.waitForServices(['contracts']);
  world = await buildWorld(test, { 'CT-A': 12345, 'CT-B': 99900 });
  simulator = esignatureOf(test.hub.platform) as FascSimulator;
  await world.broker.call(
    'accounts.companies.update',
    { id: world.companyId, name: COMPANY_NAME },
    asStaff(),
  );
  const otherEmail = `admin-${randomUUID().slice(0, 8)}@other-contracts.example`;
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

describe('contract templates', () => {
  it('refuse placeholders that are not variables (no expressions, no code); accept known ones; staff only', async () => {
    const bad = await staffPost('/api/staff/contract-templates', {
      code: 'bad',
      name: '坏模板',
      title: '购销合同',
      body: '{{buyer.name}} {{constructor.constructor}}',
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('{{constructor.constructor}}');

    const created = await staffPost('/api/staff/contract-templates', {
      code: 'sales-contract',
      name: '标准购销合同',
      title: '购销合同 {{subject.number}}',
      body: TEMPLATE_BODY,
    });
    expect(created.status).toBe(201);
    assertMatchesSchema('entities/contract-template', created.body);
    expect(created.body.version).toBe(1);
    templateId = created.body.id;

    const variables = await http(test.baseUrl, 'GET', '/api/staff/contract-templates/variables', {
      token: world.staff,
    });
    expect(variables.body.items.map((v: { name: string }) => v.name)).toContain('subject.totalInWords');
    const asBuyerCaller = await http(test.baseUrl, 'GET', '/api/staff/contract-templates', {
      token: world.buyer,
    });
    expect(asBuyerCaller.status).toBe(403);
  });
});

describe('a contract for an order, signed', () => {
  let order: { id: string; number: string };
  let contractId: string;
  let draftSha: string;

  it('is generated as a PDF with the buyer, the order, its Chinese lines and the total in figures and capitals', async () => {
    order = await placeOrder();
    const created = await createContract(order.id);
    expect(created.status).toBe(201);
    assertMatchesSchema('entities/contract', created.body);
    expect(created.body).toMatchObject({
      status: 'draft',
      companyId: world.companyId,
      subject: { type: 'order', id: order.id, number: order.number },
      title: `购销合同 ${order.number}`,
      total: { amountMinor: '236835', currency: 'CNY' },
      signer: { name: '王小明', mobile: '13800138000' },
      signedDocument: null,
    });
    expect(created.body.history).toEqual([
      expect.objectContaining({ from: null, to: 'draft', actor: expect.objectContaining({ kind: 'staff' }) }),
    ]);
    contractId = created.body.id;
    draftSha = created.body.document.sha256;

    const file = await download(`/api/contracts/${contractId}/document`, world.buyer);
    expect(file.status).toBe(200);
    expect(sha256(file.bytes)).toBe(draftSha);
    const text = (await readPdf(file.bytes)).text.replace(/[ \t]+/g, ' ');
    expect(text).toContain(`购销合同 ${order.number}`);
    expect(text).toContain(created.body.number);
    expect(text).toContain(`买方：${COMPANY_NAME}`);
    expect(text).toContain(`根据订单 ${order.number}`);
    expect(text).toMatch(/1 CT-A 不锈钢螺栓 CT-A 3 pcs 123\.45 CNY 370\.35 CNY/);
    expect(text).toMatch(/2 CT-B 不锈钢螺栓 CT-B 2 pcs 999\.00 CNY 1,998\.00 CNY/);
    expect(text).toContain('合同金额：2,368.35 CNY（人民币贰仟叁佰陆拾捌元叁角伍分）');
    expect(text).toContain('买方签署人：王小明');

    const again = await createContract(order.id);
    expect(again.status).toBe(409);
  });

  it('is sent for signature: a sign task at the provider, contract.sent through the outbox', async () => {
    const sent = await staffPost(`/api/staff/contracts/${contractId}/send`);
    expect(sent.status).toBe(200);
    expect(sent.body.status).toBe('sent');
    expect(sent.body.provider).toBe('fasc-simulator');
    expect(sent.body.signUrl).toMatch(/^https:\/\/fasc-simulator\.invalid\/sign-task\//);
    expect(await events('contract.sent', contractId)).toHaveLength(1);
    // Sending again is refused: the contract is no longer a draft.
    expect((await staffPost(`/api/staff/contracts/${contractId}/send`)).status).toBe(409);
  });

  it('refuses forged, foreign and stale callbacks with 401 and changes nothing', async () => {
    const sent = (await world.broker.call('contracts.staff.get', { id: contractId }, asStaff())) as {
      signUrl: string;
    };
    const task = /sign-task\/([^/]+)\//.exec(sent.signUrl)![1]!;
    const forged = simulator.callbackFor(task, 'signed', { signWith: 'not-the-app-secret' });
    expect((await deliver(forged)).status).toBe(401);
    expect((await deliver(simulator.callbackFor(task, 'signed', { appId: 'another-app' }))).status).toBe(401);
    const stale = simulator.callbackFor(task, 'signed', { timestamp: Date.now() - 10 * 60_000 });
    expect((await deliver(stale)).status).toBe(401);
    // A genuine callback whose body was altered in transit.
    const genuine = simulator.callbackFor(task, 'signed');
    const tampered = { ...genuine, body: genuine.body.replace('task_finished', 'task_finishex') };
    expect((await deliver(tampered)).status).toBe(401);
    const contract = await http(test.baseUrl, 'GET', `/api/staff/contracts/${contractId}`, {
      token: world.staff,
    });
    expect(contract.body.status).toBe('sent');
  });

  it('is signed by the provider’s callback: the signed file is downloaded, kept and its SHA-256 recorded, once', async () => {
    const current = await http(test.baseUrl, 'GET', `/api/staff/contracts/${contractId}`, {
      token: world.staff,
    });
    const task = /sign-task\/([^/]+)\//.exec(current.body.signUrl)![1]!;
    const callback = simulator.sign(task);
    const answer = await deliver(callback);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ msg: 'success' });

    const signedBytes = await simulator.downloadSigned(task, 50 * 1024 * 1024);
    const signed = await http(test.baseUrl, 'GET', `/api/contracts/${contractId}`, { token: world.buyer });
    expect(signed.status).toBe(200);
    assertMatchesSchema('entities/contract', signed.body);
    expect(signed.body.status).toBe('signed');
    expect(signed.body.signedDocument).toEqual({ sha256: sha256(signedBytes), size: signedBytes.length });
    expect(signed.body.signedDocument.sha256).not.toBe(draftSha);
    expect(signed.body.history.map((h: { from: string | null; to: string }) => [h.from, h.to])).toEqual([
      [null, 'draft'],
      ['draft', 'sent'],
      ['sent', 'signed'],
    ]);
    expect(signed.body.history[2].actor).toEqual({ kind: 'provider', id: 'fasc-simulator' });

    const file = await download(`/api/contracts/${contractId}/document`, world.buyer);
    expect(file.status).toBe(200);
    expect(sha256(file.bytes)).toBe(sha256(signedBytes));
    expect((await readPdf(file.bytes)).text).toContain(COMPANY_NAME);

    // The same callback again, and the same event delivered anew (another nonce): answered, no second effect.
    expect((await deliver(callback)).status).toBe(200);
    expect((await deliver(simulator.callbackFor(task, 'signed'))).status).toBe(200);
    const signedEvents = await events('contract.signed', contractId);
    expect(signedEvents).toHaveLength(1);
    expect(signedEvents[0]).toMatchObject({ from: 'sent', to: 'signed', sha256: sha256(signedBytes) });
    const after = await http(test.baseUrl, 'GET', `/api/contracts/${contractId}`, { token: world.buyer });
    expect(after.body.history).toHaveLength(3);
    // A late "rejected" for a signed contract changes nothing either.
    expect((await deliver(simulator.callbackFor(task, 'rejected'))).status).toBe(200);
    expect(
      (await http(test.baseUrl, 'GET', `/api/contracts/${contractId}`, { token: world.buyer })).body.status,
    ).toBe('signed');
  });

  it('is not another company’s: their buyer neither lists, reads nor downloads it; a buyer without company-wide reading is refused', async () => {
    const list = await http(test.baseUrl, 'GET', '/api/contracts', { token: otherBuyer });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    expect(
      (await http(test.baseUrl, 'GET', `/api/contracts/${contractId}`, { token: otherBuyer })).status,
    ).toBe(404);
    expect((await download(`/api/contracts/${contractId}/document`, otherBuyer)).status).toBe(404);
    const own = await http(test.baseUrl, 'GET', '/api/contracts', { token: world.buyer });
    expect(own.body.items.map((c: { id: string }) => c.id)).toContain(contractId);
    await expect(
      world.broker.call(
        'contracts.list',
        { limit: 10 },
        asBuyer(world.companyId, world.buyerId, ['orders.read@own']),
      ),
    ).rejects.toMatchObject({ code: 403 });
  });
});

describe('callbacks delivered at the same time', () => {
  it('five deliveries of one signing at once (each with its own nonce) sign the contract once', async () => {
    const order = await placeOrder();
    const created = await createContract(order.id);
    const sent = await staffPost(`/api/staff/contracts/${created.body.id}/send`);
    const task = /sign-task\/([^/]+)\//.exec(sent.body.signUrl)![1]!;
    simulator.sign(task);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => deliver(simulator.callbackFor(task, 'signed'))),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await events('contract.signed', created.body.id)).toHaveLength(1);
    const signed = await http(test.baseUrl, 'GET', `/api/staff/contracts/${created.body.id}`, {
      token: world.staff,
    });
    expect(signed.body.status).toBe('signed');
    expect(signed.body.history.filter((h: { to: string }) => h.to === 'signed')).toHaveLength(1);
    const { rows } = await test.hub.platform.db.query(
      'SELECT count(*)::int AS n FROM contracts.esign_callbacks WHERE task_id = $1',
      [task],
    );
    expect(rows[0]!.n).toBe(5);
  });
});

describe('contracts not signed', () => {
  it('rejected by the signatory: the reason is kept, contract.rejected announced, a new contract may follow', async () => {
    const order = await placeOrder();
    const created = await createContract(order.id);
    const sent = await staffPost(`/api/staff/contracts/${created.body.id}/send`);
    const task = /sign-task\/([^/]+)\//.exec(sent.body.signUrl)![1]!;
    expect((await deliver(simulator.reject(task, '价格条款需修改'))).status).toBe(200);
    const rejected = await http(test.baseUrl, 'GET', `/api/staff/contracts/${created.body.id}`, {
      token: world.staff,
    });
    expect(rejected.body.status).toBe('rejected');
    expect(rejected.body.signedDocument).toBeNull();
    expect(rejected.body.history.at(-1)).toMatchObject({
      from: 'sent',
      to: 'rejected',
      reason: '价格条款需修改',
    });
    expect(await events('contract.rejected', created.body.id)).toHaveLength(1);
    expect((await createContract(order.id)).status).toBe(201);
  });

  it('cancelled by staff while sent: the provider’s task is cancelled too; a draft can be cancelled', async () => {
    const order = await placeOrder();
    const created = await createContract(order.id);
    const sent = await staffPost(`/api/staff/contracts/${created.body.id}/send`);
    const task = /sign-task\/([^/]+)\//.exec(sent.body.signUrl)![1]!;
    const cancelled = await staffPost(`/api/staff/contracts/${created.body.id}/cancel`, {
      reason: '客户取消采购',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.history.at(-1)).toMatchObject({
      from: 'sent',
      to: 'cancelled',
      reason: '客户取消采购',
    });
    expect((await simulator.getTask(task)).outcome).toBe('cancelled');
    expect(
      (await staffPost(`/api/staff/contracts/${created.body.id}/cancel`, { reason: 'again' })).status,
    ).toBe(409);

    const draft = await createContract(order.id);
    const withdrawn = await staffPost(`/api/staff/contracts/${draft.body.id}/cancel`, { reason: '重新起草' });
    expect(withdrawn.body.status).toBe('cancelled');
    expect(await events('contract.cancelled', draft.body.id)).toHaveLength(1);
  });

  it('expired at the provider and no callback came: a staff refresh asks the provider and applies it', async () => {
    const order = await placeOrder();
    const created = await createContract(order.id);
    const sent = await staffPost(`/api/staff/contracts/${created.body.id}/send`);
    const task = /sign-task\/([^/]+)\//.exec(sent.body.signUrl)![1]!;
    simulator.expire(task);
    const refreshed = await staffPost(`/api/staff/contracts/${created.body.id}/refresh`);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.status).toBe('expired');
    expect(refreshed.body.history.at(-1)).toMatchObject({ from: 'sent', to: 'expired' });
    expect(await events('contract.expired', created.body.id)).toHaveLength(1);
  });
});

describe('sign deadlines', () => {
  it('the sweep asks the provider about sent contracts past their deadline, and only those', async () => {
    const late = await createContract((await placeOrder()).id);
    const lateSent = await staffPost(`/api/staff/contracts/${late.body.id}/send`);
    const lateTask = /sign-task\/([^/]+)\//.exec(lateSent.body.signUrl)![1]!;
    const onTime = await createContract((await placeOrder()).id);
    const onTimeSent = await staffPost(`/api/staff/contracts/${onTime.body.id}/send`);
    const onTimeTask = /sign-task\/([^/]+)\//.exec(onTimeSent.body.signUrl)![1]!;
    // Both expired at the provider without a callback; only one is past its deadline here.
    simulator.expire(lateTask);
    simulator.expire(onTimeTask);
    await test.hub.platform.db.query(
      `UPDATE contracts.contracts SET sign_deadline = now() - interval '1 minute' WHERE id = $1`,
      [late.body.id],
    );
    const swept = (await world.broker.call('contracts.internal.sweepDeadlines', {})) as { changed: number };
    expect(swept.changed).toBeGreaterThanOrEqual(1);
    const contractNow = async (id: string) =>
      (await http(test.baseUrl, 'GET', `/api/staff/contracts/${id}`, { token: world.staff })).body;
    expect((await contractNow(late.body.id)).status).toBe('expired');
    expect((await contractNow(late.body.id)).history.at(-1).actor).toEqual({
      kind: 'provider',
      id: 'fasc-simulator',
    });
    expect((await contractNow(onTime.body.id)).status).toBe('sent');
  });
});

describe('a contract for an accepted quote', () => {
  it('takes the accepted version’s lines (catalog and free text) and total; a quote not accepted is 422', async () => {
    const requested = await http(test.baseUrl, 'POST', '/api/quotes', {
      token: world.buyer,
      body: {
        title: '支架询价',
        lines: [
          { skuId: world.skus.get('CT-A')!, quantity: 4 },
          {
            description: '定制支架 图纸A-17',
            quantity: 5,
            unit: 'pcs',
            targetUnitPrice: { amountMinor: '300', currency: 'CNY' },
          },
        ],
      },
    });
    expect(requested.status).toBe(201);
    const quoteId = requested.body.id as string;
    const notYet = await http(test.baseUrl, 'POST', '/api/staff/contracts', {
      token: world.staff,
      body: { templateId, subject: { type: 'quote', id: quoteId }, signer: { name: '王小明' } },
    });
    expect(notYet.status).toBe(422);
    expect(notYet.body.type).toMatch(/subject-not-contractable$/);

    expect((await staffPost(`/api/staff/quotes/${quoteId}/review`, {})).status).toBe(200);
    const quoted = await staffPost(`/api/staff/quotes/${quoteId}/versions`, {
      basedOn: 1,
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      lines: [
        { lineNo: 1, unitPrice: { amountMinor: '12345', currency: 'CNY' } },
        { lineNo: 2, unitPrice: { amountMinor: '500', currency: 'CNY' } },
      ],
    });
    expect(quoted.status).toBe(201);
    const accepted = await http(test.baseUrl, 'POST', `/api/quotes/${quoteId}/accept`, {
      token: world.buyer,
      body: { version: 2 },
    });
    expect(accepted.status).toBe(200);

    const created = await http(test.baseUrl, 'POST', '/api/staff/contracts', {
      token: world.staff,
      body: { templateId, subject: { type: 'quote', id: quoteId }, signer: { name: '王小明' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.subject).toEqual({
      type: 'quote',
      id: quoteId,
      number: `Q-${quoteId.slice(0, 8).toUpperCase()}`,
    });
    expect(created.body.total).toEqual({ amountMinor: '51880', currency: 'CNY' });
    const file = await download(`/api/staff/contracts/${created.body.id}/document`, world.staff);
    const text = (await readPdf(file.bytes)).text.replace(/[ \t]+/g, ' ');
    expect(text).toContain(`根据报价 Q-${quoteId.slice(0, 8).toUpperCase()}`);
    expect(text).toMatch(/1 CT-A 不锈钢螺栓 CT-A 4 pcs 123\.45 CNY 493\.80 CNY/);
    expect(text).toMatch(/2 定制支架 图纸A-17 5 pcs 5\.00 CNY 25\.00 CNY/);
    expect(text).toContain('合同金额：518.80 CNY（人民币伍佰壹拾捌元捌角）');
  });
});
