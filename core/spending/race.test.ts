import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import {
  asBuyer,
  cny,
  createOrg,
  type Org,
  type SpendingHub,
  startSpendingHub,
} from './testing/spending-hub.ts';

const ADMIN = ['spending.manage@company', 'spending.read@company', 'company.read@company'];
const PURCHASER = ['spending.read@own', 'company.read@company'];
const RACERS = 20;

let hub: SpendingHub;
let broker: moleculer.ServiceBroker;
let org: Org;

// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;
const call = (action: string, params: object, options: object) =>
  broker.call(action, params, options) as Promise<Any>;
const admin = () => asBuyer(org.users.admin!, ADMIN);

beforeAll(async () => {
  hub = await startSpendingHub();
  broker = hub.broker;
  const people: Record<string, string> = { admin: 'root', solo: 'team' };
  for (let i = 0; i < RACERS; i++) people[`racer${i}`] = i % 2 ? 'team' : 'squad';
  org = await createOrg(broker, 'Racers', { team: 'root', squad: 'team' }, people);
}, 60_000);

afterAll(async () => {
  await hub?.stop();
});

async function committedFor(prefix: string): Promise<bigint> {
  const { rows } = await hub.test.hub.platform.db.query(
    `SELECT COALESCE(SUM(committed_minor + spent_minor), 0)::text AS total FROM spending.entries WHERE reference_id LIKE $1`,
    [`${prefix}%`],
  );
  return BigInt(rows[0]!.total);
}

/** Fires all commits at once; answers how many went through and how many were refused by the limit. */
async function race(commits: Array<() => Promise<unknown>>) {
  const outcomes = await Promise.allSettled(commits.map((commit) => commit()));
  const refused = outcomes.filter((o) => o.status === 'rejected');
  for (const outcome of refused) {
    expect((outcome as PromiseRejectedResult).reason).toMatchObject({
      code: 422,
      type: 'spending-limit-exceeded',
    });
  }
  return { passed: outcomes.length - refused.length, refused: refused.length };
}

describe('concurrent commits racing for the last part of a block limit', () => {
  it('one user, 20 parallel orders for the last 1,000 of a monthly limit: never more than the limit', async () => {
    await call(
      'spending.limits.create',
      {
        subject: { type: 'user', id: org.users.solo!.id },
        per: 'month',
        amount: cny(1000000),
        mode: 'block',
      },
      admin(),
    );
    const at = '2026-05-15T00:00:00Z';
    const buyer = asBuyer(org.users.solo!, PURCHASER);
    await call(
      'spending.commit',
      { reference: { type: 'order', id: 'SOLO-0' }, amount: cny(900000), at },
      buyer,
    );

    const { passed, refused } = await race(
      Array.from(
        { length: RACERS },
        (_, i) => () =>
          call(
            'spending.commit',
            { reference: { type: 'order', id: `SOLO-${i + 1}` }, amount: cny(30000), at },
            buyer,
          ),
      ),
    );
    // 9,000 + 3 × 300 = 9,900 ≤ 10,000; a fourth would make 10,200.
    expect(passed).toBe(3);
    expect(refused).toBe(RACERS - 3);
    expect(await committedFor('SOLO-')).toBe(990000n);
  });

  it('20 users of a subtree racing under their ancestor unit limit and a shared budget', async () => {
    const at = '2026-07-20T00:00:00Z';
    await call(
      'spending.limits.create',
      { subject: { type: 'unit', id: org.units.team! }, per: 'quarter', amount: cny(500000), mode: 'block' },
      admin(),
    );
    await call(
      'spending.budgets.create',
      {
        costCentre: 'RACE',
        period: 'quarter',
        periodStart: '2026-07-01',
        amount: cny(450000),
        mode: 'block',
      },
      admin(),
    );
    const { passed } = await race(
      Array.from(
        { length: RACERS },
        (_, i) => () =>
          call(
            'spending.commit',
            {
              reference: { type: 'order', id: `TEAM-${i}` },
              amount: cny(40000 + i * 1000),
              costCentre: 'RACE',
              at,
            },
            asBuyer(org.users[`racer${i}`]!, PURCHASER),
          ),
      ),
    );
    const total = await committedFor('TEAM-');
    expect(total).toBeLessThanOrEqual(450000n);
    // Only amounts of at least 40,000 were offered: whatever passed fills the budget to within one order.
    expect(total).toBeGreaterThan(450000n - 59000n);
    expect(passed).toBeGreaterThanOrEqual(7);
    expect(passed).toBeLessThanOrEqual(11);
    const budget = (await call('spending.budgets.list', { costCentre: 'RACE' }, admin())).items[0];
    const view = await call('spending.budgets.get', { id: budget.id }, admin());
    expect(BigInt(view.consumption.committed.amountMinor)).toBe(total);
  });

  it('the same reference committed 20 times at once counts once', async () => {
    const buyer = asBuyer(org.users.racer0!, PURCHASER);
    const params = {
      reference: { type: 'order', id: 'SAME-1' },
      amount: cny(1234),
      at: '2026-09-01T00:00:00Z',
    };
    const answers = await Promise.all(
      Array.from({ length: RACERS }, () => call('spending.commit', params, buyer)),
    );
    expect(answers.filter((answer) => !answer.replayed)).toHaveLength(1);
    expect(await committedFor('SAME-')).toBe(1234n);
  });
});
