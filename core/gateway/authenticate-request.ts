import { createHash } from 'node:crypto';
import type moleculer from 'moleculer';
import type { AccessTokens } from '../platform/auth/access-tokens.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { Unauthorized } from '../platform/errors/hub-errors.ts';

const API_KEY_CACHE_MS = 30_000;
const API_KEY_CACHE_MAX = 10_000;

export const ADMIN_TOKEN_COOKIE = 'hub_admin_token';

interface IncomingHeaders {
  authorization?: string | undefined;
  'x-api-key'?: string | string[] | undefined;
  cookie?: string | undefined;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

/**
 * Establishes the caller of an HTTP request: a Bearer access token (verified locally, no I/O), an
 * `X-Api-Key` (resolved by the accounts service, cached briefly), or — for the browser-facing
 * admin pages only — the admin token cookie. No credentials = anonymous (undefined); wrong
 * credentials = 401, never silently anonymous.
 */
export class RequestAuthenticator {
  readonly #tokens: AccessTokens;
  readonly #broker: moleculer.ServiceBroker;
  readonly #apiKeyCache = new Map<string, { auth: AuthContext | null; until: number }>();
  readonly #basicCache = new Map<string, { auth: AuthContext; until: number }>();

  constructor(tokens: AccessTokens, broker: moleculer.ServiceBroker) {
    this.#tokens = tokens;
    this.#broker = broker;
  }

  async authenticate(
    headers: IncomingHeaders,
    options: { allowCookie?: boolean } = {},
  ): Promise<AuthContext | undefined> {
    const authorization = headers.authorization;
    if (authorization) {
      const match = /^Bearer\s+(\S{1,4096})$/i.exec(authorization);
      if (!match) throw new Unauthorized('Authorization must be "Bearer <token>"');
      return this.#tokens.verify(match[1]!);
    }
    const apiKey = headers['x-api-key'];
    if (apiKey !== undefined) {
      if (typeof apiKey !== 'string' || apiKey.length > 200) throw new Unauthorized('Invalid API key');
      const auth = await this.#resolveApiKey(apiKey);
      if (!auth) throw new Unauthorized('Invalid API key');
      return auth;
    }
    if (options.allowCookie) {
      const token = readCookie(headers.cookie, ADMIN_TOKEN_COOKIE);
      if (token) return this.#tokens.verify(token);
    }
    return undefined;
  }

  /**
   * For the browser-facing admin pages: everything `authenticate` accepts plus the admin cookie
   * and HTTP Basic with a staff email and password (a browser's own login prompt). Verified Basic
   * credentials are remembered for a minute by hash, so page assets do not each cost a login.
   */
  async authenticateAdmin(headers: IncomingHeaders): Promise<AuthContext | undefined> {
    const authorization = headers.authorization;
    if (authorization && /^Basic\s/i.test(authorization)) {
      const digest = createHash('sha256').update(authorization).digest('hex');
      const now = Date.now();
      const cached = this.#basicCache.get(digest);
      if (cached && cached.until > now) return cached.auth;
      const decoded = Buffer.from(authorization.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 1) throw new Unauthorized('Malformed Basic credentials');
      const { accessToken } = (await this.#broker.call('accounts.login', {
        email: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
      })) as { accessToken: string };
      const auth = await this.#tokens.verify(accessToken);
      if (this.#basicCache.size >= 1000) this.#basicCache.clear();
      this.#basicCache.set(digest, { auth, until: now + 60_000 });
      return auth;
    }
    return this.authenticate(headers, { allowCookie: true });
  }

  async #resolveApiKey(key: string): Promise<AuthContext | null> {
    const now = Date.now();
    const cached = this.#apiKeyCache.get(key);
    if (cached && cached.until > now) return cached.auth;
    const auth = (await this.#broker.call('accounts.authenticateApiKey', { key })) as AuthContext | null;
    if (this.#apiKeyCache.size >= API_KEY_CACHE_MAX) this.#apiKeyCache.clear();
    this.#apiKeyCache.set(key, { auth, until: now + API_KEY_CACHE_MS });
    return auth;
  }
}
