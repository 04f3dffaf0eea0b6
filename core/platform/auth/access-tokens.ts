import { errors, jwtVerify, SignJWT } from 'jose';
import { Unauthorized } from '../errors/hub-errors.ts';
import type { AuthContext } from './auth-context.ts';

const ISSUER = 'hub';
const AUDIENCE = 'hub-api';
const VERIFIED_CACHE_SIZE = 10_000;

interface TokenClaims {
  knd: AuthContext['kind'];
  cid: string | null;
  prm: string[];
  uid?: string;
  obo?: string;
}

/**
 * Short-lived HS256 access tokens carrying the caller's tenant and permissions, so every process
 * of the mesh can authorise without a database round trip. Revocation is by expiry (minutes);
 * disabling a user takes effect when their token runs out.
 */
export class AccessTokens {
  readonly #secret: Uint8Array;
  readonly #ttlSeconds: number;
  /**
   * Tokens already verified, until they expire: a client sends the same token on every request for
   * its lifetime, and verifying the signature again each time costs ~0.1 ms of CPU. The token
   * string is the key, so a different (or tampered) token is always verified in full. Bounded:
   * cleared whole when full, which only costs re-verification.
   */
  readonly #verified = new Map<string, { auth: AuthContext; expiresAtMs: number }>();

  constructor(secret: Uint8Array, ttlSeconds: number) {
    this.#secret = secret;
    this.#ttlSeconds = ttlSeconds;
  }

  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  async issue(auth: AuthContext): Promise<string> {
    const claims: TokenClaims = { knd: auth.kind, cid: auth.companyId, prm: auth.permissions };
    if (auth.unitId) claims.uid = auth.unitId;
    if (auth.onBehalfOf) claims.obo = auth.onBehalfOf.staffUserId;
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(auth.principalId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.#ttlSeconds}s`)
      .sign(this.#secret);
  }

  async verify(token: string): Promise<AuthContext> {
    const cached = this.#verified.get(token);
    if (cached) {
      if (cached.expiresAtMs > Date.now()) return cached.auth;
      this.#verified.delete(token);
      throw new Unauthorized('Access token expired');
    }
    const { context, expiresAtMs } = await this.#verifySignature(token);
    if (expiresAtMs > 0) {
      if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear();
      this.#verified.set(token, { auth: context, expiresAtMs });
    }
    return context;
  }

  async #verifySignature(token: string): Promise<{ context: AuthContext; expiresAtMs: number }> {
    try {
      const { payload } = await jwtVerify<TokenClaims>(token, this.#secret, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      });
      if (
        !payload.sub ||
        !['staff', 'buyer', 'system'].includes(payload.knd) ||
        !Array.isArray(payload.prm)
      ) {
        throw new Unauthorized('Malformed access token');
      }
      const context: AuthContext = {
        kind: payload.knd,
        principalId: payload.sub,
        companyId: payload.cid ?? null,
        permissions: payload.prm,
        unitId: payload.uid ?? null,
        onBehalfOf: payload.obo ? { staffUserId: payload.obo } : undefined,
      };
      // jwtVerify refuses a token without exp only if asked; ours always carry one.
      return { context: Object.freeze(context), expiresAtMs: (payload.exp ?? 0) * 1000 };
    } catch (error) {
      if (error instanceof Unauthorized) throw error;
      if (error instanceof errors.JWTExpired) throw new Unauthorized('Access token expired');
      throw new Unauthorized('Invalid access token');
    }
  }
}
