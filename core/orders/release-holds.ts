import type { Context } from 'moleculer';
import type { Logger } from 'pino';

/**
 * A cancelled order gives back what it held: its stock reservation (inventory) and its credit
 * hold or captured purchase (credit), both idempotent per reference and no-ops when nothing is
 * held. Called after the cancellation committed; a failure is logged and the checkout saga's
 * compensation (core/workflows, on `order.cancelled`) releases again.
 */
export async function releaseHolds(ctx: Context, orderId: string, logger: Logger): Promise<void> {
  const reference = `order:${orderId}`;
  const results = await Promise.allSettled([
    ctx.call('inventory.internal.release', { reference }),
    ctx.call('credit.internal.release', { reference }),
  ]);
  for (const result of results) {
    if (result.status === 'rejected') {
      logger.warn({ err: result.reason, orderId }, 'releasing a cancelled order’s holds failed');
    }
  }
}
