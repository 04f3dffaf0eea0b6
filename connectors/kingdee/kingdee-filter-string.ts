/**
 * A bounded parser and evaluator of the FilterString subset the simulator answers (fact sheet
 * §1.7): comparisons `=`, `<>`, `!=`, `>`, `>=`, `<`, `<=`, `LIKE`, `IN (...)`, joined with `AND`
 * / `OR`, parentheses, quoted strings (`''` escapes a quote), numbers. Field names may carry
 * dotted dereferences (`FCustId.FNumber`). Anything else is refused with a message, like
 * Kingdee's own SQL errors. Bounded in length, tokens and nesting depth: it reads client input.
 */
export type FilterExpression =
  | { kind: 'and' | 'or'; left: FilterExpression; right: FilterExpression }
  | { kind: 'compare'; field: string; operator: Operator; value: Literal }
  | { kind: 'in'; field: string; values: Literal[] };

type Operator = '=' | '<>' | '>' | '>=' | '<' | '<=' | 'like';
type Literal = string | number;
type Token = { type: 'ident' | 'string' | 'number' | 'op' | 'paren' | 'comma'; text: string };

export const FILTER_LIMITS = { maxLength: 8000, maxTokens: 1000, maxDepth: 32 };

export class FilterSyntaxError extends Error {}

function tokenize(text: string): Token[] {
  if (text.length > FILTER_LIMITS.maxLength) throw new FilterSyntaxError('FilterString is too long');
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    if (tokens.length >= FILTER_LIMITS.maxTokens)
      throw new FilterSyntaxError('FilterString has too many terms');
    if (char === "'") {
      let value = '';
      index += 1;
      for (;;) {
        if (index >= text.length) throw new FilterSyntaxError('Unterminated string in FilterString');
        if (text[index] === "'") {
          if (text[index + 1] === "'") {
            value += "'";
            index += 2;
            continue;
          }
          index += 1;
          break;
        }
        value += text[index];
        index += 1;
      }
      tokens.push({ type: 'string', text: value });
      continue;
    }
    const op = /^(<>|!=|>=|<=|=|>|<)/.exec(text.slice(index, index + 2));
    if (op) {
      tokens.push({ type: 'op', text: op[0] === '!=' ? '<>' : op[0] });
      index += op[0].length;
      continue;
    }
    if (char === '(' || char === ')') {
      tokens.push({ type: 'paren', text: char });
      index += 1;
      continue;
    }
    if (char === ',') {
      tokens.push({ type: 'comma', text: char });
      index += 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(index, index + 40));
    if (number) {
      tokens.push({ type: 'number', text: number[0] });
      index += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(index, index + 200));
    if (ident) {
      tokens.push({ type: 'ident', text: ident[0] });
      index += ident[0].length;
      continue;
    }
    throw new FilterSyntaxError(`Unexpected "${char}" in FilterString`);
  }
  return tokens;
}

