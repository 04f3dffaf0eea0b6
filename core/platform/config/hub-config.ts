import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * How one hub process is configured. Everything comes from the environment so a process in a
 * cluster is described by its env alone; nothing here reads request input.
 *
 * Unset DATABASE_URL / REDIS_URL / NATS_URL mean "embedded": PGlite on disk under `dataDir`,
 * BullMQ on that same PostgreSQL, Moleculer without a transporter.
 */
export interface HubConfig {
  /** Where embedded data and generated local secrets live (default `var/`). */
  dataDir: string;
  /** Real PostgreSQL; unset = embedded PGlite served on loopback. */
  databaseUrl: string | undefined;
  /** Real Redis for BullMQ; unset = BullMQ's PostgreSQL backend on the hub database. */
  redisUrl: string | undefined;
  /** NATS servers for the Moleculer transporter (comma-separated); unset = no transporter. */
  natsUrl: string | undefined;
  /** Services this process runs; `undefined` = all. */
  services: string[] | undefined;
  /** Moleculer node id; defaults to hostname-pid. */
  nodeId: string | undefined;
  /** Mesh namespace: processes only see peers in the same namespace. */
  namespace: string;
  httpHost: string;
  httpPort: number;
  /** HMAC secret for access tokens (HS256). */
  jwtSecret: Uint8Array;
  /** Access token lifetime in seconds. */
  accessTokenTtlSeconds: number;
  /** 32-byte key that encrypts secrets at rest (AES-256-GCM). */
  masterKey: Buffer;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** Seconds to wait for each external server at start-up before giving up. */
  connectTimeoutSeconds: number;
  /** Where files live (`file:///dir` or `s3://bucket/prefix?endpoint=...`); unset = `<dataDir>/storage`. */
  storageUrl: string | undefined;
  /** Node-RED embedded in the gateway at `/flows` (see `flows/README.md`). */
  flows: FlowsConfig;
}

export interface FlowsConfig {
  /** `HUB_FLOWS=off` leaves Node-RED out of the gateway; on by default. */
  enabled: boolean;
  /** Node-RED's `userDir` (flows file, credentials file): `HUB_FLOWS_USER_DIR`, default `<dataDir>/flows`. */
  userDir: string;
  /**
   * Encrypts the credentials file: `HUB_FLOWS_CREDENTIAL_SECRET`, or else derived (HKDF-SHA256) from
   * `HUB_MASTER_KEY`, which a clustered deployment must set, so no process runs with a made-up key.
   */
  credentialSecret: string;
  /** The flow library deployed at start: `HUB_FLOWS_LIBRARY_DIR`, default the repository's `flows/library`. */
  libraryDir: string | undefined;
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export class ConfigError extends Error {}

function readNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigError(`${name}=${raw} is not a non-negative number`);
  return value;
}

/**
 * A secret taken from the environment, or, on the embedded default only, generated once and kept
 * in `dataDir` so tokens and encrypted credentials survive a restart. A clustered deployment
 * (any real server configured) must pass the secret explicitly: two processes generating their
 * own would not understand each other's tokens.
 */
function readSecret(env: Env, name: string, dataDir: string, embedded: boolean): Buffer {
  const raw = env[name];
  if (raw) {
    const decoded = Buffer.from(raw, 'base64');
    if (decoded.length < 32) throw new ConfigError(`${name} must be at least 32 bytes, base64-encoded`);
    return decoded;
  }
  if (!embedded) {
    throw new ConfigError(
      `${name} is not set; with DATABASE_URL, REDIS_URL or NATS_URL configured every process must share it ` +
        `(generate one with: openssl rand -base64 32)`,
    );
  }
  const file = path.join(dataDir, 'secrets', name.toLowerCase());
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('base64'), { mode: 0o600 });
  return secret;
}

function readStorageUrl(env: Env): string | undefined {
  const raw = env.HUB_STORAGE_URL || undefined;
  if (raw === undefined) return undefined;
  if (!URL.canParse(raw) || !['file:', 's3:'].includes(new URL(raw).protocol)) {
    throw new ConfigError(
      `HUB_STORAGE_URL=${raw} must be file:///<dir> or s3://<bucket>/<prefix>?endpoint=...`,
    );
  }
  return raw;
}

function readFlowsConfig(env: Env, dataDir: string, masterKey: Buffer): FlowsConfig {
  const switchValue = (env.HUB_FLOWS || 'on').toLowerCase();
  if (!['on', 'off'].includes(switchValue))
    throw new ConfigError(`HUB_FLOWS=${env.HUB_FLOWS} is not on or off`);
  const explicitSecret = env.HUB_FLOWS_CREDENTIAL_SECRET || undefined;
  if (explicitSecret !== undefined && explicitSecret.length < 32)
    throw new ConfigError('HUB_FLOWS_CREDENTIAL_SECRET must be at least 32 characters');
  return {
    enabled: switchValue === 'on',
    userDir: path.resolve(env.HUB_FLOWS_USER_DIR || path.join(dataDir, 'flows')),
    libraryDir: env.HUB_FLOWS_LIBRARY_DIR ? path.resolve(env.HUB_FLOWS_LIBRARY_DIR) : undefined,
    credentialSecret:
      explicitSecret ??
      Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'hub flows credentials', 32)).toString(
        'base64',
      ),
  };
}

export function loadHubConfig(env: Env = process.env): HubConfig {
  const dataDir = path.resolve(env.HUB_DATA_DIR || 'var');
  const databaseUrl = env.DATABASE_URL || undefined;
  const redisUrl = env.REDIS_URL || undefined;
  const natsUrl = env.NATS_URL || undefined;
  const embedded = !databaseUrl && !redisUrl && !natsUrl;
  const services = env.HUB_SERVICES
    ? env.HUB_SERVICES.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
  const logLevel = (env.LOG_LEVEL || 'info') as HubConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`LOG_LEVEL=${logLevel} is not one of ${LOG_LEVELS.join(', ')}`);
  const masterKey = readSecret(env, 'HUB_MASTER_KEY', dataDir, embedded).subarray(0, 32);
  return {
    dataDir,
    databaseUrl,
    redisUrl,
    natsUrl,
    services,
    nodeId: env.HUB_NODE_ID || undefined,
    namespace: env.HUB_NAMESPACE || 'hub',
    httpHost: env.HOST || '0.0.0.0',
    httpPort: readNumber(env, 'PORT', 3000),
    jwtSecret: readSecret(env, 'HUB_JWT_SECRET', dataDir, embedded),
    accessTokenTtlSeconds: readNumber(env, 'HUB_ACCESS_TOKEN_TTL', 900),
    masterKey,
    logLevel,
    connectTimeoutSeconds: readNumber(env, 'HUB_CONNECT_TIMEOUT', 5),
    storageUrl: readStorageUrl(env),
    flows: readFlowsConfig(env, dataDir, masterKey),
  };
}
