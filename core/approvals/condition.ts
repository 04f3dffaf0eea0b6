/**
 * Approval rule conditions: the tree a company admin writes (canonical schema
 * `entities/approval-condition`), checked for its bounds and compiled once into closures, then
 * evaluated against the facts of a purchase. Pure: no I/O, no JSON parsing per evaluation.
 *
 * Three-valued logic (as SQL NULL): a money comparison in another currency than the purchase, or
 * on a shipping cost the purchase does not state, is UNKNOWN. `not` keeps UNKNOWN, `all` is FALSE
 * if any member is FALSE, `any` is TRUE if any member is TRUE, and a rule applies only when its
 * condition is TRUE. So a rule in CNY never applies to a USD purchase, even under `not`, while
 * `any` over one CNY and one USD threshold serves a company that buys in both.
 */
import type { Money } from '../../schemas/generated/types.ts';

export const MAX_CONDITION_DEPTH = 8;
export const MAX_CONDITION_NODES = 100;

export const NUMERIC_OPS = ['gt', 'gte', 'lt', 'lte', 'eq'] as const;
export type NumericOp = (typeof NUMERIC_OPS)[number];

export type ConditionLeaf =
  | { field: 'orderTotal' | 'shippingCost'; op: NumericOp; value: Money }
  | { field: 'lineCount' | 'skuCount'; op: NumericOp; value: number }
  | { field: 'categories'; op: 'containsAny' | 'containsAll'; value: string[] }
  | { field: 'costCentre' | 'paymentMethod'; op: 'eq'; value: string }
  | { field: 'costCentre' | 'paymentMethod'; op: 'in'; value: string[] }
  | { field: 'requesterUnit'; op: 'within'; value: string }
  | { field: 'requesterRole'; op: 'in'; value: string[] };

export type ConditionNode =
  | { all: ConditionNode[] }
  | { any: ConditionNode[] }
  | { not: ConditionNode }
  | ConditionLeaf;

/** The purchase as frozen by the ordering domain (canonical `entities/approval-snapshot`). */
export interface PurchaseSnapshot {
  total: Money;
  shippingCost?: Money | undefined;
  lines: Array<{ sku: string; categoryIds: string[]; quantity: number; lineTotal: Money }>;
  costCentre?: string | undefined;
  paymentMethod?: string | undefined;
}

/** Who asks, from accounts at request time. */
export interface RequesterFacts {
  unitPath: readonly string[];
  roles: readonly string[];
}

interface Amount {
  minor: bigint;
  currency: string;
}

/** What conditions read, derived once per evaluation from the snapshot and the requester. */
export interface PurchaseFacts {
  orderTotal: Amount;
  shippingCost: Amount | null;
  lineCount: number;
  skuCount: number;
  categories: ReadonlySet<string>;
  costCentre: string | null;
  paymentMethod: string | null;
  unitPath: ReadonlySet<string>;
  roles: ReadonlySet<string>;
}

export function purchaseFacts(snapshot: PurchaseSnapshot, requester: RequesterFacts): PurchaseFacts {
  const categories = new Set<string>();
  const skus = new Set<string>();
  for (const line of snapshot.lines) {
    skus.add(line.sku);
    for (const category of line.categoryIds) categories.add(category);
  }
  return {
    orderTotal: { minor: BigInt(snapshot.total.amountMinor), currency: snapshot.total.currency },
    shippingCost: snapshot.shippingCost
      ? { minor: BigInt(snapshot.shippingCost.amountMinor), currency: snapshot.shippingCost.currency }
      : null,
    lineCount: snapshot.lines.length,
    skuCount: skus.size,
    categories,
    costCentre: snapshot.costCentre ?? null,
    paymentMethod: snapshot.paymentMethod ?? null,
    unitPath: new Set(requester.unitPath),
    roles: new Set(requester.roles),
  };
}

/** Truth values of the three-valued logic; plain numbers keep evaluation allocation-free. */
const FALSE = 0;
const TRUE = 1;
const UNKNOWN = 2;
type Truth = typeof FALSE | typeof TRUE | typeof UNKNOWN;
type Evaluate = (facts: PurchaseFacts) => Truth;

