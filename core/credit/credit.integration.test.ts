import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type moleculer from 'moleculer';
import type { TestHub } from '../platform/testing/start-test-hub.ts';
import { seedDemoCredit } from './demo-data.ts';
import {
  asBuyer,
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

// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;
const call = (action: string, params: object, options: object = {}) =>
  broker.call(action, params, options) as Promise<Any>;

beforeAll(async () => {
  t = await startCreditHub();
  broker = t.hub.broker;
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

async function sums(companyId: string) {
  const db = t.hub.platform.db;
  const { rows } = await db.query(
    `SELECT a.held_minor, a.owed_minor,
            (SELECT COALESCE(SUM(held_delta), 0) FROM credit.ledger_entries e WHERE e.company_id = a.company_id) AS ledger_held,
            (SELECT COALESCE(SUM(owed_delta), 0) FROM credit.ledger_entries e WHERE e.company_id = a.company_id) AS ledger_owed,
            (SELECT COALESCE(SUM(amount_minor), 0) FROM credit.holds h WHERE h.company_id = a.company_id AND status = 'held') AS active_holds,
            (SELECT COALESCE(SUM(amount_minor - paid_minor - credited_minor), 0) FROM credit.invoices i WHERE i.company_id = a.company_id) AS invoiced_unpaid,
            (SELECT COALESCE(SUM(captured_minor), 0) FROM credit.holds h WHERE h.company_id = a.company_id AND status = 'captured' AND invoice_id IS NULL) AS captured_uninvoiced,
            (SELECT COALESCE(SUM(received_minor - allocated_minor - refunded_minor), 0) FROM credit.payments p WHERE p.company_id = a.company_id) AS unallocated_cash
       FROM credit.accounts a WHERE a.company_id = $1`,
    [companyId],
  );
  const row = rows[0]!;
  return {
    held: BigInt(row.held_minor),
    owed: BigInt(row.owed_minor),
    ledgerHeld: BigInt(row.ledger_held),
    ledgerOwed: BigInt(row.ledger_owed),
    activeHolds: BigInt(row.active_holds),
    receivables: BigInt(row.invoiced_unpaid) + BigInt(row.captured_uninvoiced) - BigInt(row.unallocated_cash),
  };
}

describe('credit holds at the limit', () => {
  it('50 concurrent holds against a limit that fits 10: exactly 10 held, exposure never above the limit', async () => {
    const companyId = await createCompany(broker, 'Racer');
    await openAccount(broker, companyId, 100_000);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        call('credit.internal.hold', { reference: `race:${companyId}:${i}`, companyId, amount: cny(10_000) }),
      ),
    );
    const held = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(held).toHaveLength(10);
    for (const outcome of refused) {
      expect(outcome.reason).toMatchObject({ code: 422, type: 'credit-limit-exceeded' });
      expect(outcome.reason.data.requested).toEqual(cny(10_000));
    }
    const account = await call('credit.staff.accounts.get', { companyId }, asStaff(['finance.read']));
    assertMatchesSchema('entities/credit-account', account);
    expect(account.exposure).toEqual(cny(100_000));
    expect(account.available).toEqual(cny(0));
    const balance = await sums(companyId);
    expect(balance.held).toBe(100_000n);
    expect(balance.ledgerHeld).toBe(100_000n);
    expect(balance.activeHolds).toBe(100_000n);
  });

  it('the same reference held 20 times at once holds once and answers alike', async () => {
    const companyId = await createCompany(broker, 'Repeat');
    await openAccount(broker, companyId, 1_000_000);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('credit.internal.hold', { reference: `same:${companyId}`, companyId, amount: cny(12_345) }),
      ),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set(['held']));
    expect((await sums(companyId)).held).toBe(12_345n);
    const { items } = await call('credit.staff.ledger.list', { companyId, limit: 50 }, asStaff());
    expect(items.filter((entry: Any) => entry.kind === 'hold')).toHaveLength(1);
  });

  it('refuses without a credit account, on hold, and when an invoice is overdue past the grace days', async () => {
    const stranger = await createCompany(broker, 'No credit');
    await expect(
      call('credit.internal.hold', { reference: `none:${stranger}`, companyId: stranger, amount: cny(1) }),
    ).rejects.toMatchObject({ code: 422, type: 'no-credit-account' });

    const companyId = await createCompany(broker, 'Late payer');
    await openAccount(broker, companyId, 1_000_000, { graceDays: 5 });
    const today = new Date();
    const daysAgo = (days: number) =>
      new Date(today.getTime() - days * 86_400_000).toISOString().slice(0, 10);
    // Due 3 days ago with 5 grace days: not blocking yet.
    await call('receivables.internal.issueInvoice', {
      reference: `late:${companyId}:1`,
      companyId,
      amount: cny(5_000),
      dueDate: daysAgo(3),
    });
    expect(
      await call('credit.internal.hold', { reference: `late:${companyId}:h1`, companyId, amount: cny(100) }),
    ).toMatchObject({ status: 'held' });
    // Due 10 days ago: past the grace days, new holds are refused.
    const overdue = await call('receivables.internal.issueInvoice', {
      reference: `late:${companyId}:2`,
      companyId,
      amount: cny(7_000),
      dueDate: daysAgo(10),
    });
    await expect(
      call('credit.internal.hold', { reference: `late:${companyId}:h2`, companyId, amount: cny(100) }),
    ).rejects.toMatchObject({ code: 422, type: 'credit-blocked', data: { reason: 'overdue' } });
    const account = await call('credit.staff.accounts.get', { companyId }, asStaff());
    expect(account.blocked).toMatchObject({ reason: 'overdue' });

    // Paying it lifts the block; a finance hold blocks again.
    await call(
      'payments.staff.receipts.create',
      {
        companyId,
        amount: cny(7_000),
        receivedOn: daysAgo(0),
        bankReference: `BR-${companyId}`,
        invoiceId: overdue.id,
      },
      asStaff(),
    );
    expect(
      await call('credit.internal.hold', { reference: `late:${companyId}:h3`, companyId, amount: cny(100) }),
    ).toMatchObject({ status: 'held' });
    await call('credit.staff.accounts.hold', { companyId, onHold: true, reason: '对账中' }, asStaff());
    await expect(
      call('credit.internal.hold', { reference: `late:${companyId}:h4`, companyId, amount: cny(100) }),
    ).rejects.toMatchObject({ code: 422, type: 'credit-blocked', data: { reason: 'on_hold' } });
  });

  it('capture turns the hold into a purchase; release gives an active hold back; both are idempotent', async () => {
    const companyId = await createCompany(broker, 'Capture');
    await openAccount(broker, companyId, 50_000);
    await call('credit.internal.hold', { reference: `cap:${companyId}:a`, companyId, amount: cny(30_000) });
    await call('credit.internal.hold', { reference: `cap:${companyId}:b`, companyId, amount: cny(20_000) });
    const captured = await call('credit.internal.capture', {
      reference: `cap:${companyId}:a`,
      amount: cny(28_000),
    });
    expect(captured).toEqual({ reference: `cap:${companyId}:a`, status: 'captured', captured: cny(28_000) });
    expect(await call('credit.internal.capture', { reference: `cap:${companyId}:a` })).toEqual(captured);
    await expect(
      call('credit.internal.capture', { reference: `cap:${companyId}:b`, amount: cny(20_001) }),
    ).rejects.toMatchObject({ code: 422, type: 'capture-exceeds-hold' });
    expect(await call('credit.internal.release', { reference: `cap:${companyId}:b` })).toEqual({
      reference: `cap:${companyId}:b`,
      status: 'released',
    });
    expect(await call('credit.internal.release', { reference: `cap:${companyId}:b` })).toMatchObject({
      status: 'released',
    });
    expect(await call('credit.internal.release', { reference: `cap:${companyId}:none` })).toEqual({
      reference: `cap:${companyId}:none`,
      status: 'none',
    });
    const balance = await sums(companyId);
    expect({ held: balance.held, owed: balance.owed }).toEqual({ held: 0n, owed: 28_000n });
    const account = await call('credit.staff.accounts.get', { companyId }, asStaff());
    expect(account.available).toEqual(cny(22_000));

    // Invoicing the captured order posts nothing more when the amounts agree.
    const invoice = await call('receivables.internal.issueInvoice', {
      reference: `cap:${companyId}:a`,
      companyId,
      amount: cny(28_000),
    });
    assertMatchesSchema('entities/invoice-receivable', invoice);
    expect((await sums(companyId)).owed).toBe(28_000n);
    await expect(call('credit.internal.release', { reference: `cap:${companyId}:a` })).rejects.toMatchObject({
      code: 422,
      type: 'credit-already-invoiced',
    });
  });
});