/** Parses a FilterString; an empty one is `null` (every row). */
export function parseFilterString(text: string): FilterExpression | null {
  const tokens = tokenize(text);
  if (tokens.length === 0) return null;
  let position = 0;
  const peek = () => tokens[position];
  const next = () => {
    const token = tokens[position];
    if (!token) throw new FilterSyntaxError('FilterString ends too early');
    position += 1;
    return token;
  };
  const keyword = (token: Token | undefined, word: string) =>
    token?.type === 'ident' && token.text.toLowerCase() === word;

  function literal(): Literal {
    const token = next();
    if (token.type === 'string') return token.text;
    if (token.type === 'number') return Number(token.text);
    throw new FilterSyntaxError(`Expected a value, found "${token.text}"`);
  }

  function primary(depth: number): FilterExpression {
    if (depth > FILTER_LIMITS.maxDepth) throw new FilterSyntaxError('FilterString is nested too deeply');
    const token = next();
    if (token.type === 'paren' && token.text === '(') {
      const inner = orExpression(depth + 1);
      const close = next();
      if (close.type !== 'paren' || close.text !== ')')
        throw new FilterSyntaxError('Missing ")" in FilterString');
      return inner;
    }
    if (token.type !== 'ident') throw new FilterSyntaxError(`Expected a field, found "${token.text}"`);
    const operator = next();
    if (keyword(operator, 'like'))
      return { kind: 'compare', field: token.text, operator: 'like', value: literal() };
    if (keyword(operator, 'in')) {
      const open = next();
      if (open.text !== '(') throw new FilterSyntaxError('Expected "(" after IN');
      const values: Literal[] = [literal()];
      while (peek()?.type === 'comma') {
        next();
        values.push(literal());
      }
      if (next().text !== ')') throw new FilterSyntaxError('Missing ")" after IN values');
      return { kind: 'in', field: token.text, values };
    }
    if (operator.type !== 'op') throw new FilterSyntaxError(`Expected an operator after ${token.text}`);
    return { kind: 'compare', field: token.text, operator: operator.text as Operator, value: literal() };
  }

  function andExpression(depth: number): FilterExpression {
    let left = primary(depth);
    while (keyword(peek(), 'and')) {
      next();
      left = { kind: 'and', left, right: primary(depth) };
    }
    return left;
  }

  function orExpression(depth: number): FilterExpression {
    let left = andExpression(depth);
    while (keyword(peek(), 'or')) {
      next();
      left = { kind: 'or', left, right: andExpression(depth) };
    }
    return left;
  }

  const expression = orExpression(0);
  if (position !== tokens.length)
    throw new FilterSyntaxError(`Unexpected "${tokens[position]?.text}" in FilterString`);
  return expression;
}

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$/;

/** Dates compare as `yyyy-MM-ddTHH:mm:ss` whichever separator or precision they were written in. */
function comparable(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const text = String(value);
  if (DATE_LIKE.test(text)) {
    const normalized = text.replace(' ', 'T');
    return normalized.length === 10
      ? `${normalized}T00:00:00`
      : normalized.length === 16
        ? `${normalized}:00`
        : normalized;
  }
  return text;
}

function compare(left: unknown, right: Literal): number | null {
  const a = comparable(left);
  const b = comparable(right);
  if (a === null || b === null) return null;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = Number(a);
    const y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return null;
    return x - y;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function likePattern(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replaceAll('%', '.*')
    .replaceAll('_', '.');
  return new RegExp(`^${escaped}$`, 'is');
}

/** Whether a row matches; `field` reads a (possibly dotted) field of the row. */
export function matchesFilter(
  expression: FilterExpression | null,
  field: (name: string) => unknown,
): boolean {
  if (!expression) return true;
  switch (expression.kind) {
    case 'and':
      return matchesFilter(expression.left, field) && matchesFilter(expression.right, field);
    case 'or':
      return matchesFilter(expression.left, field) || matchesFilter(expression.right, field);
    case 'in':
      return expression.values.some((value) => compare(field(expression.field), value) === 0);
    case 'compare': {
      const actual = field(expression.field);
      if (expression.operator === 'like') {
        return (
          actual !== null &&
          actual !== undefined &&
          likePattern(String(expression.value)).test(String(actual))
        );
      }
      const order = compare(actual, expression.value);
      if (order === null) return false;
      switch (expression.operator) {
        case '=':
          return order === 0;
        case '<>':
          return order !== 0;
        case '>':
          return order > 0;
        case '>=':
          return order >= 0;
        case '<':
          return order < 0;
        case '<=':
          return order <= 0;
      }
    }
  }
}

/** Fields named in the expression (the simulator refuses unknown ones, as Kingdee does). */
export function filterFields(expression: FilterExpression | null): string[] {
  if (!expression) return [];
  if ('field' in expression) return [expression.field];
  return [...filterFields(expression.left), ...filterFields(expression.right)];
}
