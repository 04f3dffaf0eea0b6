import type moleculer from 'moleculer';
import type { Platform } from '../platform.ts';

interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Readiness = this process can do its work: database, queue store and (if configured) NATS answer. */
export async function checkReadiness(platform: Platform, broker: moleculer.ServiceBroker) {
  const [database, queue] = await Promise.all([
    timed(() => platform.db.ping(), 2000),
    timed(() => platform.jobs.ping(), 2000),
  ]);
  const transit = (broker as unknown as { transit?: { connected: boolean } }).transit;
  const transporter: CheckResult & { kind: string } = transit
    ? { kind: 'nats', ok: transit.connected, ms: 0, ...(transit.connected ? {} : { error: 'not connected' }) }
    : { kind: 'none', ok: true, ms: 0 };
  const checks = { database, queue: { ...queue, backend: platform.jobs.backend }, transporter };
  return { status: database.ok && queue.ok && transporter.ok ? 'ready' : 'not_ready', checks };
}
