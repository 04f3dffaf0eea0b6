import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProducts, defaultPriceList, setPrices } from '../carts/testing/carts-hub.ts';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { waitFor } from '../platform/testing/wait-for.ts';
import { assertMatchesSchema } from '../pricing/testing/pricing-hub.ts';
import { requestMarginApproval } from './margin-approval.ts';
import { expireQuotes } from './quote-expiry.ts';

/**
 * Quotes over HTTP on a whole hub (real PostgreSQL; the real accounts, catalog, pricing and carts
 * services): the buyer's request, staff review and versions, counters, margin approval, acceptance,
 * expiry, history, events and tenant isolation.
 */
let t: TestHub;
let staff: string;
let buyer: string;
let other: string;
let skus: Map<string, { skuId: string; code: string }>;
const cny = (minor: number | bigint) => ({ amountMinor: String(minor), currency: 'CNY' });

beforeAll(async () => {
  t = await startTestHub({
    env: {
      HUB_SERVICES: 'accounts,catalog,pricing,carts,quotes,approvals,outbox,jobs,gateway',
      HUB_QUOTES_SWEEP_SECONDS: '0',
    },
  });
  await t.hub.broker.waitForServices(['accounts', 'catalog', 'pricing', 'carts', 'quotes', 'approvals']);
  staff = await logInAs(t.baseUrl, 'admin@hub.local', 'demo-admin-password');
  buyer = await logInAs(t.baseUrl, 'buyer@acme.example', 'demo-buyer-password');
  const company = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name: 'Other Co',
      status: 'active',
      admin: { email: 'admin@other.example', displayName: 'Other', password: 'admin-password-1' },
    },
  });
  expect(company.status).toBe(201);
  other = await logInAs(t.baseUrl, 'admin@other.example', 'admin-password-1');
  skus = await createProducts(t.hub.broker, [{ codes: ['Q-1'] }, { codes: ['Q-2'] }]);
  const list = await defaultPriceList(t.baseUrl, staff, 'STD-Q');
  await setPrices(t.baseUrl, staff, list, { 'Q-1': 10000, 'Q-2': 2500 });
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

async function events(quoteId: string): Promise<Array<{ topic: string; payload: Record<string, unknown> }>> {
  const { rows } = await t.hub.platform.db.query(
    `SELECT topic, payload FROM platform.outbox WHERE kind = 'event' AND payload->>'quoteId' = $1 ORDER BY id`,
    [quoteId],
  );
  return rows as Array<{ topic: string; payload: Record<string, unknown> }>;
}