/** A condition that breaks the rules the schema states; `pointer` is relative to the condition. */
export class InvalidCondition extends Error {
  readonly pointer: string;
  constructor(pointer: string, message: string) {
    super(message);
    this.pointer = pointer;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Depth (a comparison is 1) and node count of a condition, refusing one beyond the bounds as soon
 * as it is seen, so a hostile tree costs no more than the bound to reject.
 */
export function measureCondition(node: unknown): { depth: number; nodes: number } {
  let nodes = 0;
  const visit = (current: unknown, depth: number, pointer: string): number => {
    nodes++;
    if (nodes > MAX_CONDITION_NODES) {
      throw new InvalidCondition(pointer, `a condition has at most ${MAX_CONDITION_NODES} nodes`);
    }
    if (depth > MAX_CONDITION_DEPTH) {
      throw new InvalidCondition(pointer, `a condition is at most ${MAX_CONDITION_DEPTH} levels deep`);
    }
    if (!isObject(current)) throw new InvalidCondition(pointer, 'must be an object');
    const children = Array.isArray(current.all)
      ? current.all
      : Array.isArray(current.any)
        ? current.any
        : null;
    const key = Array.isArray(current.all) ? 'all' : 'any';
    if (children) {
      let deepest = depth;
      children.forEach((child, index) => {
        deepest = Math.max(deepest, visit(child, depth + 1, `${pointer}/${key}/${index}`));
      });
      return deepest;
    }
    if ('not' in current) return visit(current.not, depth + 1, `${pointer}/not`);
    return depth;
  };
  const depth = visit(node, 1, '');
  return { depth, nodes };
}

const NUMBER_COMPARE: Record<NumericOp, (a: number, b: number) => boolean> = {
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
  eq: (a, b) => a === b,
};

function compileMoney(field: 'orderTotal' | 'shippingCost', op: NumericOp, value: Money): Evaluate {
  const target = BigInt(value.amountMinor);
  const currency = value.currency;
  const read =
    field === 'orderTotal'
      ? (facts: PurchaseFacts) => facts.orderTotal
      : (facts: PurchaseFacts) => facts.shippingCost;
  // One closure per operator: no dispatch on `op` while evaluating.
  switch (op) {
    case 'gt':
      return (facts) => {
        const amount = read(facts);
        return amount === null || amount.currency !== currency
          ? UNKNOWN
          : amount.minor > target
            ? TRUE
            : FALSE;
      };
    case 'gte':
      return (facts) => {
        const amount = read(facts);
        return amount === null || amount.currency !== currency
          ? UNKNOWN
          : amount.minor >= target
            ? TRUE
            : FALSE;
      };
    case 'lt':
      return (facts) => {
        const amount = read(facts);
        return amount === null || amount.currency !== currency
          ? UNKNOWN
          : amount.minor < target
            ? TRUE
            : FALSE;
      };
    case 'lte':
      return (facts) => {
        const amount = read(facts);
        return amount === null || amount.currency !== currency
          ? UNKNOWN
          : amount.minor <= target
            ? TRUE
            : FALSE;
      };
    case 'eq':
      return (facts) => {
        const amount = read(facts);
        return amount === null || amount.currency !== currency
          ? UNKNOWN
          : amount.minor === target
            ? TRUE
            : FALSE;
      };
  }
}

function stringList(value: unknown, pointer: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) {
    throw new InvalidCondition(`${pointer}/value`, 'must be a non-empty list of strings');
  }
  return value as string[];
}

function compileLeaf(leaf: Record<string, unknown>, pointer: string): Evaluate {
  const { field, op, value } = leaf;
  const badOp = () =>
    new InvalidCondition(`${pointer}/op`, `operator ${String(op)} does not apply to ${String(field)}`);
  switch (field) {
    case 'orderTotal':
    case 'shippingCost': {
      if (!NUMERIC_OPS.includes(op as NumericOp)) throw badOp();
      if (
        !isObject(value) ||
        typeof value.amountMinor !== 'string' ||
        !/^(0|-?[1-9][0-9]{0,37})$/.test(value.amountMinor) ||
        typeof value.currency !== 'string' ||
        !/^[A-Z]{3}$/.test(value.currency)
      ) {
        throw new InvalidCondition(`${pointer}/value`, 'must be money: { amountMinor, currency }');
      }
      return compileMoney(field, op as NumericOp, value as unknown as Money);
    }
    case 'lineCount':
    case 'skuCount': {
      const compare = NUMBER_COMPARE[op as NumericOp];
      if (!NUMERIC_OPS.includes(op as NumericOp) || !compare) throw badOp();
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw new InvalidCondition(`${pointer}/value`, 'must be a non-negative integer');
      }
      return field === 'lineCount'
        ? (facts) => (compare(facts.lineCount, value) ? TRUE : FALSE)
        : (facts) => (compare(facts.skuCount, value) ? TRUE : FALSE);
    }
    case 'categories': {
      const wanted = stringList(value, pointer);
      if (op === 'containsAny') {
        return (facts) => {
          for (const category of wanted) if (facts.categories.has(category)) return TRUE;
          return FALSE;
        };
      }
      if (op === 'containsAll') {
        return (facts) => {
          for (const category of wanted) if (!facts.categories.has(category)) return FALSE;
          return TRUE;
        };
      }
      throw badOp();
    }
    case 'costCentre':
    case 'paymentMethod': {
      const read =
        field === 'costCentre'
          ? (facts: PurchaseFacts) => facts.costCentre
          : (facts: PurchaseFacts) => facts.paymentMethod;
      if (op === 'eq') {
        if (typeof value !== 'string') throw new InvalidCondition(`${pointer}/value`, 'must be a string');
        return (facts) => (read(facts) === value ? TRUE : FALSE);
      }
      if (op === 'in') {
        const allowed = new Set(stringList(value, pointer));
        return (facts) => {
          const actual = read(facts);
          return actual !== null && allowed.has(actual) ? TRUE : FALSE;
        };
      }
      throw badOp();
    }
    case 'requesterUnit': {
      if (op !== 'within') throw badOp();
      if (typeof value !== 'string') throw new InvalidCondition(`${pointer}/value`, 'must be a unit id');
      return (facts) => (facts.unitPath.has(value) ? TRUE : FALSE);
    }
    case 'requesterRole': {
      if (op !== 'in') throw badOp();
      const roles = stringList(value, pointer);
      return (facts) => {
        for (const role of roles) if (facts.roles.has(role)) return TRUE;
        return FALSE;
      };
    }
    default:
      throw new InvalidCondition(`${pointer}/field`, `unknown field ${JSON.stringify(field)}`);
  }
}

