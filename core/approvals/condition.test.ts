import { describe, expect, it } from '@jest/globals';
import { validators } from '../../schemas/generated/validators.js';
import {
  type ConditionNode,
  compileCondition,
  InvalidCondition,
  MAX_CONDITION_DEPTH,
  MAX_CONDITION_NODES,
  matchingRules,
  measureCondition,
  type PurchaseSnapshot,
  purchaseFacts,
  type RequesterFacts,
} from './condition.ts';

const cny = (amountMinor: string) => ({ amountMinor, currency: 'CNY' });
const usd = (amountMinor: string) => ({ amountMinor, currency: 'USD' });

const UNIT_ROOT = '00000000-0000-4000-8000-000000000001';
const UNIT_RD = '00000000-0000-4000-8000-000000000002';
const UNIT_RD_LAB = '00000000-0000-4000-8000-000000000003';
const UNIT_SALES = '00000000-0000-4000-8000-000000000004';

const snapshot: PurchaseSnapshot = {
  total: cny('1000000'),
  shippingCost: cny('5000'),
  lines: [
    { sku: 'LAPTOP', categoryIds: ['it', 'laptops'], quantity: 2, lineTotal: cny('800000') },
    { sku: 'LAPTOP', categoryIds: ['it', 'laptops'], quantity: 1, lineTotal: cny('100000') },
    { sku: 'PAPER', categoryIds: ['office'], quantity: 10, lineTotal: cny('95000') },
  ],
  costCentre: 'CC-RD',
  paymentMethod: 'credit',
};
const requester: RequesterFacts = {
  unitPath: [UNIT_ROOT, UNIT_RD, UNIT_RD_LAB],
  roles: ['purchaser', 'lab-lead'],
};
const facts = purchaseFacts(snapshot, requester);

const holds = (condition: unknown, against = facts) => compileCondition(condition)(against);
const validateCondition = validators['https://hub.local/schemas/entities/approval-condition']!;

describe('purchaseFacts', () => {
  it('derives counts, categories and money once from the snapshot', () => {
    expect(facts.lineCount).toBe(3);
    expect(facts.skuCount).toBe(2);
    expect([...facts.categories].sort()).toEqual(['it', 'laptops', 'office']);
    expect(facts.orderTotal).toEqual({ minor: 1000000n, currency: 'CNY' });
    expect(facts.shippingCost).toEqual({ minor: 5000n, currency: 'CNY' });
  });
});