async function requestQuote(body: unknown, token = buyer) {
  const answer = await http(t.baseUrl, 'POST', '/api/quotes', { token, body });
  if (answer.status !== 201) throw new Error(`request: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const standardRequest = () => ({
  title: 'Brackets for line 3',
  neededBy: '2030-01-31',
  targetTotal: cny(90000),
  lines: [
    { skuId: skus.get('Q-1')!.skuId, quantity: 10 },
    { description: 'Custom bracket, drawing A-17', quantity: 5, unit: 'pcs', targetUnitPrice: cny(300) },
  ],
});

const inADay = () => new Date(Date.now() + 86_400_000).toISOString();

async function staffCall(path: string, body: unknown, token = staff) {
  return http(t.baseUrl, 'POST', `/api/staff/quotes${path}`, { token, body });
}

describe('quotes: request, respond, counter, accept', () => {
  it('runs a whole negotiation with versions, exact totals, history and an event per transition', async () => {
    const quote = await requestQuote(standardRequest());
    assertMatchesSchema('entities/quote', quote);
    expect(quote.state).toBe('requested');
    expect(quote.versions).toHaveLength(1);
    const [sku, free] = quote.versions[0].lines;
    expect(sku).toMatchObject({ lineNo: 1, skuCode: 'Q-1', listUnitPrice: cny(10000), quantity: 10 });
    expect(free).toMatchObject({
      lineNo: 2,
      skuId: null,
      description: 'Custom bracket, drawing A-17',
      listUnitPrice: null,
      targetUnitPrice: cny(300),
    });
    // A free-text line has no list price, so the request has no list total.
    expect(quote.versions[0].listTotal).toBeNull();

    // Staff must take it into review before quoting; the buyer cannot accept a request.
    expect(
      (await staffCall(`/${quote.id}/versions`, { basedOn: 1, validUntil: inADay(), lines: [] })).status,
    ).toBe(400);
    const early = await staffCall(`/${quote.id}/versions`, {
      basedOn: 1,
      validUntil: inADay(),
      lines: [
        { lineNo: 1, unitPrice: cny(9500) },
        { lineNo: 2, unitPrice: cny(400) },
      ],
    });
    expect(early.status).toBe(409);
    expect(early.body.type).toMatch(/quote-transition-not-allowed$/);
    const acceptEarly = await http(t.baseUrl, 'POST', `/api/quotes/${quote.id}/accept`, {
      token: buyer,
      body: { version: 1 },
    });
    expect(acceptEarly.status).toBe(409);

    expect((await staffCall(`/${quote.id}/review`, {})).body.state).toBe('in_review');
    // A line left unpriced is refused with its pointer.
    const partial = await staffCall(`/${quote.id}/versions`, {
      basedOn: 1,
      validUntil: inADay(),
      lines: [{ lineNo: 1, unitPrice: cny(9500) }],
    });
    expect(partial.status).toBe(400);
    expect(partial.body.errors[0].pointer).toBe('/lines');

    const quoted = await staffCall(`/${quote.id}/versions`, {
      basedOn: 1,
      validUntil: inADay(),
      note: 'Price for 10 and the custom part',
      lines: [
        { lineNo: 1, unitPrice: cny(9500), discountBp: 333 },
        { lineNo: 2, unitPrice: cny(400), discount: cny(100) },
      ],
    });
    expect(quoted.status).toBe(201);
    assertMatchesSchema('entities/quote', quoted.body);
    expect(quoted.body.state).toBe('quoted');
    const v2 = quoted.body.versions[1];
    // 95,000 less 3.33 % = 3,163.5 → 3,164 (half up, once, on the line); 2,000 less 100.
    expect(v2.lines[0]).toMatchObject({ discount: cny(3164), lineTotal: cny(91836) });
    expect(v2.lines[1]).toMatchObject({ discount: cny(100), lineTotal: cny(1900) });
    expect(v2.total).toEqual(cny(93736));
    expect(quoted.body.quotedTotal).toEqual(cny(93736));

    // A counter on a version the buyer did not see is refused; then a real counter.
    const stale = await http(t.baseUrl, 'POST', `/api/quotes/${quote.id}/counter`, {
      token: buyer,
      body: { version: 1, lines: [{ lineNo: 1, targetUnitPrice: cny(9000) }] },
    });
    expect(stale.status).toBe(409);
    const countered = await http(t.baseUrl, 'POST', `/api/quotes/${quote.id}/counter`, {
      token: buyer,
      body: { version: 2, lines: [{ lineNo: 1, targetUnitPrice: cny(9000) }], note: 'Can you do 90?' },
    });
    expect(countered.status).toBe(200);
    expect(countered.body.state).toBe('countered');
    const v3 = countered.body.versions[2];
    expect(v3).toMatchObject({ number: 3, kind: 'counter', author: { kind: 'buyer' } });
    // The buyer proposes 90,000 for line 1 and keeps the quoted 1,900 for line 2.
    expect(v3.total).toEqual(cny(91900));
    // Accepting a counter is not the buyer's move.
    expect(
      (
        await http(t.baseUrl, 'POST', `/api/quotes/${quote.id}/accept`, {
          token: buyer,
          body: { version: 3 },
        })
      ).status,
    ).toBe(409);

    const requoted = await staffCall(`/${quote.id}/versions`, {
      basedOn: 3,
      validUntil: inADay(),
      lines: [
        { lineNo: 1, unitPrice: cny(9000) },
        { lineNo: 2, unitPrice: cny(380) },
      ],
    });
    expect(requoted.body.state).toBe('quoted');
    expect(requoted.body.quotedVersion).toBe(4);

    const accepted = await http(t.baseUrl, 'POST', `/api/quotes/${quote.id}/accept`, {
      token: buyer,
      body: { version: 4 },
    });
    expect(accepted.status).toBe(200);
    assertMatchesSchema('entities/quote', accepted.body);
    expect(accepted.body).toMatchObject({
      state: 'accepted',
      acceptedVersion: 4,
      order: { status: 'pending', orderId: null },
    });
    // Accepted is final.
    expect(
      (await http(t.baseUrl, 'POST', `/api/quotes/${quote.id}/cancel`, { token: buyer, body: {} })).status,
    ).toBe(409);
    expect((await staffCall(`/${quote.id}/decline`, {})).status).toBe(409);

    expect(
      accepted.body.history.map(
        (h: { action: string; from: string | null; to: string; actor: { kind: string } }) => [
          h.action,
          h.from,
          h.to,
          h.actor.kind,
        ],
      ),
    ).toEqual([
      ['request', null, 'requested', 'buyer'],
      ['review', 'requested', 'in_review', 'staff'],
      ['quote', 'in_review', 'quoted', 'staff'],
      ['counter', 'quoted', 'countered', 'buyer'],
      ['quote', 'countered', 'quoted', 'staff'],
      ['accept', 'quoted', 'accepted', 'buyer'],
    ]);
    const published = await events(quote.id);
    expect(published.map((e) => e.topic)).toEqual([
      'quote.requested',
      'quote.in_review',
      'quote.quoted',
      'quote.countered',
      'quote.quoted',
      'quote.accepted',
    ]);
    for (const event of published)
      assertMatchesSchema(`events/${event.topic.replace('.', '-').replace('_', '-')}`, event.payload);
    expect(published[5]!.payload).toMatchObject({ version: 4, total: cny(90000 + 1900) });
    // The conversion into an order is one outbox job per quote and version.
    const { rows: jobs } = await t.hub.platform.db.query(
      `SELECT payload FROM platform.outbox WHERE kind = 'job' AND topic = 'quotes-orders' AND payload->>'key' = $1`,
      [`quote:${quote.id}:4:order`],
    );
    expect(jobs).toHaveLength(1);
    // Staff changes are audited.
    const { rows: audit } = await t.hub.platform.db.query(
      `SELECT action FROM platform.audit_log WHERE entity_id = $1 ORDER BY id`,
      [quote.id],
    );
    expect(audit.map((row) => row.action)).toEqual(['quote.review', 'quote.quote', 'quote.quote']);
  }, 60_000);

  it('keeps versions immutable in the database', async () => {
    const quote = await requestQuote(standardRequest());
    await expect(
      t.hub.platform.db.query('UPDATE quotes.quote_version_lines SET quantity = 1 WHERE quote_id = $1', [
        quote.id,
      ]),
    ).rejects.toThrow(/immutable/);
    await expect(
      t.hub.platform.db.query('UPDATE quotes.quote_versions SET note = $2 WHERE quote_id = $1', [
        quote.id,
        'changed',
      ]),
    ).rejects.toThrow(/immutable/);
  });

  it('asks for a quote from a cart, with its lines first', async () => {
    const cart = await http(t.baseUrl, 'POST', '/api/carts', {
      token: buyer,
      body: { name: `For a quote ${randomUUID().slice(0, 6)}` },
    });
    await http(t.baseUrl, 'POST', `/api/carts/${cart.body.id}/lines`, {
      token: buyer,
      body: { skuId: skus.get('Q-2')!.skuId, quantity: 4 },
    });
    const quote = await requestQuote({
      fromCartId: cart.body.id,
      lines: [{ description: 'Installation', quantity: 1 }],
    });
    expect(quote.sourceCartId).toBe(cart.body.id);
    expect(
      quote.versions[0].lines.map(
        (l: { skuCode: string | null; quantity: number; listUnitPrice: unknown }) => [
          l.skuCode,
          l.quantity,
          l.listUnitPrice,
        ],
      ),
    ).toEqual([
      ['Q-2', 4, cny(2500)],
      [null, 1, null],
    ]);
    // Another company's cart is no cart at all.
    const foreign = await http(t.baseUrl, 'POST', '/api/quotes', {
      token: other,
      body: { fromCartId: cart.body.id },
    });
    expect(foreign.status).toBe(404);
  });

  it('refuses money in another currency with its pointer', async () => {
    const answer = await http(t.baseUrl, 'POST', '/api/quotes', {
      token: buyer,
      body: {
        lines: [{ description: 'x', quantity: 1, targetUnitPrice: { amountMinor: '1', currency: 'USD' } }],
      },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.errors[0].pointer).toBe('/lines/0/targetUnitPrice/currency');
  });
});

describe('quotes: margin floor approval through the approvals engine', () => {
  /** A staff member holding `quotes.approve`, as the gateway would pass them. */
  const approverAs = (permissions = ['quotes.approve']) => ({
    meta: {
      auth: { kind: 'staff' as const, principalId: randomUUID(), companyId: null, permissions },
      origin: { requestId: randomUUID() },
    },
  });

  async function heldQuote(quantity: number, unitPrice: number) {
    const quote = await requestQuote({ lines: [{ skuId: skus.get('Q-1')!.skuId, quantity }] });
    await staffCall(`/${quote.id}/review`, {});
    const held = await staffCall(`/${quote.id}/versions`, {
      basedOn: 1,
      validUntil: inADay(),
      lines: [{ lineNo: 1, unitPrice: cny(unitPrice) }],
    });
    expect(held.status).toBe(201);
    return held.body;
  }

  async function staffView(id: string) {
    return (await http(t.baseUrl, 'GET', `/api/staff/quotes/${id}`, { token: staff })).body;
  }

  async function waitForState(id: string, state: string) {
    await waitFor(async () => (await staffView(id)).state === state, `quote ${id} ${state}`, 60_000);
    return staffView(id);
  }

  it('a version below the floor waits in pending_approval until a staff approver (not the author) approves it', async () => {
    // 20,000 listed; 16,000 is 20 % below, deeper than the default 15 % floor.
    const held = await heldQuote(2, 8000);
    expect(held).toMatchObject({
      state: 'pending_approval',
      quotedVersion: null,
      pendingApproval: { version: 2 },
    });
    expect(held.versions[1].approval).toBe('pending');
    const approvalId = held.pendingApproval.approvalId as string;
    expect(approvalId).toEqual(expect.any(String));
    // The committed job asks again (a retry, or the first time when the direct call failed): the
    // same request, recorded once.
    expect(await requestMarginApproval(t.hub.platform.db, t.hub.broker, held.id, 2)).toEqual({ approvalId });
    const { rows: requests } = await t.hub.platform.db.query(
      `SELECT id FROM approvals.requests WHERE subject_type = 'quote-margin' AND subject_id = $1`,
      [held.id],
    );
    expect(requests).toEqual([{ id: approvalId }]);
    const { rows: jobs } = await t.hub.platform.db.query(
      `SELECT 1 FROM platform.outbox WHERE kind = 'job' AND topic = 'quotes-approvals' AND payload->>'key' = $1`,
      [`quote:${held.id}:2:approval`],
    );
    expect(jobs).toHaveLength(1);

    // The engine holds a staff-side request for the quote's company, the author as requester.
    const request = await http(t.baseUrl, 'GET', `/api/staff/approvals/${approvalId}`, { token: staff });
    expect(request.status).toBe(200);
    assertMatchesSchema('entities/approval-request', request.body);
    expect(request.body).toMatchObject({
      subject: { type: 'quote-margin', id: held.id },
      status: 'pending',
      snapshot: { total: cny(16000) },
      chains: [{ ruleName: 'Quote below the margin floor', steps: [{ status: 'active', required: 1 }] }],
    });

    // The buyer sees the state, not the version or its number.
    const seen = await http(t.baseUrl, 'GET', `/api/quotes/${held.id}`, { token: buyer });
    expect(seen.body).toMatchObject({ state: 'pending_approval', latestVersion: 1, pendingApproval: null });
    expect(seen.body.versions).toHaveLength(1);
    // No second answer while one waits; the buyer cannot accept it.
    const second = await staffCall(`/${held.id}/versions`, {
      basedOn: 2,
      validUntil: inADay(),
      lines: [{ lineNo: 1, unitPrice: cny(9000) }],
    });
    expect(second.status).toBe(409);
    const accept = await http(t.baseUrl, 'POST', `/api/quotes/${held.id}/accept`, {
      token: buyer,
      body: { version: 2 },
    });
    expect(accept.status).toBe(409);

    // The author cannot decide their own version; to staff without quotes.approve it does not exist.
    const own = await http(t.baseUrl, 'POST', `/api/staff/approvals/${approvalId}/decisions`, {
      token: staff,
      body: { decision: 'approve' },
    });
    expect(own.status).toBe(403);
    await expect(
      t.hub.broker.call(
        'approvals.staff.decide',
        { id: approvalId, decision: 'approve' },
        approverAs(['quotes.manage']),
      ),
    ).rejects.toMatchObject({ code: 404 });
    // Buyers never reach staff-side requests, not even their own company's.
    expect((await http(t.baseUrl, 'GET', `/api/approvals/${approvalId}`, { token: buyer })).status).toBe(404);

    const decided = (await t.hub.broker.call(
      'approvals.staff.decide',
      { id: approvalId, decision: 'approve', comment: 'strategic account' },
      approverAs(),
    )) as { status: string };
    expect(decided.status).toBe('approved');
    const approved = await waitForState(held.id, 'quoted');
    expect(approved).toMatchObject({ quotedVersion: 2, pendingApproval: null });
    expect(approved.history.slice(-2)).toMatchObject([
      { action: 'submit_for_approval', from: 'in_review', to: 'pending_approval', actor: { kind: 'staff' } },
      { action: 'approve', from: 'pending_approval', to: 'quoted', actor: { kind: 'system' }, version: 2 },
    ]);
    const now = await http(t.baseUrl, 'GET', `/api/quotes/${held.id}`, { token: buyer });
    expect(
      now.body.versions.map((v: { number: number; approval: string }) => [v.number, v.approval]),
    ).toEqual([
      [1, 'not_required'],
      [2, 'approved'],
    ]);
    const published = await events(held.id);
    expect(published.map((e) => e.topic)).toEqual([
      'quote.requested',
      'quote.in_review',
      'quote.pending_approval',
      'quote.quoted',
    ]);
    for (const event of published)
      assertMatchesSchema(`events/${event.topic.replace('.', '-').replaceAll('_', '-')}`, event.payload);
  }, 90_000);

  it('a rejection returns the quote to in_review with the reason; within the floor a version shows at once', async () => {
    const held = await heldQuote(1, 5000);
    const approvalId = held.pendingApproval.approvalId as string;
    // A rejection needs a comment.
    await expect(
      t.hub.broker.call('approvals.staff.decide', { id: approvalId, decision: 'reject' }, approverAs()),
    ).rejects.toMatchObject({ code: 400 });
    await t.hub.broker.call(
      'approvals.staff.decide',
      { id: approvalId, decision: 'reject', comment: 'too deep' },
      approverAs(),
    );
    const returned = await waitForState(held.id, 'in_review');
    expect(returned.history.at(-1)).toMatchObject({
      action: 'return',
      from: 'pending_approval',
      to: 'in_review',
      actor: { kind: 'system' },
      version: 2,
      reason: expect.stringContaining('too deep'),
    });
    expect(returned.versions[1].approval).toBe('rejected');
    expect(returned.pendingApproval).toBeNull();
    // Exactly 15 % off (8,500) is at the floor, not below it.
    const within = await staffCall(`/${held.id}/versions`, {
      basedOn: 2,
      validUntil: inADay(),
      lines: [{ lineNo: 1, unitPrice: cny(8500) }],
    });
    expect(within.body).toMatchObject({ state: 'quoted', quotedVersion: 3, pendingApproval: null });
    const seen = await http(t.baseUrl, 'GET', `/api/quotes/${held.id}`, { token: buyer });
    expect(seen.body.versions.map((v: { number: number }) => v.number)).toEqual([1, 3]);
    const published = await events(held.id);
    const returnEvent = published.find((e) => e.payload.action === 'return')!;
    expect(returnEvent).toMatchObject({
      topic: 'quote.in_review',
      payload: { reason: expect.stringContaining('too deep') },
    });
  }, 90_000);

  it('cancelling a quote withdraws its request; a late decision on it changes nothing', async () => {
    const held = await heldQuote(3, 7000);
    const approvalId = held.pendingApproval.approvalId as string;
    const cancelled = await http(t.baseUrl, 'POST', `/api/quotes/${held.id}/cancel`, {
      token: buyer,
      body: { reason: 'bought elsewhere' },
    });
    expect(cancelled.body.state).toBe('cancelled');
    const request = await http(t.baseUrl, 'GET', `/api/staff/approvals/${approvalId}`, { token: staff });
    expect(request.body).toMatchObject({ status: 'cancelled', cancelReason: 'quote cancelled by the buyer' });
    await expect(
      t.hub.broker.call('approvals.staff.decide', { id: approvalId, decision: 'approve' }, approverAs()),
    ).rejects.toMatchObject({ code: 409 });
    expect((await staffView(held.id)).state).toBe('cancelled');
  }, 90_000);
});

describe('quotes: expiry, rejection, cancellation', () => {
  async function quotedQuote(): Promise<string> {
    const quote = await requestQuote({ lines: [{ description: 'Special cable', quantity: 3 }] });
    await staffCall(`/${quote.id}/review`, {});
    await staffCall(`/${quote.id}/versions`, {
      basedOn: 1,
      validUntil: inADay(),
      lines: [{ lineNo: 1, unitPrice: cny(1234) }],
    });
    return quote.id;
  }

  it('a quote past its validity cannot be accepted and the sweep expires it', async () => {
    const id = await quotedQuote();
    await t.hub.platform.db.query(
      `UPDATE quotes.quotes SET valid_until = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
    const late = await http(t.baseUrl, 'POST', `/api/quotes/${id}/accept`, {
      token: buyer,
      body: { version: 2 },
    });
    expect(late.status).toBe(422);
    expect(late.body.type).toMatch(/quote-expired$/);
    const expired = await expireQuotes(t.hub.platform.db, new Date());
    expect(expired).toContain(id);
    expect(await expireQuotes(t.hub.platform.db, new Date())).not.toContain(id);
    const seen = await http(t.baseUrl, 'GET', `/api/quotes/${id}`, { token: buyer });
    expect(seen.body.state).toBe('expired');
    expect(seen.body.history.at(-1)).toMatchObject({
      action: 'expire',
      actor: { kind: 'system', id: null },
      version: 2,
    });
    expect((await events(id)).map((e) => e.topic).at(-1)).toBe('quote.expired');
  });

  it('the buyer rejects or cancels; staff decline a counter', async () => {
    const rejected = await quotedQuote();
    const answer = await http(t.baseUrl, 'POST', `/api/quotes/${rejected}/reject`, {
      token: buyer,
      body: { version: 2, reason: 'found cheaper' },
    });
    expect(answer.body).toMatchObject({ state: 'rejected' });
    expect(answer.body.history.at(-1)).toMatchObject({ reason: 'found cheaper' });
    const cancelled = await requestQuote({ lines: [{ description: 'x', quantity: 1 }] });
    expect(
      (
        await http(t.baseUrl, 'POST', `/api/quotes/${cancelled.id}/cancel`, {
          token: buyer,
          body: { reason: 'not needed' },
        })
      ).body.state,
    ).toBe('cancelled');
    expect((await staffCall(`/${cancelled.id}/review`, {})).status).toBe(409);
    const declined = await quotedQuote();
    await http(t.baseUrl, 'POST', `/api/quotes/${declined}/counter`, {
      token: buyer,
      body: { version: 2, lines: [{ lineNo: 1, targetUnitPrice: cny(1) }] },
    });
    expect((await staffCall(`/${declined}/decline`, { reason: 'below cost' })).body.state).toBe('rejected');
  });
});

