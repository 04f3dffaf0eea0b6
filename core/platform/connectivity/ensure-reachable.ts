import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { connect as connectNats } from 'nats';
import pg from 'pg';

/** A start-up failure that should end the process with one readable line, not a stack trace. */
export class StartupError extends Error {}

/** Hides the password of a URL before it is printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}

function describe(error: unknown): string {
  const err = error as { code?: string; message?: string };
  return err.code ?? err.message ?? String(error);
}

async function withTimeout<T>(work: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${seconds}s`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function ensurePostgresReachable(url: string, timeoutSeconds: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutSeconds * 1000 });
  client.on('error', () => {});
  try {
    await withTimeout(
      client.connect().then(() => client.query('SELECT 1')),
      timeoutSeconds,
    );
  } catch (error) {
    throw new StartupError(
      `Cannot reach PostgreSQL at ${redactUrl(url)} (DATABASE_URL): ${describe(error)}. ` +
        'Start the server or fix DATABASE_URL; unset it to use the embedded database.',
    );
  } finally {
    await client.end().catch(() => {});
  }
}

export async function ensureRedisReachable(url: string, timeoutSeconds: number): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutSeconds * 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await withTimeout(
      redis.connect().then(() => redis.ping()),
      timeoutSeconds,
    );
  } catch (error) {
    throw new StartupError(
      `Cannot reach Redis at ${redactUrl(url)} (REDIS_URL): ${describe(error)}. ` +
        'Start the server or fix REDIS_URL; unset it to keep jobs in PostgreSQL.',
    );
  } finally {
    redis.disconnect();
  }
}

export async function ensureNatsReachable(servers: string, timeoutSeconds: number): Promise<void> {
  try {
    const nc = await withTimeout(
      connectNats({ servers: servers.split(','), timeout: timeoutSeconds * 1000, reconnect: false }),
      timeoutSeconds + 1,
    );
    await nc.close();
  } catch (error) {
    throw new StartupError(
      `Cannot reach NATS at ${servers.split(',').map(redactUrl).join(', ')} (NATS_URL): ${describe(error)}. ` +
        'Start the server or fix NATS_URL; unset it to run all services in this one process.',
    );
  }
}

/**
 * Fails start-up with one line when the HTTP port is taken. Checked before the broker starts:
 * moleculer-web would otherwise log a fatal line and exit the process from inside the broker.
 */
export async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, () => resolve());
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new StartupError(
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use (PORT); stop the other process or set PORT to a free port`
        : `cannot listen on ${host}:${port} (HOST, PORT): ${describe(error)}`,
    );
  } finally {
    await new Promise((resolve) => probe.close(resolve));
  }
}