describe('money fields', () => {
  it.each([
    ['gt', '999999', true],
    ['gt', '1000000', false],
    ['gte', '1000000', true],
    ['gte', '1000001', false],
    ['lt', '1000001', true],
    ['lt', '1000000', false],
    ['lte', '1000000', true],
    ['lte', '999999', false],
    ['eq', '1000000', true],
    ['eq', '999999', false],
  ])('orderTotal %s %s is %s', (op, amount, expected) => {
    expect(holds({ field: 'orderTotal', op, value: cny(amount) })).toBe(expected);
  });

  it('compares amounts beyond 2^53 exactly', () => {
    const huge = purchaseFacts({ ...snapshot, total: cny('90071992547409930') }, requester);
    expect(holds({ field: 'orderTotal', op: 'gt', value: cny('90071992547409929') }, huge)).toBe(true);
    expect(holds({ field: 'orderTotal', op: 'eq', value: cny('90071992547409931') }, huge)).toBe(false);
  });

  it('shippingCost compares the shipping cost, not the total', () => {
    expect(holds({ field: 'shippingCost', op: 'gte', value: cny('5000') })).toBe(true);
    expect(holds({ field: 'shippingCost', op: 'gt', value: cny('5000') })).toBe(false);
    expect(holds({ field: 'shippingCost', op: 'lt', value: cny('10000') })).toBe(true);
  });

  it('never matches a purchase in another currency, not even under not', () => {
    const inUsd = purchaseFacts({ ...snapshot, total: usd('1000000'), shippingCost: usd('5000') }, requester);
    const cnyRule = { field: 'orderTotal', op: 'gt', value: cny('1') };
    expect(holds(cnyRule, inUsd)).toBe(false);
    expect(holds({ not: cnyRule }, inUsd)).toBe(false);
    expect(holds({ not: { not: cnyRule } }, inUsd)).toBe(false);
    expect(holds({ all: [cnyRule, { field: 'lineCount', op: 'gte', value: 1 }] }, inUsd)).toBe(false);
    expect(holds({ not: { all: [cnyRule, { field: 'lineCount', op: 'gte', value: 1 }] } }, inUsd)).toBe(
      false,
    );
    // A false member decides `all` whatever the unknown one is, so its negation holds.
    expect(holds({ not: { all: [cnyRule, { field: 'lineCount', op: 'gt', value: 50 }] } }, inUsd)).toBe(true);
    expect(holds({ field: 'orderTotal', op: 'gt', value: usd('1') }, inUsd)).toBe(true);
  });

  it('lets a rule with thresholds in two currencies serve both', () => {
    const multi = {
      any: [
        { field: 'orderTotal', op: 'gte', value: cny('700000') },
        { field: 'orderTotal', op: 'gte', value: usd('100000') },
      ],
    };
    expect(holds(multi)).toBe(true);
    expect(holds(multi, purchaseFacts({ ...snapshot, total: usd('150000') }, requester))).toBe(true);
    expect(holds(multi, purchaseFacts({ ...snapshot, total: usd('50000') }, requester))).toBe(false);
  });

  it('treats a shipping cost the purchase does not state as unknown', () => {
    const noShipping = purchaseFacts({ ...snapshot, shippingCost: undefined }, requester);
    expect(holds({ field: 'shippingCost', op: 'lt', value: cny('1') }, noShipping)).toBe(false);
    expect(holds({ not: { field: 'shippingCost', op: 'lt', value: cny('1') } }, noShipping)).toBe(false);
  });
});

describe('count fields', () => {
  it.each([
    ['lineCount', 'gt', 2, true],
    ['lineCount', 'gte', 4, false],
    ['lineCount', 'lt', 4, true],
    ['lineCount', 'lte', 2, false],
    ['lineCount', 'eq', 3, true],
    ['skuCount', 'eq', 2, true],
    ['skuCount', 'gt', 2, false],
    ['skuCount', 'gte', 2, true],
    ['skuCount', 'lt', 2, false],
    ['skuCount', 'lte', 2, true],
  ])('%s %s %d is %s', (field, op, value, expected) => {
    expect(holds({ field, op, value })).toBe(expected);
  });
});

describe('categories', () => {
  it('containsAny holds when one of the categories is in the purchase', () => {
    expect(holds({ field: 'categories', op: 'containsAny', value: ['furniture', 'office'] })).toBe(true);
    expect(holds({ field: 'categories', op: 'containsAny', value: ['furniture', 'food'] })).toBe(false);
  });

  it('containsAll holds only when every category is in the purchase', () => {
    expect(holds({ field: 'categories', op: 'containsAll', value: ['it', 'office'] })).toBe(true);
    expect(holds({ field: 'categories', op: 'containsAll', value: ['it', 'furniture'] })).toBe(false);
  });
});

describe('cost centre and payment method', () => {
  it.each([
    ['costCentre', 'eq', 'CC-RD', true],
    ['costCentre', 'eq', 'CC-SALES', false],
    ['costCentre', 'in', ['CC-SALES', 'CC-RD'], true],
    ['costCentre', 'in', ['CC-SALES'], false],
    ['paymentMethod', 'eq', 'credit', true],
    ['paymentMethod', 'eq', 'invoice', false],
    ['paymentMethod', 'in', ['invoice', 'credit'], true],
    ['paymentMethod', 'in', ['invoice'], false],
  ])('%s %s %j is %s', (field, op, value, expected) => {
    expect(holds({ field, op, value })).toBe(expected);
  });

  it('an absent cost centre equals nothing', () => {
    const none = purchaseFacts({ ...snapshot, costCentre: undefined }, requester);
    expect(holds({ field: 'costCentre', op: 'eq', value: 'CC-RD' }, none)).toBe(false);
    expect(holds({ field: 'costCentre', op: 'in', value: ['CC-RD'] }, none)).toBe(false);
    expect(holds({ not: { field: 'costCentre', op: 'eq', value: 'CC-RD' } }, none)).toBe(true);
  });
});

