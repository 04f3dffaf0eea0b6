import jsonata from 'jsonata';
import { FieldMappingFailure } from './mapping-error.ts';

/**
 * Bounds of one JSONata evaluation. JSONata is safe by construction (no access to JavaScript,
 * the file system or the network), but a mapping may still loop (tail recursion never deepens
 * the stack) or recurse: JSONata's own guardrails stop it after `timeoutMs`, at `maxDepth`
 * nested evaluations, or when a sequence grows past `maxSequence` items.
 */
export interface ExpressionLimits {
  timeoutMs: number;
  maxDepth: number;
  maxSequence: number;
}

export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = {
  timeoutMs: 1000,
  maxDepth: 500,
  maxSequence: 100_000,
};

export interface CompiledExpression {
  readonly text: string;
  /** Synchronous for a plain field path over objects, else a promise (JSONata is async). */
  evaluate(input: unknown, bindings: Record<string, unknown>): unknown;
}

interface AstNode {
  type?: string;
  value?: unknown;
  procedure?: AstNode;
  [key: string]: unknown;
}

/** Functions that turn data into code: a record's text must never become an expression. */
const FORBIDDEN_FUNCTIONS = new Set(['eval']);

function findForbiddenCall(node: unknown, seen = 0): string | undefined {
  if (seen > 10_000 || node === null || typeof node !== 'object') return undefined;
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findForbiddenCall(item, seen + 1);
      if (found) return found;
    }
    return undefined;
  }
  const ast = node as AstNode;
  if (
    (ast.type === 'function' || ast.type === 'partial') &&
    ast.procedure?.type === 'variable' &&
    FORBIDDEN_FUNCTIONS.has(String(ast.procedure.value))
  ) {
    return `$${String(ast.procedure.value)}`;
  }
  for (const value of Object.values(ast)) {
    if (value && typeof value === 'object') {
      const found = findForbiddenCall(value, seen + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** JSONata wraps results in sequences (arrays with extra flags); a mapping returns plain JSON. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

const SIMPLE_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const ARRAY_MET = Symbol('array met');
/** Words JSONata reads as literals or operators, never as field names. */
const JSONATA_WORDS = new Set(['true', 'false', 'null', 'and', 'or', 'in', 'function']);

function readObjectPath(input: unknown, path: readonly string[]): unknown {
  let current = input;
  for (const name of path) {
    if (Array.isArray(current)) return ARRAY_MET;
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, name)) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return Array.isArray(current) ? ARRAY_MET : current;
}

/** Parses once; throws an Error naming the JSONata problem and its position for a bad expression. */
export function compileExpression(text: string, limits: ExpressionLimits): CompiledExpression {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(text, {
      timeout: limits.timeoutMs,
      stack: limits.maxDepth,
      sequence: limits.maxSequence,
    });
  } catch (error) {
    const problem = error as { message?: string; position?: number };
    throw new Error(
      `JSONata syntax error at character ${problem.position ?? '?'}: ${problem.message ?? String(error)}`,
    );
  }
  const forbidden = findForbiddenCall(expression.ast());
  if (forbidden) throw new Error(`${forbidden} is not allowed in a mapping expression`);
  const segments = text.split('.');
  const path =
    SIMPLE_PATH.test(text) && !segments.some((name) => JSONATA_WORDS.has(name)) ? segments : undefined;
  return {
    text,
    evaluate(input, bindings) {
      if (path) {
        // A plain field path over plain objects means the same in JSONata; JSONata proper is
        // needed (and used) as soon as an array is met, since it maps paths over arrays.
        const value = readObjectPath(input, path);
        if (value !== ARRAY_MET) return value;
      }
      return evaluateJsonata(input, bindings);
    },
  };

  async function evaluateJsonata(input: unknown, bindings: Record<string, unknown>): Promise<unknown> {
    try {
      return plain(await expression.evaluate(input, bindings));
    } catch (error) {
      const problem = error as { code?: string; message?: string };
      if (problem.code === 'D1012') {
        throw new FieldMappingFailure(
          'expression-timeout',
          `expression ran longer than ${limits.timeoutMs} ms: ${problem.message ?? ''}`,
        );
      }
      if (problem.code === 'D1011') {
        throw new FieldMappingFailure(
          'expression-depth',
          `expression nested deeper than ${limits.maxDepth} levels`,
        );
      }
      throw new FieldMappingFailure(
        'expression',
        `${problem.code ?? 'error'}: ${problem.message ?? String(error)}`,
      );
    }
  }
}
