import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import {
  asBuyer,
  asStaff,
  assertMatchesSchema,
  cny,
  createOrg,
  type Org,
  type SpendingHub,
  startSpendingHub,
} from './testing/spending-hub.ts';

const ADMIN = ['spending.manage@company', 'spending.read@company', 'company.read@company'];
const LEAD = ['spending.manage@unit_tree', 'spending.read@unit_tree', 'company.read@company'];
const PURCHASER = ['spending.read@own', 'company.read@company'];

let hub: SpendingHub;
let broker: moleculer.ServiceBroker;
let org: Org;
let other: Org;

// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;

const call = (action: string, params: object, options: object) =>
  broker.call(action, params, options) as Promise<Any>;

beforeAll(async () => {
  hub = await startSpendingHub();
  broker = hub.broker;
  org = await createOrg(
    broker,
    'Acme',
    { rd: 'root', lab: 'rd', sales: 'root' },
    { admin: 'root', lead: 'rd', labber: 'lab', rdPeer: 'rd', seller: 'sales' },
  );
  other = await createOrg(broker, 'Globex', {}, { adminB: 'root' });
}, 60_000);

afterAll(async () => {
  await hub?.stop();
});

const admin = () => asBuyer(org.users.admin!, ADMIN);
const lead = () => asBuyer(org.users.lead!, LEAD);

async function auditOf(entityId: string) {
  const { rows } = await hub.test.hub.platform.db.query(
    'SELECT actor_id, company_id, action, details FROM platform.audit_log WHERE entity_id = $1 ORDER BY id',
    [entityId],
  );
  return rows;
}

describe('spending limits CRUD', () => {
  it('creates, reads, changes and deletes a limit, auditing every change', async () => {
    const created = await call(
      'spending.limits.create',
      {
        subject: { type: 'user', id: org.users.seller!.id },
        per: 'month',
        amount: cny(500000),
        mode: 'block',
      },
      admin(),
    );
    expect(created).toMatchObject({
      companyId: org.companyId,
      subject: { type: 'user', id: org.users.seller!.id },
      per: 'month',
      amount: { amountMinor: '500000', currency: 'CNY' },
      mode: 'block',
      timeZone: 'Asia/Shanghai',
    });

    assertMatchesSchema('entities/spending-limit', created);
    const read = await call('spending.limits.get', { id: created.id }, admin());
    assertMatchesSchema('entities/spending-limit', read);
    assertMatchesSchema(
      'api/spending/spending-limit-list-response',
      await call('spending.limits.list', {}, admin()),
    );
    expect(read.currentPeriod).toMatchObject({
      period: { kind: 'month', timeZone: 'Asia/Shanghai' },
      consumed: cny(0),
      remaining: cny(500000),
    });

    const changed = await call(
      'spending.limits.update',
      { id: created.id, amount: { amountMinor: '700000', currency: 'CNY' }, mode: 'warn' },
      admin(),
    );
    expect(changed).toMatchObject({ amount: cny(700000), mode: 'warn' });

    await expect(call('spending.limits.delete', { id: created.id }, admin())).resolves.toBeNull();
    await expect(call('spending.limits.get', { id: created.id }, admin())).rejects.toMatchObject({
      code: 404,
    });

    const audit = await auditOf(created.id);
    expect(audit.map((row) => row.action)).toEqual([
      'spending_limit.created',
      'spending_limit.updated',
      'spending_limit.deleted',
    ]);
    for (const row of audit)
      expect(row).toMatchObject({ actor_id: org.users.admin!.id, company_id: org.companyId });
    expect(audit[1]!.details).toEqual({
      before: { amount: cny(500000), mode: 'block', timeZone: 'Asia/Shanghai' },
      after: { amount: cny(700000), mode: 'warn', timeZone: 'Asia/Shanghai' },
    });
  });

  it('refuses a second limit of the same window and currency on one subject, but not another currency', async () => {
    const subject = { type: 'unit', id: org.units.sales! };
    await call(
      'spending.limits.create',
      { subject, per: 'quarter', amount: cny(100), mode: 'warn' },
      admin(),
    );
    await expect(
      call('spending.limits.create', { subject, per: 'quarter', amount: cny(200), mode: 'block' }, admin()),
    ).rejects.toMatchObject({ code: 409 });
    await expect(
      call(
        'spending.limits.create',
        { subject, per: 'quarter', amount: { amountMinor: '200', currency: 'USD' }, mode: 'block' },
        admin(),
      ),
    ).resolves.toMatchObject({ amount: { currency: 'USD' } });
  });

  it('validates amounts, time zones and subjects', async () => {
    const subject = { type: 'user', id: org.users.rdPeer!.id };
    await expect(
      call('spending.limits.create', { subject, per: 'month', amount: cny('-5'), mode: 'block' }, admin()),
    ).rejects.toMatchObject({ code: 400 });
    await expect(
      call(
        'spending.limits.create',
        { subject, per: 'month', amount: { amountMinor: '1.5', currency: 'CNY' }, mode: 'block' },
        admin(),
      ),
    ).rejects.toMatchObject({ code: 400 });
    await expect(
      call('spending.limits.create', { subject, per: 'week', amount: cny(1), mode: 'block' }, admin()),
    ).rejects.toMatchObject({ code: 400 });
    await expect(
      call(
        'spending.limits.create',
        { subject, per: 'month', amount: cny(1), mode: 'block', timeZone: 'Mars/Base' },
        admin(),
      ),
    ).rejects.toMatchObject({ code: 400, data: { errors: [{ pointer: '/timeZone' }] } });
    // A user id that is no user of the company (here: the unit id) is not found.
    await expect(
      call(
        'spending.limits.create',
        { subject: { type: 'user', id: org.units.rd! }, per: 'order', amount: cny(1), mode: 'block' },
        admin(),
      ),
    ).rejects.toMatchObject({ code: 404 });
  });

  it('needs spending.manage to change and spending.read to list', async () => {
    const purchaser = asBuyer(org.users.labber!, PURCHASER);
    await expect(
      call(
        'spending.limits.create',
        { subject: { type: 'user', id: org.users.labber!.id }, per: 'order', amount: cny(1), mode: 'block' },
        purchaser,
      ),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      call('spending.limits.list', {}, asBuyer(org.users.labber!, ['company.read@company'])),
    ).rejects.toMatchObject({
      code: 403,
    });
  });
});

