import type { ServiceSchema } from 'moleculer';
import type { HubModule } from '../hub-module.ts';
import type { Platform } from '../platform.ts';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.ts';

/**
 * The relay as a service: running it in several processes is safe (each row is published by one
 * relay at a time), so a cluster may start it wherever it likes; one instance is enough.
 *
 * Events go out with `broker.emit`: balanced, each subscribing service gets the event once (one of
 * its instances). They are notifications, not durable: a service that is down when an event is
 * emitted misses it. Work that must happen belongs in a job (an outbox job row).
 */
export function outboxService(platform: Platform, options: Partial<OutboxRelayOptions> = {}): ServiceSchema {
  let relay: OutboxRelay | undefined;
  // No DATABASE_URL = the embedded PGlite: transactions there block other connections, and
  // notifications do not reach other connections, so lease claims and polling (see outbox-relay.ts).
  const embedded = !platform.config.databaseUrl;
  return {
    name: 'outbox',
    async started() {
      const broker = this.broker;
      relay = new OutboxRelay({
        db: platform.db,
        jobs: platform.jobs,
        logger: platform.logger.child({ service: 'outbox' }),
        claimMode: embedded ? 'lease' : 'transaction',
        listen: !embedded,
        publish: (event) => broker.emit(event.name, event),
        ...options,
      });
      relay.start();
    },
    async stopped() {
      await relay?.stop();
      relay = undefined;
    },
  };
}

export const outboxModule: HubModule = {
  name: 'outbox',
  description: 'Outbox relay: publishes committed outbox rows as Moleculer events and BullMQ jobs',
  // Its tables (platform.outbox, platform.consumed_events) are platform migrations, applied by every process.
  service: (platform: Platform) => outboxService(platform),
};
