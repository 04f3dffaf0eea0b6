import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../platform/testing/test-servers.ts';

/** The value at percentile `p` of ascending `sorted` latencies (NaN when there are none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Runs one bench on a fresh PostgreSQL database, then (unless `embedded` is false) on the embedded
 * PGlite default in a temporary data directory, cleaning each up, and returns both sets of figures.
 */
export async function onEachBackend<T>(
  name: string,
  embedded: boolean,
  run: (env: Record<string, string>, backend: 'PostgreSQL' | 'embedded PGlite') => Promise<T[]>,
): Promise<T[]> {
  const figures: T[] = [];
  const database = await createTestDatabase();
  try {
    figures.push(...(await run({ DATABASE_URL: database.url }, 'PostgreSQL')));
  } finally {
    await database.drop();
  }
  if (embedded) {
    const dataDir = mkdtempSync(path.join(tmpdir(), `hub-bench-${name}-`));
    try {
      figures.push(...(await run({ HUB_DATA_DIR: dataDir }, 'embedded PGlite')));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return figures;
}

/**
 * The environment of a bench's own hub: fresh shared secrets, a mesh namespace of its own, an
 * ephemeral loopback port and warnings only; `env` (database, services) is laid over it.
 */
export function benchHubEnv(name: string, env: Record<string, string>): Record<string, string> {
  return {
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    HUB_NAMESPACE: `bench-${name}-${randomUUID().slice(0, 8)}`,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    ...env,
  };
}
