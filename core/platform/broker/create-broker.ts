import os from 'node:os';
import moleculer, { type BrokerOptions, type Middleware } from 'moleculer';
import type { HubConfig } from '../config/hub-config.ts';
import { createSchemaValidator } from '../validation/schema-validator.ts';

/**
 * The Moleculer broker of one hub process. With NATS_URL it joins the mesh (every process in the
 * same namespace sees every other's services); without it, calls stay in-process.
 */
export function createBroker(config: HubConfig, middlewares: Middleware[] = []): moleculer.ServiceBroker {
  const options: BrokerOptions = {
    namespace: config.namespace,
    nodeID: config.nodeId ?? `${os.hostname()}-${process.pid}`,
    transporter: config.natsUrl
      ? { type: 'NATS', options: { url: config.natsUrl, maxReconnectAttempts: -1 } }
      : null,
    logger: {
      type: 'Pino',
      options: {
        level: config.logLevel,
        pino: { options: { base: undefined, timestamp: () => `,"time":"${new Date().toISOString()}"` } },
      },
    },
    // A remote service that disappears mid-call is retried on another node for idempotent reads
    // only; writes carry their own idempotency and are never silently repeated by the mesh.
    requestTimeout: 30_000,
    heartbeatInterval: 5,
    heartbeatTimeout: 15,
    registry: { strategy: 'RoundRobin', preferLocal: true },
    validator: createSchemaValidator(),
    middlewares,
    metrics: false,
    tracing: false,
  };
  return new moleculer.ServiceBroker(options);
}
