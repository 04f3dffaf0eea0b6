import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import {
  asBuyer,
  assertMatchesSchema,
  cny,
  createOrg,
  type Org,
  type OrgUser,
  type SpendingHub,
  startSpendingHub,
} from './testing/spending-hub.ts';

const ADMIN = ['spending.manage@company', 'spending.read@company', 'company.read@company'];
const PURCHASER = ['spending.read@own', 'company.read@company', 'orders.place@own'];

let hub: SpendingHub;
let broker: moleculer.ServiceBroker;
let org: Org;

// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;

const call = (action: string, params: object, options: object) =>
  broker.call(action, params, options) as Promise<Any>;
const admin = () => asBuyer(org.users.admin!, ADMIN);
const as = (user: OrgUser) => asBuyer(user, PURCHASER);

function limit(
  subject: { type: 'user' | 'unit'; id: string },
  per: string,
  amountMinor: number,
  mode: string,
  extra = {},
) {
  return call('spending.limits.create', { subject, per, amount: cny(amountMinor), mode, ...extra }, admin());
}
const user = (name: string) => ({ type: 'user' as const, id: org.users[name]!.id });
const unit = (name: string) => ({ type: 'unit' as const, id: org.units[name]! });

async function query(sql: string, values: unknown[] = []) {
  return (await hub.test.hub.platform.db.query(sql, values)).rows;
}

async function eventsFor(reference: string) {
  return query(
    `SELECT topic, payload, company_id FROM platform.outbox
      WHERE topic IN ('spending.limit_exceeded', 'budget.threshold_reached') AND payload->'reference'->>'id' = $1
      ORDER BY id`,
    [reference],
  );
}

beforeAll(async () => {
  hub = await startSpendingHub();
  broker = hub.broker;
  org = await createOrg(
    broker,
    'Initech',
    { rd: 'root', lab: 'rd', ops: 'root' },
    {
      admin: 'root',
      lead: 'rd',
      labber: 'lab',
      warned: 'ops',
      fx: 'ops',
      tz: 'ops',
      ledger: 'ops',
      capped: 'ops',
      unlimited: 'ops',
    },
  );
}, 60_000);

afterAll(async () => {
  await hub?.stop();
});

