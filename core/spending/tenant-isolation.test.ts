import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import { spendingModule } from './spending.module.ts';
import {
  asBuyer,
  cny,
  createOrg,
  type Org,
  type SpendingHub,
  startSpendingHub,
} from './testing/spending-hub.ts';

/**
 * Company B's buyer, holding every permission there is, aims at company A's limits, budgets, users,
 * units and purchases through every route of the domain (and its internal actions): every attempt
 * is "not found", lists never show A's items, and A's data is unchanged afterwards.
 */
let hub: SpendingHub;
let broker: moleculer.ServiceBroker;
let a: Org;
let b: Org;
let aLimit: { id: string };
let aBudget: { id: string };

// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;
const call = (action: string, params: object, options: object) =>
  broker.call(action, params, options) as Promise<Any>;
const aAdmin = () =>
  asBuyer(a.users.admin!, ['spending.manage@company', 'spending.read@company', 'company.read@company']);
const intruder = () => asBuyer(b.users.admin!, ['*']);

beforeAll(async () => {
  hub = await startSpendingHub();
  broker = hub.broker;
  a = await createOrg(broker, 'Alpha', { dept: 'root' }, { admin: 'root', buyer: 'dept' });
  b = await createOrg(broker, 'Beta', {}, { admin: 'root' });
  aLimit = await call(
    'spending.limits.create',
    { subject: { type: 'user', id: a.users.buyer!.id }, per: 'order', amount: cny(1000), mode: 'block' },
    aAdmin(),
  );
  await call(
    'spending.limits.create',
    { subject: { type: 'unit', id: a.units.dept! }, per: 'month', amount: cny(5000), mode: 'warn' },
    aAdmin(),
  );
  aBudget = await call(
    'spending.budgets.create',
    {
      costCentre: 'RD-01',
      period: 'year',
      periodStart: '2026-01-01',
      amount: cny(9000),
      mode: 'block',
      unitId: a.units.dept!,
    },
    aAdmin(),
  );
  await call(
    'spending.commit',
    {
      reference: { type: 'order', id: 'A-1' },
      amount: cny(800),
      costCentre: 'RD-01',
      at: '2026-05-01T00:00:00Z',
    },
    asBuyer(a.users.buyer!, []),
  );
}, 60_000);

afterAll(async () => {
  await hub?.stop();
});

async function aIsUntouched() {
  await expect(call('spending.limits.get', { id: aLimit.id }, aAdmin())).resolves.toMatchObject({
    amount: cny(1000),
    mode: 'block',
  });
  const budget = await call('spending.budgets.get', { id: aBudget.id }, aAdmin());
  expect(budget).toMatchObject({ amount: cny(9000), mode: 'block' });
  expect(budget.consumption.committed).toEqual(cny(800));
}

const notFound = { code: 404 };