function compileNode(node: unknown, pointer: string): Evaluate {
  if (!isObject(node)) throw new InvalidCondition(pointer, 'must be an object');
  if (Array.isArray(node.all)) {
    const members = node.all.map((child, index) => compileNode(child, `${pointer}/all/${index}`));
    if (members.length === 0) return () => TRUE;
    if (members.length === 1) return members[0]!;
    return (facts) => {
      let result: Truth = TRUE;
      for (const member of members) {
        const value = member(facts);
        if (value === FALSE) return FALSE;
        if (value === UNKNOWN) result = UNKNOWN;
      }
      return result;
    };
  }
  if (Array.isArray(node.any)) {
    const members = node.any.map((child, index) => compileNode(child, `${pointer}/any/${index}`));
    if (members.length === 0) throw new InvalidCondition(`${pointer}/any`, 'needs at least one condition');
    if (members.length === 1) return members[0]!;
    return (facts) => {
      let result: Truth = FALSE;
      for (const member of members) {
        const value = member(facts);
        if (value === TRUE) return TRUE;
        if (value === UNKNOWN) result = UNKNOWN;
      }
      return result;
    };
  }
  if ('not' in node) {
    const inner = compileNode(node.not, `${pointer}/not`);
    return (facts) => {
      const value = inner(facts);
      return value === TRUE ? FALSE : value === FALSE ? TRUE : UNKNOWN;
    };
  }
  return compileLeaf(node, pointer);
}

/** A condition ready to evaluate: true only when the condition is TRUE for the facts. */
export type CompiledCondition = (facts: PurchaseFacts) => boolean;

/**
 * Checks the bounds and compiles once; evaluating the result does no parsing and no allocation.
 * Throws `InvalidCondition` naming the offending node.
 */
export function compileCondition(condition: unknown): CompiledCondition {
  measureCondition(condition);
  const evaluate = compileNode(condition, '');
  return (facts) => evaluate(facts) === TRUE;
}

/** A rule as the evaluator needs it, compiled once and reused for every purchase. */
export interface CompiledRule<Extra = unknown> {
  id: string;
  priority: number;
  matches: CompiledCondition;
  extra: Extra;
}

/** The rules whose condition holds, in the order given (callers pass them by priority). */
export function matchingRules<Extra>(
  rules: readonly CompiledRule<Extra>[],
  facts: PurchaseFacts,
): CompiledRule<Extra>[] {
  const matched: CompiledRule<Extra>[] = [];
  for (const rule of rules) if (rule.matches(facts)) matched.push(rule);
  return matched;
}