describe('quotes: tenant isolation', () => {
  it("another company's buyer never sees or moves a quote; staff see all", async () => {
    const quote = await requestQuote(standardRequest());
    for (const [method, path, body] of [
      ['GET', `/api/quotes/${quote.id}`, undefined],
      ['POST', `/api/quotes/${quote.id}/cancel`, {}],
      ['POST', `/api/quotes/${quote.id}/accept`, { version: 1 }],
      [
        'POST',
        `/api/quotes/${quote.id}/counter`,
        { version: 1, lines: [{ lineNo: 1, targetUnitPrice: cny(1) }] },
      ],
    ] as const) {
      expect((await http(t.baseUrl, method, path, { token: other, body })).status).toBe(404);
    }
    const list = await http(t.baseUrl, 'GET', `/api/quotes?companyId=${quote.companyId}`, { token: other });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    const mine = await http(t.baseUrl, 'GET', '/api/quotes', { token: buyer });
    expect(mine.body.items.map((q: { id: string }) => q.id)).toContain(quote.id);
    // Buyers do not reach staff routes; staff read every company's quotes.
    expect((await http(t.baseUrl, 'GET', `/api/staff/quotes/${quote.id}`, { token: buyer })).status).toBe(
      403,
    );
    const all = await http(t.baseUrl, 'GET', `/api/staff/quotes?companyId=${quote.companyId}`, {
      token: staff,
    });
    expect(all.body.items.map((q: { id: string }) => q.id)).toContain(quote.id);
  });
});
