import type { Context } from 'moleculer';

/** At most this many characters of one forwarded header (a signature header is far shorter). */
const MAX_HEADER_CHARS = 2048;

/**
 * The request headers a route lists in `forwardHeaders` (lower-cased names), as the gateway puts
 * them in `ctx.meta.headers`: single string values, bounded, absent ones left out. For webhook
 * routes whose sender signs in headers (法大大's `X-FASC-*`); other routes see none.
 */
export function pickHeaders(
  names: readonly string[],
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name.toLowerCase()];
    const text = Array.isArray(value) ? value[0] : value;
    if (typeof text === 'string') picked[name.toLowerCase()] = text.slice(0, MAX_HEADER_CHARS);
  }
  return picked;
}

/** The forwarded headers of the current request (empty when the route forwards none). */
export function forwardedHeadersOf(ctx: Context): Record<string, string> {
  return ((ctx.meta as { headers?: Record<string, string> }).headers ?? {}) as Record<string, string>;
}