describe('spending.check', () => {
  const at = '2026-05-10T02:00:00Z';
  let ids: Record<string, string>;

  beforeAll(async () => {
    ids = {
      order: (await limit(user('labber'), 'order', 100000, 'block')).id,
      month: (await limit(user('labber'), 'month', 300000, 'warn')).id,
      rd: (await limit(unit('rd'), 'month', 500000, 'block')).id,
      root: (await limit(unit('root'), 'quarter', 2000000, 'warn')).id,
    };
    ids.budget = (
      await call(
        'spending.budgets.create',
        {
          costCentre: 'RD-01',
          period: 'quarter',
          periodStart: '2026-04-01',
          amount: cny(600000),
          mode: 'block',
        },
        admin(),
      )
    ).id;
  });

  it('passes a purchase within every limit, without violations', async () => {
    await expect(
      call('spending.check', { amount: cny(80000), costCentre: 'RD-01', at }, as(org.users.labber!)),
    ).resolves.toEqual({ allowed: true, violations: [], ignored: [] });
  });

  it("blocks an order over the user's per-order limit", async () => {
    const answer = await call('spending.check', { amount: cny(120000), at }, as(org.users.labber!));
    expect(answer.allowed).toBe(false);
    expect(answer.violations).toEqual([
      {
        kind: 'user_order',
        limitId: ids.order,
        subjectId: org.users.labber!.id,
        mode: 'block',
        limit: cny(100000),
        wouldBe: cny(120000),
      },
    ]);
  });

  it("counts spend of the whole subtree against an ancestor unit's period limit", async () => {
    // The lead (in rd) spends 4,500; rd's monthly limit of 5,000 covers lab too.
    await call(
      'spending.commit',
      { reference: { type: 'order', id: 'RD-LEAD-1' }, amount: cny(450000), at },
      as(org.users.lead!),
    );
    const over = await call('spending.check', { amount: cny(60000), at }, as(org.users.labber!));
    expect(over.allowed).toBe(false);
    expect(over.violations).toEqual([
      expect.objectContaining({
        kind: 'unit_period',
        limitId: ids.rd,
        subjectId: org.units.rd,
        mode: 'block',
        limit: cny(500000),
        wouldBe: cny(510000),
        period: expect.objectContaining({ kind: 'month', label: '2026-05', timeZone: 'Asia/Shanghai' }),
      }),
    ]);
    await expect(
      call('spending.check', { amount: cny(50000), at }, as(org.users.labber!)),
    ).resolves.toMatchObject({
      allowed: true,
      violations: [],
    });
    // Another month of the same quarter starts afresh for the monthly limit.
    await expect(
      call('spending.check', { amount: cny(60000), at: '2026-06-10T02:00:00Z' }, as(org.users.labber!)),
    ).resolves.toMatchObject({ allowed: true, violations: [] });
  });

  it("evaluates the cost centre's budget for the period containing `at`, and only that cost centre", async () => {
    // The lead's 4,500 carried no cost centre: only this 5,500 charged to RD-01 consumes the budget.
    await call(
      'spending.commit',
      { reference: { type: 'order', id: 'RD-ADMIN-1' }, amount: cny(550000), costCentre: 'RD-01', at },
      as(org.users.admin!),
    );
    const answer = await call(
      'spending.check',
      { amount: cny(56000), costCentre: 'rd-01', at: '2026-06-30T15:00:00Z' },
      as(org.users.labber!),
    );
    expect(answer.violations).toEqual([
      {
        kind: 'budget',
        budgetId: ids.budget,
        costCentre: 'RD-01',
        mode: 'block',
        limit: cny(600000),
        wouldBe: cny(606000),
        period: {
          kind: 'quarter',
          label: '2026-04-01..2026-06-30',
          start: '2026-03-31T16:00:00.000Z',
          end: '2026-06-30T16:00:00.000Z',
          timeZone: 'Asia/Shanghai',
        },
      },
    ]);
    // After the quarter (in Shanghai) the budget no longer applies.
    await expect(
      call(
        'spending.check',
        { amount: cny(56000), costCentre: 'RD-01', at: '2026-06-30T16:00:00Z' },
        as(org.users.labber!),
      ),
    ).resolves.toMatchObject({ allowed: true, violations: [] });
    await expect(
      call(
        'spending.check',
        { amount: cny(56000), costCentre: 'OTHER', at: '2026-06-30T15:00:00Z' },
        as(org.users.labber!),
      ),
    ).resolves.toMatchObject({ allowed: true, violations: [] });
  });

  it('reports every violated limit at once, user and ancestors, and blocks if any blocks', async () => {
    const answer = await call(
      'spending.check',
      { amount: cny(2100000), costCentre: 'RD-01', at },
      as(org.users.labber!),
    );
    assertMatchesSchema('api/spending/spending-check-response', answer);
    expect(answer.allowed).toBe(false);
    expect(
      answer.violations.map((v: { kind: string; mode: string }) => `${v.kind}/${v.mode}`).sort(),
    ).toEqual([
      'budget/block',
      'unit_period/block',
      'unit_period/warn',
      'user_order/block',
      'user_period/warn',
    ]);
  });

  it('is refused to principals that are not buyer users of the company', async () => {
    await expect(
      call(
        'spending.check',
        { amount: cny(1) },
        {
          meta: {
            auth: { kind: 'staff', principalId: org.users.admin!.id, companyId: null, permissions: ['*'] },
          },
        },
      ),
    ).rejects.toMatchObject({ code: 403 });
    await expect(call('spending.check', { amount: cny(1) }, {})).rejects.toMatchObject({ code: 401 });
  });
});