/** One attack per route, keyed by operationId: the test below fails for a route without one. */
const attacks: Record<string, () => Promise<void>> = {
  async listSpendingLimits() {
    const all = await call('spending.limits.list', { limit: 200 }, intruder());
    expect(all.items).toEqual([]);
    const filtered = await call('spending.limits.list', { subjectId: a.users.buyer!.id }, intruder());
    expect(filtered.items).toEqual([]);
  },
  async createSpendingLimit() {
    for (const subject of [
      { type: 'user', id: a.users.buyer!.id },
      { type: 'unit', id: a.units.dept! },
    ]) {
      await expect(
        call('spending.limits.create', { subject, per: 'order', amount: cny(1), mode: 'warn' }, intruder()),
      ).rejects.toMatchObject(notFound);
    }
  },
  async getSpendingLimit() {
    await expect(call('spending.limits.get', { id: aLimit.id }, intruder())).rejects.toMatchObject(notFound);
  },
  async updateSpendingLimit() {
    await expect(
      call('spending.limits.update', { id: aLimit.id, amount: cny(999999), mode: 'warn' }, intruder()),
    ).rejects.toMatchObject(notFound);
  },
  async deleteSpendingLimit() {
    await expect(call('spending.limits.delete', { id: aLimit.id }, intruder())).rejects.toMatchObject(
      notFound,
    );
  },
  async listBudgets() {
    expect((await call('spending.budgets.list', {}, intruder())).items).toEqual([]);
    expect((await call('spending.budgets.list', { costCentre: 'RD-01' }, intruder())).items).toEqual([]);
  },
  async createBudget() {
    await expect(
      call(
        'spending.budgets.create',
        {
          costCentre: 'RD-01',
          period: 'year',
          periodStart: '2026-01-01',
          amount: cny(1),
          mode: 'warn',
          unitId: a.units.dept!,
        },
        intruder(),
      ),
    ).rejects.toMatchObject(notFound);
    // The same cost centre and period in B is B's own budget: no conflict with A's, nothing of A's counted.
    const own = await call(
      'spending.budgets.create',
      { costCentre: 'RD-01', period: 'year', periodStart: '2026-01-01', amount: cny(1), mode: 'warn' },
      intruder(),
    );
    expect(own.companyId).toBe(b.companyId);
    expect((await call('spending.budgets.get', { id: own.id }, intruder())).consumption.committed).toEqual(
      cny(0),
    );
    await call('spending.budgets.delete', { id: own.id }, intruder());
  },
  async getBudget() {
    await expect(call('spending.budgets.get', { id: aBudget.id }, intruder())).rejects.toMatchObject(
      notFound,
    );
  },
  async updateBudget() {
    await expect(
      call('spending.budgets.update', { id: aBudget.id, amount: cny(1) }, intruder()),
    ).rejects.toMatchObject(notFound);
  },
  async deleteBudget() {
    await expect(call('spending.budgets.delete', { id: aBudget.id }, intruder())).rejects.toMatchObject(
      notFound,
    );
  },
  async listCompanySpendingLimits() {
    await expect(
      call('spending.staff.limits.list', { companyId: a.companyId }, intruder()),
    ).rejects.toMatchObject(notFound);
  },
  async getCompanySpendingLimit() {
    await expect(
      call('spending.staff.limits.get', { companyId: a.companyId, id: aLimit.id }, intruder()),
    ).rejects.toMatchObject(notFound);
  },
  async listCompanyBudgets() {
    await expect(
      call('spending.staff.budgets.list', { companyId: a.companyId }, intruder()),
    ).rejects.toMatchObject(notFound);
  },
  async getCompanyBudget() {
    await expect(
      call('spending.staff.budgets.get', { companyId: a.companyId, id: aBudget.id }, intruder()),
    ).rejects.toMatchObject(notFound);
  },
};

describe("tenant isolation: company B's buyer against company A", () => {
  it('has an attack for every route of the module', () => {
    expect(Object.keys(attacks).sort()).toEqual(
      spendingModule.routes!.map((route) => route.operationId).sort(),
    );
  });

  for (const route of spendingModule.routes ?? []) {
    it(`${route.method} ${route.path} (${route.operationId}) gives B nothing of A's`, async () => {
      await attacks[route.operationId]!();
      await aIsUntouched();
    });
  }

  it("internal actions: B's purchases never meet A's limits, budgets or references", async () => {
    // A's per-order limit of 10.00 would block this; B has none.
    await expect(
      call(
        'spending.check',
        { amount: cny(5000), costCentre: 'RD-01', at: '2026-05-02T00:00:00Z' },
        intruder(),
      ),
    ).resolves.toEqual({ allowed: true, violations: [], ignored: [] });
    // The same reference in B is B's own purchase, not a replay of A's.
    const own = await call(
      'spending.commit',
      {
        reference: { type: 'order', id: 'A-1' },
        amount: cny(5000),
        costCentre: 'RD-01',
        at: '2026-05-02T00:00:00Z',
      },
      intruder(),
    );
    expect(own).toMatchObject({ replayed: false, amount: cny(5000) });
    await expect(
      call('spending.release', { reference: { type: 'order', id: 'A-1' } }, intruder()),
    ).resolves.toMatchObject({
      amount: cny(5000),
      status: 'released',
    });
    // A's own purchase A-1 is still committed, and a reference only A has is not found from B.
    await call(
      'spending.commit',
      { reference: { type: 'order', id: 'A-2' }, amount: cny(1), at: '2026-05-03T00:00:00Z' },
      asBuyer(a.users.buyer!, []),
    );
    await expect(
      call('spending.release', { reference: { type: 'order', id: 'A-2' } }, intruder()),
    ).rejects.toMatchObject(notFound);
    await expect(
      call('spending.settle', { reference: { type: 'order', id: 'A-2' } }, intruder()),
    ).rejects.toMatchObject(notFound);
    await aIsUntouched();
    const { rows } = await hub.test.hub.platform.db.query(
      `SELECT company_id, kind FROM spending.entries WHERE reference_id = 'A-1' ORDER BY id`,
    );
    expect(rows).toEqual([
      { company_id: a.companyId, kind: 'commit' },
      { company_id: b.companyId, kind: 'commit' },
      { company_id: b.companyId, kind: 'release' },
    ]);
  });
});