describe('spending.manage@unit_tree', () => {
  const limitOn = (subject: { type: string; id: string }, per = 'order') =>
    call('spending.limits.create', { subject, per, amount: cny(1000), mode: 'block' }, admin());

  it('manages limits of units in the own subtree and of users placed there, never its own', async () => {
    const rd = await call(
      'spending.limits.create',
      { subject: { type: 'unit', id: org.units.rd! }, per: 'month', amount: cny(1), mode: 'warn' },
      lead(),
    );
    const lab = await call(
      'spending.limits.create',
      { subject: { type: 'unit', id: org.units.lab! }, per: 'month', amount: cny(1), mode: 'warn' },
      lead(),
    );
    const labber = await call(
      'spending.limits.create',
      { subject: { type: 'user', id: org.users.labber!.id }, per: 'month', amount: cny(1), mode: 'warn' },
      lead(),
    );
    const peer = await call(
      'spending.limits.create',
      { subject: { type: 'user', id: org.users.rdPeer!.id }, per: 'order', amount: cny(1), mode: 'warn' },
      lead(),
    );
    for (const limit of [rd, lab, labber, peer]) expect(limit.companyId).toBe(org.companyId);
    await expect(
      call('spending.limits.update', { id: lab.id, amount: cny(2) }, lead()),
    ).resolves.toMatchObject({ amount: cny(2) });
    await expect(call('spending.limits.delete', { id: peer.id }, lead())).resolves.toBeNull();

    for (const subject of [
      { type: 'unit', id: org.units.sales! },
      { type: 'unit', id: org.units.root! },
      { type: 'user', id: org.users.seller!.id },
      { type: 'user', id: org.users.admin!.id },
      { type: 'user', id: org.users.lead!.id },
    ]) {
      await expect(
        call('spending.limits.create', { subject, per: 'quarter', amount: cny(1), mode: 'warn' }, lead()),
      ).rejects.toMatchObject({ code: 403 });
    }
  });

  it('sees limits in its subtree and those applying to itself; others are not found', async () => {
    const sales = await limitOn({ type: 'unit', id: org.units.sales! });
    const seller = await limitOn({ type: 'user', id: org.users.seller!.id });
    const root = await limitOn({ type: 'unit', id: org.units.root! });
    const own = await limitOn({ type: 'user', id: org.users.lead!.id });
    const labber = await limitOn({ type: 'user', id: org.users.labber!.id });

    const { items } = await call('spending.limits.list', { limit: 200 }, lead());
    const seen = items.map((limit: { id: string }) => limit.id);
    expect(seen).toEqual(expect.arrayContaining([root.id, own.id, labber.id]));
    expect(seen).not.toContain(sales.id);
    expect(seen).not.toContain(seller.id);

    await expect(call('spending.limits.get', { id: sales.id }, lead())).rejects.toMatchObject({ code: 404 });
    await expect(call('spending.limits.delete', { id: seller.id }, lead())).rejects.toMatchObject({
      code: 404,
    });
    // Seen (it applies to them) but not theirs to change.
    await expect(call('spending.limits.get', { id: root.id }, lead())).resolves.toMatchObject({
      id: root.id,
    });
    await expect(call('spending.limits.update', { id: root.id, mode: 'warn' }, lead())).rejects.toMatchObject(
      { code: 403 },
    );
    await expect(call('spending.limits.update', { id: own.id, mode: 'warn' }, lead())).rejects.toMatchObject({
      code: 403,
    });
    await expect(call('spending.limits.get', { id: labber.id }, lead())).resolves.toMatchObject({
      id: labber.id,
    });
  });

  it('reading at company scope does not widen managing', async () => {
    const sales = await limitOn({ type: 'unit', id: org.units.sales! }, 'month');
    const wide = asBuyer(org.users.lead!, [
      'spending.manage@unit_tree',
      'spending.read@company',
      'company.read@company',
    ]);
    await expect(call('spending.limits.get', { id: sales.id }, wide)).resolves.toMatchObject({
      id: sales.id,
    });
    await expect(call('spending.limits.update', { id: sales.id, mode: 'warn' }, wide)).rejects.toMatchObject({
      code: 403,
    });
  });

  it('managing without spending.read still sees what it manages, its own unit included', async () => {
    const manageOnly = asBuyer(org.users.lead!, ['spending.manage@unit_tree', 'company.read@company']);
    const rdLimit = await limitOn({ type: 'unit', id: org.units.rd! }, 'order');
    const salesLimit = await call(
      'spending.limits.create',
      {
        subject: { type: 'unit', id: org.units.sales! },
        per: 'order',
        amount: { amountMinor: '1', currency: 'EUR' },
        mode: 'warn',
      },
      admin(),
    );
    await expect(call('spending.limits.get', { id: rdLimit.id }, manageOnly)).resolves.toMatchObject({
      id: rdLimit.id,
    });
    await expect(call('spending.limits.get', { id: salesLimit.id }, manageOnly)).rejects.toMatchObject({
      code: 404,
    });
  });

  it('a purchaser (spending.read@own) sees only the limits that apply to them', async () => {
    const { items } = await call(
      'spending.limits.list',
      { limit: 200 },
      asBuyer(org.users.labber!, PURCHASER),
    );
    expect(items.length).toBeGreaterThan(0);
    const onPath = [org.units.root, org.units.rd, org.units.lab];
    for (const limit of items) {
      const applies =
        (limit.subject.type === 'user' && limit.subject.id === org.users.labber!.id) ||
        (limit.subject.type === 'unit' && onPath.includes(limit.subject.id));
      expect(applies).toBe(true);
    }
  });

  it('manages budgets owned by units of its subtree only; company-wide budgets need company scope', async () => {
    const budget = { period: 'month', periodStart: '2026-05-01', amount: cny(100000), mode: 'warn' };
    const labBudget = await call(
      'spending.budgets.create',
      { ...budget, costCentre: 'lab-1', unitId: org.units.lab! },
      lead(),
    );
    expect(labBudget).toMatchObject({ costCentre: 'LAB-1', unitId: org.units.lab });
    await expect(
      call('spending.budgets.create', { ...budget, costCentre: 'SALES-1', unitId: org.units.sales! }, lead()),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      call('spending.budgets.create', { ...budget, costCentre: 'HQ-1' }, lead()),
    ).rejects.toMatchObject({
      code: 403,
    });
    const hq = await call('spending.budgets.create', { ...budget, costCentre: 'HQ-1' }, admin());
    await expect(call('spending.budgets.get', { id: hq.id }, lead())).rejects.toMatchObject({ code: 404 });
    await expect(
      call('spending.budgets.update', { id: labBudget.id, mode: 'block' }, lead()),
    ).resolves.toMatchObject({
      mode: 'block',
    });
    const { items } = await call('spending.budgets.list', {}, lead());
    expect(items.map((item: { id: string }) => item.id)).toEqual([labBudget.id]);
  });
});

