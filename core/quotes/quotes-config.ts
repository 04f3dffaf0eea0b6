/**
 * The quotes settings of a deployment, from the environment. A bad value stops the service at
 * start with one line naming the variable.
 *
 * - `HUB_QUOTES_MAX_DISCOUNT_BP` (0–10000, default 1500): the margin floor, as the deepest discount
 *   below the buyer's list price a staff quote may give without approval. Pricing keeps no cost
 *   prices, so the floor is measured against what the buyer would pay today: a catalog line
 *   whose quoted total is more than this many basis points below its list total, or a whole version
 *   below its list total by more, waits for approval (`quotes.approve`) before the buyer sees it.
 * - `HUB_QUOTES_SWEEP_SECONDS` (0–86400, default 60; 0 = off): how often quoted versions past their
 *   validity are expired.
 * - `HUB_QUOTES_CURRENCY` (ISO 4217, default CNY): a quote's currency when the request names none.
 * - `HUB_QUOTES_ATTACHMENT_MAX_BYTES` (1 B–100 MB, default 50 MB): one attached file.
 * - `HUB_QUOTES_ATTACHMENTS_MAX_BYTES` (1 B–1 GB, default 200 MB): all files of one quote together.
 */
export interface QuotesConfig {
  maxDiscountBp: number;
  sweepSeconds: number;
  currency: string;
  attachmentMaxBytes: number;
  attachmentsMaxBytes: number;
}

const MB = 1024 * 1024;
/** The upload routes' bound: no configuration takes a single file past it. */
export const ATTACHMENT_ROUTE_MAX_BYTES = 100 * MB;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > max || value < min)
    throw new Error(`${name} must be an integer ${min}..${max}, not ${raw}`);
  return value;
}

export function loadQuotesConfig(env: NodeJS.ProcessEnv = process.env): QuotesConfig {
  const currency = env.HUB_QUOTES_CURRENCY || 'CNY';
  if (!/^[A-Z]{3}$/.test(currency))
    throw new Error(`HUB_QUOTES_CURRENCY must be an ISO 4217 code, not ${currency}`);
  return {
    maxDiscountBp: integer(env, 'HUB_QUOTES_MAX_DISCOUNT_BP', 1500, 10_000),
    sweepSeconds: integer(env, 'HUB_QUOTES_SWEEP_SECONDS', 60, 86_400),
    currency,
    attachmentMaxBytes: integer(
      env,
      'HUB_QUOTES_ATTACHMENT_MAX_BYTES',
      50 * MB,
      ATTACHMENT_ROUTE_MAX_BYTES,
      1,
    ),
    attachmentsMaxBytes: integer(env, 'HUB_QUOTES_ATTACHMENTS_MAX_BYTES', 200 * MB, 1024 * MB, 1),
  };
}