describe('warn versus block', () => {
  it('lets a warn-mode excess through with the violation reported and announced, blocks once switched to block', async () => {
    const monthly = await limit(user('warned'), 'month', 100000, 'warn');
    const first = await call(
      'spending.commit',
      { reference: { type: 'order', id: 'W-1' }, amount: cny(80000) },
      as(org.users.warned!),
    );
    expect(first).toMatchObject({ status: 'committed', violations: [], replayed: false });

    const second = await call(
      'spending.commit',
      { reference: { type: 'order', id: 'W-2' }, amount: cny(30000) },
      as(org.users.warned!),
    );
    assertMatchesSchema('api/spending/spending-entry-response', second);
    expect(second.status).toBe('committed');
    expect(second.violations).toEqual([
      expect.objectContaining({
        kind: 'user_period',
        limitId: monthly.id,
        mode: 'warn',
        wouldBe: cny(110000),
      }),
    ]);
    const events = await eventsFor('W-2');
    for (const event of events) assertMatchesSchema('events/spending-limit-exceeded', event.payload);
    expect(events).toEqual([
      {
        topic: 'spending.limit_exceeded',
        company_id: org.companyId,
        payload: expect.objectContaining({
          companyId: org.companyId,
          userId: org.users.warned!.id,
          blocked: false,
          amount: cny(30000),
          reference: { type: 'order', id: 'W-2' },
          violation: expect.objectContaining({ limitId: monthly.id, mode: 'warn' }),
        }),
      },
    ]);
    expect(await eventsFor('W-1')).toEqual([]);

    await call('spending.limits.update', { id: monthly.id, mode: 'block' }, admin());
    const check = await call('spending.check', { amount: cny(1) }, as(org.users.warned!));
    expect(check).toMatchObject({
      allowed: false,
      violations: [expect.objectContaining({ mode: 'block', wouldBe: cny(110001) })],
    });
  });

  it('refuses a blocked commit with 422, writes no entry, and announces it', async () => {
    const perOrder = await limit(user('capped'), 'order', 10000, 'block');
    await expect(
      call(
        'spending.commit',
        { reference: { type: 'order', id: 'CAP-1' }, amount: cny(20000) },
        as(org.users.capped!),
      ),
    ).rejects.toMatchObject({
      code: 422,
      type: 'spending-limit-exceeded',
      data: {
        violations: [expect.objectContaining({ kind: 'user_order', limitId: perOrder.id, mode: 'block' })],
      },
    });
    expect(await query(`SELECT id FROM spending.entries WHERE reference_id = 'CAP-1'`)).toEqual([]);
    const events = await eventsFor('CAP-1');
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ blocked: true, violation: { limitId: perOrder.id } });
  });
});

describe('currencies', () => {
  it('never sums or blocks across currencies, and says which limits it ignored', async () => {
    const perOrder = await limit(user('fx'), 'order', 180000, 'block');
    const monthly = await limit(user('fx'), 'month', 200000, 'block');
    const eur = { amountMinor: '500000', currency: 'EUR' };

    const check = await call('spending.check', { amount: eur }, as(org.users.fx!));
    assertMatchesSchema('api/spending/spending-check-response', check);
    expect(check.allowed).toBe(true);
    expect(check.violations).toEqual([]);
    expect(check.ignored).toEqual(
      expect.arrayContaining([
        { limitId: perOrder.id, reason: 'currency_mismatch', currency: 'CNY' },
        { limitId: monthly.id, reason: 'currency_mismatch', currency: 'CNY' },
      ]),
    );
    await call(
      'spending.commit',
      { reference: { type: 'order', id: 'FX-EUR' }, amount: eur },
      as(org.users.fx!),
    );
    const read = await call('spending.limits.get', { id: monthly.id }, admin());
    expect(read.currentPeriod.consumed).toEqual(cny(0));

    await call(
      'spending.commit',
      { reference: { type: 'order', id: 'FX-CNY' }, amount: cny(150000) },
      as(org.users.fx!),
    );
    const over = await call('spending.check', { amount: cny(60000) }, as(org.users.fx!));
    // 1,500 + 600 CNY; the 5,000 EUR are not added.
    expect(over.violations).toEqual([expect.objectContaining({ limitId: monthly.id, wouldBe: cny(210000) })]);
    expect((await call('spending.limits.get', { id: monthly.id }, admin())).currentPeriod).toMatchObject({
      consumed: cny(150000),
      remaining: cny(50000),
    });
  });
});

