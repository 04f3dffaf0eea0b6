import type { ServerResponse } from 'node:http';
import type { GatewayRequest } from './idempotency-middleware.ts';
import { sendProblem, toProblem } from './problem-details.ts';

type Next = (error?: unknown) => void;

/** Deeper than any canonical body; deep enough to refuse what would overflow a recursive walk. */
export const MAX_JSON_DEPTH = 32;

/** Nesting depth of a parsed JSON value, walked iteratively (a recursive walk is what we guard against). */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return max;
}

/**
 * Refuses request bodies nested deeper than MAX_JSON_DEPTH before anything else touches them:
 * the size limit alone lets a 1 MB body nest 250,000 levels, enough to overflow the recursive
 * JSON.stringify of the transporter or the idempotency fingerprint.
 */
export function rejectDeepJson(req: GatewayRequest, res: ServerResponse, next: Next) {
  if (req.body !== undefined && jsonDepth(req.body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    const error = {
      code: 400,
      type: 'json-too-deep',
      message: `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`,
    };
    sendProblem(res, toProblem(error, req.originalUrl ?? req.url ?? '', req.$requestId));
    return;
  }
  next();
}