describe('requester', () => {
  it('requesterUnit within holds for the unit itself and every unit above it', () => {
    expect(holds({ field: 'requesterUnit', op: 'within', value: UNIT_RD_LAB })).toBe(true);
    expect(holds({ field: 'requesterUnit', op: 'within', value: UNIT_RD })).toBe(true);
    expect(holds({ field: 'requesterUnit', op: 'within', value: UNIT_ROOT })).toBe(true);
    expect(holds({ field: 'requesterUnit', op: 'within', value: UNIT_SALES })).toBe(false);
    const unplaced = purchaseFacts(snapshot, { unitPath: [], roles: [] });
    expect(holds({ field: 'requesterUnit', op: 'within', value: UNIT_ROOT }, unplaced)).toBe(false);
  });

  it('requesterRole in holds when the requester holds one of the roles, custom ones included', () => {
    expect(holds({ field: 'requesterRole', op: 'in', value: ['finance', 'lab-lead'] })).toBe(true);
    expect(holds({ field: 'requesterRole', op: 'in', value: ['finance', 'buyer-admin'] })).toBe(false);
  });
});

describe('all, any, not', () => {
  const yes = { field: 'lineCount', op: 'eq', value: 3 };
  const no = { field: 'lineCount', op: 'eq', value: 4 };

  it('all needs every member; an empty all always holds', () => {
    expect(holds({ all: [yes, yes] })).toBe(true);
    expect(holds({ all: [yes, no] })).toBe(false);
    expect(holds({ all: [] })).toBe(true);
  });

  it('any needs one member', () => {
    expect(holds({ any: [no, yes] })).toBe(true);
    expect(holds({ any: [no, no] })).toBe(false);
  });

  it('not inverts', () => {
    expect(holds({ not: yes })).toBe(false);
    expect(holds({ not: no })).toBe(true);
  });

  it('nests', () => {
    const condition = {
      all: [
        { field: 'orderTotal', op: 'gte', value: cny('500000') },
        { any: [{ field: 'categories', op: 'containsAny', value: ['furniture'] }, { not: no }] },
        { not: { field: 'requesterRole', op: 'in', value: ['finance'] } },
      ],
    };
    expect(holds(condition)).toBe(true);
    const finance = purchaseFacts(snapshot, { ...requester, roles: ['finance'] });
    expect(holds(condition, finance)).toBe(false);
  });
});

/** `{ not: { not: ... leaf } }` nested to `depth` levels. */
function deep(depth: number): ConditionNode {
  let node: ConditionNode = { field: 'lineCount', op: 'gte', value: 1 };
  for (let level = 1; level < depth; level++) node = { not: node };
  return node;
}

function wide(nodes: number): ConditionNode {
  // One all holding groups of 20 leaves (the schema's per-group bound): 1 + groups + leaves nodes.
  const leaves = nodes - 1;
  const groups: ConditionNode[] = [];
  let left = leaves;
  while (left > 0) {
    const size = Math.min(19, left - 1);
    groups.push({
      all: Array.from({ length: size }, () => ({ field: 'lineCount', op: 'gte', value: 1 }) as const),
    });
    left -= size + 1;
  }
  return { all: groups };
}