describe('periods in the limit time zone', () => {
  it('counts 2026-03-31T16:30Z in April for a Shanghai monthly limit', async () => {
    await limit(user('tz'), 'month', 100000, 'block', { timeZone: 'Asia/Shanghai' });
    await call(
      'spending.commit',
      { reference: { type: 'order', id: 'TZ-1' }, amount: cny(80000), at: '2026-03-31T16:30:00Z' },
      as(org.users.tz!),
    );
    await expect(
      call('spending.check', { amount: cny(30000), at: '2026-03-31T15:59:59Z' }, as(org.users.tz!)),
    ).resolves.toMatchObject({ allowed: true });
    await expect(
      call('spending.check', { amount: cny(30000), at: '2026-04-30T15:59:59Z' }, as(org.users.tz!)),
    ).resolves.toMatchObject({
      allowed: false,
      violations: [
        expect.objectContaining({
          wouldBe: cny(110000),
          period: expect.objectContaining({ label: '2026-04' }),
        }),
      ],
    });
    await expect(
      call('spending.check', { amount: cny(30000), at: '2026-04-30T16:00:00Z' }, as(org.users.tz!)),
    ).resolves.toMatchObject({ allowed: true });
  });
});

describe('commit, settle and release', () => {
  const ref = (id: string) => ({ type: 'order', id });
  const june = '2026-06-10T04:00:00Z';
  let budgetId: string;
  const consumption = async () => (await call('spending.budgets.get', { id: budgetId }, admin())).consumption;

  beforeAll(async () => {
    budgetId = (
      await call(
        'spending.budgets.create',
        {
          costCentre: 'OPS-1',
          period: 'month',
          periodStart: '2026-06-01',
          amount: cny(100000),
          mode: 'warn',
        },
        admin(),
      )
    ).id;
  });

  it('commits once per reference: a retry answers the first result and counts nothing twice', async () => {
    const params = { reference: ref('L-1'), amount: cny(60000), costCentre: 'ops-1', at: june };
    const first = await call('spending.commit', params, as(org.users.ledger!));
    expect(first).toEqual({
      reference: ref('L-1'),
      status: 'committed',
      amount: cny(60000),
      costCentre: 'OPS-1',
      at: '2026-06-10T04:00:00.000Z',
      violations: [],
      replayed: false,
    });
    await expect(call('spending.commit', params, as(org.users.ledger!))).resolves.toEqual({
      ...first,
      replayed: true,
    });
    // Without `at` a retry still matches (the first commit's time stands).
    const { at: _at, ...withoutAt } = params;
    await expect(call('spending.commit', withoutAt, as(org.users.ledger!))).resolves.toMatchObject({
      replayed: true,
    });
    await expect(
      call('spending.commit', { ...params, amount: cny(70000) }, as(org.users.ledger!)),
    ).rejects.toMatchObject({ code: 409 });
    expect(await query(`SELECT kind FROM spending.entries WHERE reference_id = 'L-1'`)).toEqual([
      { kind: 'commit' },
    ]);
    expect(await consumption()).toMatchObject({
      committed: cny(60000),
      spent: cny(0),
      remaining: cny(40000),
      consumedPercent: 60,
    });
  });

  it('announces the 80 % and 100 % budget thresholds when a commit crosses them', async () => {
    await call(
      'spending.commit',
      { reference: ref('L-2'), amount: cny(25000), costCentre: 'OPS-1', at: june },
      as(org.users.ledger!),
    );
    const crossed80 = await eventsFor('L-2');
    for (const event of crossed80) assertMatchesSchema('events/budget-threshold-reached', event.payload);
    expect(crossed80).toEqual([
      {
        topic: 'budget.threshold_reached',
        company_id: org.companyId,
        payload: expect.objectContaining({
          budgetId,
          costCentre: 'OPS-1',
          threshold: 80,
          amount: cny(100000),
          consumed: cny(85000),
        }),
      },
    ]);
    expect(await eventsFor('L-1')).toEqual([]);

    const over = await call(
      'spending.commit',
      { reference: ref('L-3'), amount: cny(20000), costCentre: 'OPS-1', at: june },
      as(org.users.ledger!),
    );
    expect(over.violations).toEqual([
      expect.objectContaining({ kind: 'budget', budgetId, mode: 'warn', wouldBe: cny(105000) }),
    ]);
    const topics = (await eventsFor('L-3')).map((row) => [
      row.topic,
      row.payload.threshold ?? row.payload.violation.kind,
    ]);
    expect(topics).toEqual([
      ['spending.limit_exceeded', 'budget'],
      ['budget.threshold_reached', 100],
    ]);
  });

  it('settles (committed becomes spent) and releases (a reversing entry), each once', async () => {
    expect(await consumption()).toMatchObject({
      committed: cny(105000),
      spent: cny(0),
      remaining: cny(-5000),
      consumedPercent: 105,
    });
    await expect(
      call('spending.settle', { reference: ref('L-1') }, as(org.users.ledger!)),
    ).resolves.toMatchObject({
      status: 'settled',
      replayed: false,
    });
    await expect(
      call('spending.settle', { reference: ref('L-1') }, as(org.users.ledger!)),
    ).resolves.toMatchObject({
      status: 'settled',
      replayed: true,
    });
    expect(await consumption()).toMatchObject({ committed: cny(45000), spent: cny(60000) });

    // A settled purchase cancelled later (a return): taken out of spent.
    await expect(call('spending.release', { reference: ref('L-1') }, admin())).resolves.toMatchObject({
      status: 'released',
      replayed: false,
    });
    await expect(call('spending.release', { reference: ref('L-1') }, admin())).resolves.toMatchObject({
      replayed: true,
    });
    expect(await consumption()).toMatchObject({
      committed: cny(45000),
      spent: cny(0),
      remaining: cny(55000),
    });

    // An open commitment released: taken out of committed.
    await call('spending.release', { reference: ref('L-3') }, as(org.users.ledger!));
    expect(await consumption()).toMatchObject({
      committed: cny(25000),
      spent: cny(0),
      remaining: cny(75000),
    });

    const rows = await query(
      `SELECT kind, committed_minor::text AS committed, spent_minor::text AS spent, occurred_at
         FROM spending.entries WHERE reference_id = 'L-1' ORDER BY id`,
    );
    expect(rows.map((row) => [row.kind, row.committed, row.spent])).toEqual([
      ['commit', '60000', '0'],
      ['settle', '-60000', '60000'],
      ['release', '0', '-60000'],
    ]);
    // Corrections land in the purchase's own period.
    for (const row of rows) expect(new Date(row.occurred_at).toISOString()).toBe('2026-06-10T04:00:00.000Z');

    // Retrying the original commit after the release changes nothing and says where it stands.
    await expect(
      call(
        'spending.commit',
        { reference: ref('L-1'), amount: cny(60000), costCentre: 'OPS-1' },
        as(org.users.ledger!),
      ),
    ).resolves.toMatchObject({ status: 'released', replayed: true });
    await expect(
      call('spending.settle', { reference: ref('L-3') }, as(org.users.ledger!)),
    ).rejects.toMatchObject({ code: 409 });
    await expect(
      call('spending.release', { reference: ref('NEVER') }, as(org.users.ledger!)),
    ).rejects.toMatchObject({ code: 404 });
  });

  it('keeps the ledger append-only', async () => {
    await expect(query(`UPDATE spending.entries SET amount_minor = 1`)).rejects.toThrow(/append-only/);
    await expect(query(`DELETE FROM spending.entries`)).rejects.toThrow(/append-only/);
    await expect(query(`TRUNCATE spending.entries`)).rejects.toThrow(/append-only/);
  });

  it('commits an 18-digit amount exactly; only the warn-mode company limit speaks up', async () => {
    const answer = await call(
      'spending.commit',
      { reference: ref('BIG-1'), amount: cny('999999999999999999'), at: '2026-08-01T00:00:00Z' },
      as(org.users.unlimited!),
    );
    expect(answer).toMatchObject({ status: 'committed', amount: cny('999999999999999999') });
    expect(answer.violations).toEqual([
      expect.objectContaining({
        kind: 'unit_period',
        subjectId: org.units.root,
        mode: 'warn',
        wouldBe: cny('999999999999999999'),
      }),
    ]);
  });
});