describe('the ledger always balances', () => {
  it('after random holds, captures, releases, invoices, payments, refunds and adjustments', async () => {
    const companyId = await createCompany(broker, 'Random');
    await openAccount(broker, companyId, 10_000_000);
    const staff = asStaff();
    let n = 0;
    const op = fc.oneof(
      fc.record({ kind: fc.constant('hold'), amount: fc.integer({ min: 1, max: 200_000 }) }),
      fc.record({ kind: fc.constant('capture'), pick: fc.nat(), part: fc.integer({ min: 1, max: 100 }) }),
      fc.record({ kind: fc.constant('release'), pick: fc.nat() }),
      fc.record({ kind: fc.constant('invoice'), pick: fc.nat(), extra: fc.integer({ min: -500, max: 500 }) }),
      fc.record({ kind: fc.constant('directInvoice'), amount: fc.integer({ min: 1, max: 100_000 }) }),
      fc.record({ kind: fc.constant('receipt'), amount: fc.integer({ min: 1, max: 150_000 }) }),
      fc.record({ kind: fc.constant('refund'), pick: fc.nat(), amount: fc.integer({ min: 1, max: 50_000 }) }),
      fc.record({ kind: fc.constant('adjust'), amount: fc.integer({ min: -20_000, max: 20_000 }) }),
    );
    const holds: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 40 }), async (ops) => {
        for (const o of ops as Any[]) {
          const pick = <T>(list: T[]) => list[o.pick % Math.max(list.length, 1)];
          try {
            if (o.kind === 'hold') {
              const reference = `rnd:${companyId}:${n++}`;
              await call('credit.internal.hold', { reference, companyId, amount: cny(o.amount) });
              holds.push(reference);
            } else if (o.kind === 'capture' && holds.length) {
              const reference = pick(holds)!;
              const { rows } = await t.hub.platform.db.query(
                'SELECT amount_minor FROM credit.holds WHERE reference = $1',
                [reference],
              );
              const amount = (BigInt(rows[0]!.amount_minor) * BigInt(o.part)) / 100n || 1n;
              await call('credit.internal.capture', { reference, amount: cny(amount) });
            } else if (o.kind === 'release' && holds.length) {
              await call('credit.internal.release', { reference: pick(holds) });
            } else if (o.kind === 'invoice' && holds.length) {
              const reference = pick(holds)!;
              const { rows } = await t.hub.platform.db.query(
                'SELECT amount_minor FROM credit.holds WHERE reference = $1',
                [reference],
              );
              const amount = BigInt(rows[0]!.amount_minor) + BigInt(o.extra);
              if (amount > 0n) {
                await call('receivables.internal.issueInvoice', {
                  reference,
                  companyId,
                  amount: cny(amount),
                });
              }
            } else if (o.kind === 'directInvoice') {
              await call('receivables.internal.issueInvoice', {
                reference: `rnd:${companyId}:inv:${n++}`,
                companyId,
                amount: cny(o.amount),
              });
            } else if (o.kind === 'receipt') {
              await call(
                'payments.staff.receipts.create',
                {
                  companyId,
                  amount: cny(o.amount),
                  receivedOn: '2026-05-01',
                  bankReference: `RND-${companyId}-${n++}`,
                },
                staff,
              );
            } else if (o.kind === 'refund') {
              const { rows } = await t.hub.platform.db.query(
                `SELECT id FROM credit.payments WHERE company_id = $1 AND received_minor > allocated_minor + refunded_minor`,
                [companyId],
              );
              if (rows.length) {
                await call(
                  'payments.staff.payments.refund',
                  { id: pick(rows)!.id, amount: cny(o.amount), reason: 'random refund' },
                  staff,
                );
              }
            } else if (o.kind === 'adjust' && o.amount !== 0) {
              await call(
                'credit.staff.adjustments.create',
                { companyId, amount: cny(o.amount), reason: 'random adjustment' },
                staff,
              );
            }
          } catch (error) {
            // Business refusals are fine (limit, refund beyond the unallocated money, ...); crashes are not.
            expect((error as { code?: number }).code).toBe(422);
          }
        }
        const balance = await sums(companyId);
        expect(balance.held).toBe(balance.ledgerHeld);
        expect(balance.owed).toBe(balance.ledgerOwed);
        expect(balance.held).toBe(balance.activeHolds);
        const { rows } = await t.hub.platform.db.query(
          `SELECT COALESCE(SUM(owed_delta), 0) AS free FROM credit.ledger_entries
            WHERE company_id = $1 AND kind = 'adjustment' AND invoice_id IS NULL AND note <> 'purchase cancelled before it was invoiced'
              AND note <> 'invoice amount differs from the captured purchase'`,
          [companyId],
        );
        // Exposure = outstanding receivables (+ free adjustments) + active holds.
        expect(balance.owed).toBe(balance.receivables + BigInt(rows[0]!.free));
      }),
      { numRuns: 4 },
    );
  }, 120_000);
});

