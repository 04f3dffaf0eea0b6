/**
 * The expiry sweep runs as BullMQ jobs through the platform's job port, once per interval for the
 * whole cluster. The port has no repeatable-job API, so the schedule is a chain of delayed jobs
 * keyed by their time slot (`inventory-sweep:<slot>`): every process running inventory enqueues
 * the next slot when it starts and whenever a sweep finishes, and the deterministic key makes the
 * copies one job. One process sweeps per slot; the others' workers stay idle. If every process
 * was down, the first to start schedules the next slot and the backlog goes in one sweep.
 *
 * The sweep itself (`expireReservations`) claims reservations with SKIP LOCKED, so even two sweeps
 * at once (different intervals configured on two nodes) release each reservation once.
 */
import type { Database } from '../platform/database/database.ts';
import type { JobQueue } from '../platform/jobs/job-queue.ts';
import { expireReservations } from './reservations.ts';

export const SWEEP_QUEUE = 'inventory-sweep';

/** Enqueues the sweep of the next slot of `intervalSeconds` after `now` (a no-op if it exists). */
export async function scheduleNextSweep(
  jobs: JobQueue,
  intervalSeconds: number,
  now = Date.now(),
): Promise<{ slot: number; created: boolean }> {
  const interval = intervalSeconds * 1000;
  const slot = Math.floor(now / interval) + 1;
  const { created } = await jobs.enqueue({
    queue: SWEEP_QUEUE,
    name: 'expire-reservations',
    key: `inventory-sweep:${intervalSeconds}:${slot}`,
    data: { slot, intervalSeconds },
    delayMs: Math.max(0, slot * interval - now),
    attempts: 3,
  });
  return { slot, created };
}

/** Starts processing sweep jobs in this process and schedules the next one. */
export async function startExpirySweep(
  platform: { db: Database; jobs: JobQueue },
  intervalSeconds: number,
  onSwept?: (expired: string[]) => void,
): Promise<void> {
  const { db, jobs } = platform;
  await jobs.process(SWEEP_QUEUE, async () => {
    try {
      const { expired } = await expireReservations(db, new Date());
      onSwept?.(expired);
      return { expired: expired.length };
    } finally {
      // Even a failed sweep keeps the chain going; the failed job is retried by the port.
      await scheduleNextSweep(jobs, intervalSeconds);
    }
  });
  await scheduleNextSweep(jobs, intervalSeconds);
}