describe('budgets CRUD', () => {
  it('creates a fiscal-year budget, lists it by cost centre and activity, audits changes', async () => {
    const created = await call(
      'spending.budgets.create',
      {
        costCentre: 'RD-01',
        period: 'year',
        periodStart: '2026-04-01',
        amount: cny(100000000),
        mode: 'block',
      },
      admin(),
    );
    expect(created).toMatchObject({
      costCentre: 'RD-01',
      period: 'year',
      periodStart: '2026-04-01',
      periodEnd: '2027-04-01',
      startsAt: '2026-03-31T16:00:00.000Z',
      endsAt: '2027-03-31T16:00:00.000Z',
      unitId: null,
    });
    await expect(
      call(
        'spending.budgets.create',
        { costCentre: 'rd-01', period: 'year', periodStart: '2026-04-01', amount: cny(1), mode: 'warn' },
        admin(),
      ),
    ).rejects.toMatchObject({ code: 409 });
    await expect(
      call(
        'spending.budgets.create',
        { costCentre: 'RD-01', period: 'month', periodStart: '2026-04-15', amount: cny(1), mode: 'warn' },
        admin(),
      ),
    ).rejects.toMatchObject({ code: 400 });

    const active = await call(
      'spending.budgets.list',
      { costCentre: 'rd-01', activeAt: '2027-03-31T15:59:59Z' },
      admin(),
    );
    expect(active.items.map((item: { id: string }) => item.id)).toEqual([created.id]);
    const after = await call(
      'spending.budgets.list',
      { costCentre: 'RD-01', activeAt: '2027-03-31T16:00:00Z' },
      admin(),
    );
    expect(after.items).toEqual([]);

    assertMatchesSchema('entities/spending-budget', created);
    assertMatchesSchema('api/spending/budget-list-response', active);
    const view = await call('spending.budgets.get', { id: created.id }, admin());
    assertMatchesSchema('entities/spending-budget', view);
    expect(view.consumption).toEqual({
      spent: cny(0),
      committed: cny(0),
      remaining: cny(100000000),
      consumedPercent: 0,
    });

    await call('spending.budgets.update', { id: created.id, amount: cny(90000000) }, admin());
    await call('spending.budgets.delete', { id: created.id }, admin());
    expect((await auditOf(created.id)).map((row) => row.action)).toEqual([
      'budget.created',
      'budget.updated',
      'budget.deleted',
    ]);
  });

  it('pages with a keyset cursor and refuses a cursor it did not hand out', async () => {
    for (const code of ['PG-1', 'PG-2', 'PG-3']) {
      await call(
        'spending.budgets.create',
        { costCentre: code, period: 'month', periodStart: '2026-01-01', amount: cny(1), mode: 'warn' },
        admin(),
      );
    }
    const first = await call('spending.budgets.list', { limit: 2 }, admin());
    expect(first.items).toHaveLength(2);
    const second = await call('spending.budgets.list', { limit: 2, cursor: first.nextCursor }, admin());
    expect(second.items.map((b: { id: string }) => b.id)).not.toContain(first.items[0].id);
    await expect(call('spending.budgets.list', { cursor: 'nope' }, admin())).rejects.toMatchObject({
      code: 400,
    });
  });
});

describe('staff', () => {
  it('staff with companies.manage read any company; without it they are refused', async () => {
    const limit = await call(
      'spending.limits.create',
      { subject: { type: 'user', id: org.users.admin!.id }, per: 'order', amount: cny(9), mode: 'warn' },
      admin(),
    );
    const staff = asStaff(['companies.manage']);
    const { items } = await call(
      'spending.staff.limits.list',
      { companyId: org.companyId, limit: 200 },
      staff,
    );
    expect(items.map((item: { id: string }) => item.id)).toContain(limit.id);
    await expect(
      call('spending.staff.limits.get', { companyId: org.companyId, id: limit.id }, staff),
    ).resolves.toMatchObject({
      id: limit.id,
    });
    // The id of one company under another company's path is not found.
    await expect(
      call('spending.staff.limits.get', { companyId: other.companyId, id: limit.id }, staff),
    ).rejects.toMatchObject({ code: 404 });
    await expect(
      call('spending.staff.limits.list', { companyId: org.companyId }, asStaff(['companies.read'])),
    ).rejects.toMatchObject({ code: 403 });
  });
});