describe('finance staff change limits and terms', () => {
  it('audited old → new, recorded in the history, announced as credit.limit_changed', async () => {
    const companyId = await createCompany(broker, 'Audited');
    const finance = asStaff(['finance.manage']);
    await call(
      'credit.staff.accounts.put',
      { companyId, limit: cny(100_000), terms: { kind: 'net', days: 30 }, graceDays: 0, creditEnabled: true },
      finance,
    );
    const after = await call(
      'credit.staff.accounts.put',
      {
        companyId,
        limit: cny(250_000),
        terms: { kind: 'month_end', days: 30 },
        graceDays: 7,
        creditEnabled: true,
        reason: '年度评审',
      },
      finance,
    );
    expect(after).toMatchObject({
      limit: cny(250_000),
      terms: { kind: 'month_end', days: 30 },
      graceDays: 7,
    });
    const { rows } = await t.hub.platform.db.query(
      `SELECT actor_id, details FROM platform.audit_log WHERE action = 'credit_account.changed' AND entity_id = $1 ORDER BY id`,
      [companyId],
    );
    expect(rows).toHaveLength(2);
    expect(rows[1]!.actor_id).toBe(finance.meta.auth.principalId);
    expect(rows[1]!.details).toMatchObject({
      before: { limit: cny(100_000), terms: { kind: 'net', days: 30 } },
      after: { limit: cny(250_000), terms: { kind: 'month_end', days: 30 }, graceDays: 7 },
      reason: '年度评审',
    });
    const history = await call('credit.staff.accounts.changes', { companyId, limit: 10 }, finance);
    assertMatchesSchema('api/credit/credit-account-change-list-response', history);
    expect(history.items.map((c: Any) => c.after.limit.amountMinor)).toEqual(['250000', '100000']);
    const events = (await outboxEvents(t, 'credit.limit_changed')).filter((e) => e.companyId === companyId);
    expect(events).toHaveLength(2);
    assertMatchesSchema('events/credit-limit-changed', events[1]);
    expect((events[1] as Any).before.limit).toEqual(cny(100_000));

    // Invoices issued now fall due by the new terms (month end + 30).
    const invoice = await call('receivables.internal.issueInvoice', {
      reference: `terms:${companyId}`,
      companyId,
      amount: cny(1_000),
    });
    const issued = new Date(`${invoice.issuedOn}T00:00:00Z`);
    const monthEnd = new Date(Date.UTC(issued.getUTCFullYear(), issued.getUTCMonth() + 1, 0));
    expect(invoice.dueDate).toBe(new Date(monthEnd.getTime() + 30 * 86_400_000).toISOString().slice(0, 10));

    await expect(
      call(
        'credit.staff.accounts.put',
        { companyId, limit: { amountMinor: '1', currency: 'USD' }, terms: { kind: 'net', days: 1 } },
        finance,
      ),
    ).rejects.toMatchObject({ code: 422, type: 'currency-mismatch' });
  });

  it('only finance staff change accounts; buyers read only their own', async () => {
    const companyId = await createCompany(broker, 'Guarded');
    await openAccount(broker, companyId, 10_000);
    const put = { companyId, limit: cny(1), terms: { kind: 'net', days: 1 } };
    await expect(call('credit.staff.accounts.put', put, asStaff(['finance.read']))).rejects.toMatchObject({
      code: 403,
    });
    await expect(call('credit.staff.accounts.put', put, asStaff(['companies.manage']))).rejects.toMatchObject(
      {
        code: 403,
      },
    );
    await expect(call('credit.staff.accounts.put', put, asBuyer(companyId, ['*']))).rejects.toMatchObject({
      code: 403,
    });
    await expect(
      call('credit.account.get', {}, asBuyer(companyId, ['invoices.read@company'])),
    ).rejects.toMatchObject({
      code: 403,
    });
    const own = await call('credit.account.get', {}, asBuyer(companyId, ['credit.read@company']));
    expect(own).toMatchObject({ companyId, limit: cny(10_000) });
    const other = await createCompany(broker, 'Other');
    await expect(
      call('credit.account.get', {}, asBuyer(other, ['credit.read@company'])),
    ).rejects.toMatchObject({
      code: 404,
    });
    await expect(
      call(
        'credit.staff.accounts.put',
        { ...put, companyId: '00000000-0000-4000-8000-000000000000' },
        asStaff(),
      ),
    ).rejects.toMatchObject({ code: 404 });
  });

  it('the demo seed gives Acme a ¥500,000 month-end account once', async () => {
    const acme = await createCompany(broker, 'Acme demo');
    expect(await seedDemoCredit(t.hub.platform.db, { acmeCompanyId: acme })).toEqual({ created: true });
    expect(await seedDemoCredit(t.hub.platform.db, { acmeCompanyId: acme })).toEqual({ created: false });
    const account = await call('credit.staff.accounts.get', { companyId: acme }, asStaff(['finance.read']));
    expect(account).toMatchObject({
      creditEnabled: true,
      limit: cny(50_000_000),
      terms: { kind: 'month_end', days: 30 },
      graceDays: 5,
      available: cny(50_000_000),
    });
    const history = await call('credit.staff.accounts.changes', { companyId: acme, limit: 5 }, asStaff());
    assertMatchesSchema('api/credit/credit-account-change-list-response', history);
  });

  it('the ledger refuses UPDATE and DELETE', async () => {
    await expect(t.hub.platform.db.query('DELETE FROM credit.ledger_entries')).rejects.toThrow(/append-only/);
    await expect(
      t.hub.platform.db.query('UPDATE credit.ledger_entries SET amount_minor = 0'),
    ).rejects.toThrow(/append-only/);
  });
});
