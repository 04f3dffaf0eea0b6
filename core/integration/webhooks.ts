import type { ActionSchema, Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { HubError, NotFound, PayloadTooLarge } from '../platform/errors/hub-errors.ts';
import { forwardedHeadersOf } from '../platform/http/request-headers.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { uploadOf } from '../platform/http/uploads.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import type { Platform } from '../platform/platform.ts';
import type { SecretBox } from '../platform/secrets/secret-box.ts';
import { findConnection, openConnection } from './connections.ts';
import type { ConnectorRegistry } from './connector-registry.ts';
import { queueOf, SYNC_ATTEMPTS } from './sync-engine.ts';

/** The largest webhook body stored (bigger ones are refused with 413 before anything is kept). */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

const WEBHOOK_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'application/xml',
  'text/xml',
  'text/plain',
];

async function readBounded(stream: NodeJS.ReadableStream, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) throw new PayloadTooLarge(maxBytes);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** Data of a webhook job: the stored delivery's id (the body stays in the database). */
export interface WebhookJob {
  connectionId: string;
  deliveryId: string;
  eventId: string;
}

/**
 * Webhook intake at `/hooks/<connection id>`: the connector's verifier checks the signature over
 * the raw body (wrong → 401, nothing stored); the body is stored and a processing job written in
 * one transaction, then 202 is answered at once. A repeated sender event id is answered 202 and
 * stored once. Processing (`processWebhook`) runs on the connector's inbound queue and announces
 * `integration.webhook_received` (ids only) through the outbox; the domain or flow that owns the
 * event reads the raw body with `integration.internal.webhookDelivery`.
 */
export function webhookActions(context: {
  platform: Platform;
  box: SecretBox;
  registry: ConnectorRegistry;
}): Record<string, ActionSchema> {
  const { platform, box, registry } = context;
  const { db } = platform;
  return {
    'hooks.receive': {
      params: schemaRef('api/common/id-params'),
      async handler(ctx: Context<{ id: string }>) {
        const body = await readBounded(uploadOf(ctx).stream, MAX_WEBHOOK_BYTES);
        const connection = await findConnection(db, ctx.params.id);
        const verifier = connection && registry.verifier(connection.connectorId);
        if (!connection?.enabled || !verifier) throw new NotFound('Webhook endpoint');
        const open = await openConnection(db, box, connection.id);
        const eventId = verifier.verify({
          body,
          headers: forwardedHeadersOf(ctx),
          credentials: open.credentials,
          config: open.config,
        });
        if (!eventId || eventId.length > 200) {
          platform.logger.warn({ connectionId: connection.id }, 'webhook refused: wrong signature');
          throw new HubError(401, 'invalid-signature', 'The webhook signature does not match');
        }
        return db.transaction(async (tx) => {
          const { rows } = await tx.query(
            `INSERT INTO integration.webhook_deliveries (connection_id, event_id, body) VALUES ($1, $2, $3)
             ON CONFLICT (connection_id, event_id) DO NOTHING RETURNING id`,
            [connection.id, eventId, body],
          );
          const deliveryId = rows[0]?.id as string | undefined;
          if (deliveryId) {
            const data: WebhookJob = { connectionId: connection.id, deliveryId, eventId };
            await writeOutbox(tx, [
              {
                kind: 'job',
                job: {
                  queue: queueOf(connection.connectorId, 'inbound'),
                  name: 'process-webhook',
                  key: `webhook:${connection.id}:${eventId}`,
                  data,
                  attempts: SYNC_ATTEMPTS,
                },
              },
            ]);
          }
          return { received: true, duplicate: !deliveryId, eventId };
        });
      },
    },

    /** Mesh-only: one stored delivery, its raw body as base64. */
    'internal.webhookDelivery': {
      visibility: 'public' as const,
      params: schemaRef('api/common/id-params'),
      async handler(ctx: Context<{ id: string }>) {
        const { rows } = await db.query(
          `SELECT id, connection_id, event_id, body, received_at, processed_at
             FROM integration.webhook_deliveries WHERE id = $1`,
          [ctx.params.id],
        );
        const row = rows[0];
        if (!row) throw new NotFound('Webhook delivery');
        return {
          id: row.id,
          connectionId: row.connection_id,
          eventId: row.event_id,
          body: (row.body as Buffer).toString('base64'),
          receivedAt: (row.received_at as Date).toISOString(),
          processedAt: row.processed_at ? (row.processed_at as Date).toISOString() : null,
        };
      },
    },
  };
}

/** Processes one stored delivery once: marks it and announces it in the same transaction. */
export async function processWebhook(platform: Platform, job: WebhookJob): Promise<{ processed: boolean }> {
  return platform.db.transaction(async (tx) => {
    const { rows } = await tx.query(
      `UPDATE integration.webhook_deliveries SET processed_at = now()
        WHERE id = $1 AND processed_at IS NULL
        RETURNING connection_id, event_id, octet_length(body) AS bytes, received_at`,
      [job.deliveryId],
    );
    const row = rows[0];
    if (!row) return { processed: false };
    await writeOutbox(tx, [
      {
        kind: 'event',
        name: 'integration.webhook_received',
        payload: {
          connectionId: row.connection_id,
          deliveryId: job.deliveryId,
          eventId: row.event_id,
          receivedAt: (row.received_at as Date).toISOString(),
          bytes: row.bytes,
        },
      },
    ]);
    return { processed: true };
  });
}

export function webhookRoutes(registry: ConnectorRegistry): RouteSpec[] {
  return [
    {
      method: 'POST',
      path: '/hooks/:id',
      action: 'integration.hooks.receive',
      operationId: 'receiveWebhook',
      tag: 'integration',
      summary:
        'A remote system’s webhook for one connection (public; the connector’s signature check is the authentication; stored, then 202; a repeated event id counts once)',
      audience: 'public',
      paramsSchema: 'api/common/id-params',
      upload: { contentTypes: WEBHOOK_TYPES, maxBytes: MAX_WEBHOOK_BYTES },
      forwardHeaders: registry.webhookHeaders(),
      successStatus: 202,
    },
  ];
}