describe('bounds', () => {
  it(`accepts ${MAX_CONDITION_DEPTH} levels and refuses ${MAX_CONDITION_DEPTH + 1}, in code and in the schema`, () => {
    expect(measureCondition(deep(MAX_CONDITION_DEPTH)).depth).toBe(MAX_CONDITION_DEPTH);
    expect(holds(deep(MAX_CONDITION_DEPTH))).toBe(MAX_CONDITION_DEPTH % 2 === 1);
    expect(() => compileCondition(deep(MAX_CONDITION_DEPTH + 1))).toThrow(InvalidCondition);
    expect(() => compileCondition(deep(MAX_CONDITION_DEPTH + 1))).toThrow(/at most 8 levels/);
    expect(validateCondition(deep(MAX_CONDITION_DEPTH))).toBe(true);
    expect(validateCondition(deep(MAX_CONDITION_DEPTH + 1))).toBe(false);
  });

  it(`accepts ${MAX_CONDITION_NODES} nodes and refuses ${MAX_CONDITION_NODES + 1}`, () => {
    expect(measureCondition(wide(MAX_CONDITION_NODES)).nodes).toBe(MAX_CONDITION_NODES);
    expect(() => compileCondition(wide(MAX_CONDITION_NODES))).not.toThrow();
    expect(validateCondition(wide(MAX_CONDITION_NODES + 1))).toBe(true);
    expect(() => compileCondition(wide(MAX_CONDITION_NODES + 1))).toThrow(/at most 100 nodes/);
  });

  it('stops measuring a huge tree at the bound instead of walking all of it', () => {
    const huge = {
      any: Array.from({ length: 1_000_000 }, () => ({ field: 'lineCount', op: 'gte', value: 1 })),
    };
    const started = performance.now();
    expect(() => measureCondition(huge)).toThrow(InvalidCondition);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('points at the node in error', () => {
    try {
      compileCondition({
        all: [
          { field: 'lineCount', op: 'gte', value: 1 },
          { field: 'colour', op: 'eq', value: 'red' },
        ],
      });
      throw new Error('expected InvalidCondition');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidCondition);
      expect((error as InvalidCondition).pointer).toBe('/all/1/field');
    }
    expect(() => compileCondition({ field: 'categories', op: 'gt', value: ['it'] })).toThrow(
      /does not apply/,
    );
  });
});

describe('the canonical schema', () => {
  it.each([
    [{ field: 'orderTotal', op: 'gt', value: cny('1') }, true],
    [{ field: 'orderTotal', op: 'containsAny', value: cny('1') }, false],
    [{ field: 'orderTotal', op: 'gt', value: 100 }, false],
    [{ field: 'lineCount', op: 'gt', value: cny('1') }, false],
    [{ field: 'categories', op: 'containsAll', value: ['it'] }, true],
    [{ field: 'categories', op: 'eq', value: ['it'] }, false],
    [{ field: 'costCentre', op: 'in', value: ['A'] }, true],
    [{ field: 'costCentre', op: 'in', value: 'A' }, false],
    [{ field: 'paymentMethod', op: 'gt', value: 'A' }, false],
    [{ field: 'requesterUnit', op: 'within', value: UNIT_RD }, true],
    [{ field: 'requesterUnit', op: 'within', value: 'rd' }, false],
    [{ field: 'requesterRole', op: 'in', value: ['finance'] }, true],
    [{ field: 'requesterRole', op: 'eq', value: 'finance' }, false],
    [{ all: [], extra: 1 }, false],
    [{ any: [] }, false],
    [{ field: 'lineCount', op: 'gt', value: 1, extra: 1 }, false],
  ])('%j valid: %s', (condition, valid) => {
    expect(validateCondition(condition)).toBe(valid);
  });
});

describe('matchingRules', () => {
  it('keeps the matching rules in the order given', () => {
    const rule = (id: string, condition: unknown) => ({
      id,
      priority: 0,
      matches: compileCondition(condition),
      extra: null,
    });
    const rules = [
      rule('a', { field: 'orderTotal', op: 'gt', value: cny('1') }),
      rule('b', { field: 'orderTotal', op: 'gt', value: usd('1') }),
      rule('c', { all: [] }),
    ];
    expect(matchingRules(rules, facts).map((r) => r.id)).toEqual(['a', 'c']);
  });
});
