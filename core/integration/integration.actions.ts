import { randomUUID } from 'node:crypto';
import type { ActionSchema, Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { type AuthContext, authOf, hasPermission, originOf } from '../platform/auth/auth-context.ts';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';
import type { SecretBox } from '../platform/secrets/secret-box.ts';
import {
  type ConnectionSync,
  insertConnection,
  listConnections,
  openConnection,
  recordCheck,
  requireConnection,
  updateConnection,
} from './connections.ts';
import { callConnector, toSyncFailure } from './connector-calls.ts';
import type { ConnectorRegistry } from './connector-registry.ts';
import { findFailure, listFailures, takeForReplay } from './failed-items.ts';
import { link, resolveLink } from './links.ts';
import { categoryOf, type SyncEngine } from './sync-engine.ts';

export const MANAGE = 'integrations.manage';
const TAG = 'integration';
const STAFF = '/api/staff/integrations';

/** A staff member holding `integrations.manage`; buyers and company API keys are refused. */
function requireIntegrationStaff(ctx: Context): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  if (!hasPermission(auth, MANAGE)) throw new Forbidden(`Missing permission ${MANAGE}`);
  return auth;
}

export interface IntegrationContext {
  platform: Platform;
  box: SecretBox;
  registry: ConnectorRegistry;
  engine: SyncEngine;
}

interface CreateParams {
  connectorId: string;
  name: string;
  config: Record<string, unknown>;
  credentials: Record<string, unknown>;
  sync?: ConnectionSync;
}

interface UpdateParams {
  id: string;
  name?: string;
  config?: Record<string, unknown>;
  credentials?: Record<string, unknown>;
  sync?: ConnectionSync;
  enabled?: boolean;
}

export function integrationActions({
  platform,
  box,
  registry,
  engine,
}: IntegrationContext): Record<string, ActionSchema> {
  const { db } = platform;

  function connectorOf(connectorId: string, pointer: string) {
    const entry = registry.get(connectorId);
    if (!entry) {
      throw new ValidationFailed([
        {
          pointer,
          detail: `is not an installed connector (installed: ${registry.ids().join(', ') || 'none'})`,
        },
      ]);
    }
    return entry;
  }

  function checkSettings(
    connectorId: string,
    config: Record<string, unknown>,
    credentials: Record<string, unknown>,
  ) {
    const errors = connectorOf(connectorId, '/connectorId').errors(config, credentials);
    if (errors.length > 0) throw new ValidationFailed(errors);
  }

  function checkSync(connectorId: string, sync: ConnectionSync | undefined) {
    const { manifest } = connectorOf(connectorId, '/connectorId');
    const operations = new Set((manifest.capabilities.operations ?? []).map((o) => o.name));
    const streams = new Set((manifest.capabilities.streams ?? []).map((s) => s.name));
    const errors = [
      ...(sync?.outbound ?? []).flatMap((rule, index) =>
        operations.has(rule.operation)
          ? []
          : [
              {
                pointer: `/sync/outbound/${index}/operation`,
                detail: `${connectorId} has no such operation`,
              },
            ],
      ),
      ...(sync?.inbound ?? []).flatMap((rule, index) =>
        streams.has(rule.stream)
          ? []
          : [{ pointer: `/sync/inbound/${index}/stream`, detail: `${connectorId} has no such stream` }],
      ),
    ];
    if (errors.length > 0) throw new ValidationFailed(errors);
  }

  async function unique<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw new Conflict('A connection of that name exists');
      throw error;
    }
  }

  return {
    'connections.create': {
      params: schemaRef('api/integration/create-connection-request'),
      async handler(ctx: Context<CreateParams>) {
        const auth = requireIntegrationStaff(ctx);
        const { connectorId, name, credentials } = ctx.params;
        const config = { ...ctx.params.config };
        checkSettings(connectorId, config, credentials);
        checkSync(connectorId, ctx.params.sync);
        return unique(() =>
          db.transaction(async (tx) => {
            const connection = await insertConnection(tx, box, {
              id: randomUUID(),
              connectorId,
              name,
              config,
              credentials,
              sync: ctx.params.sync ?? {},
            });
            await recordAudit(tx, auth, originOf(ctx), {
              action: 'connection.created',
              entityType: 'connection',
              entityId: connection.id,
              companyId: null,
              details: { connectorId, name, config, credentialFields: connection.credentialFields },
            });
            return connection;
          }),
        );
      },
    },

    'connections.list': {
      params: schemaRef('api/common/empty-params'),
      async handler(ctx: Context) {
        requireIntegrationStaff(ctx);
        return { items: await listConnections(db) };
      },
    },

    'connections.get': {
      params: schemaRef('api/common/id-params'),
      async handler(ctx: Context<{ id: string }>) {
        requireIntegrationStaff(ctx);
        return requireConnection(db, ctx.params.id);
      },
    },

    'connections.update': {
      params: schemaRef('api/integration/update-connection-params'),
      async handler(ctx: Context<UpdateParams>) {
        const auth = requireIntegrationStaff(ctx);
        const { id, ...changes } = ctx.params;
        return unique(() =>
          db.transaction(async (tx) => {
            const before = await requireConnection(tx, id, { lock: true });
            const current = await openConnection(tx, box, id);
            const config = changes.config ? { ...changes.config } : { ...before.config };
            checkSettings(before.connectorId, config, changes.credentials ?? current.credentials);
            if (changes.sync) checkSync(before.connectorId, changes.sync);
            const after = await updateConnection(tx, box, id, {
              ...changes,
              ...(changes.config ? { config } : {}),
            });
            const changed = Object.keys(changes).filter((key) => key !== 'credentials');
            if (changed.length > 0) {
              await recordAudit(tx, auth, originOf(ctx), {
                action: changes.enabled === false ? 'connection.disabled' : 'connection.updated',
                entityType: 'connection',
                entityId: id,
                companyId: null,
                details: {
                  changed,
                  before: {
                    name: before.name,
                    config: before.config,
                    sync: before.sync,
                    enabled: before.enabled,
                  },
                  after: { name: after.name, config: after.config, sync: after.sync, enabled: after.enabled },
                },
              });
            }
            if (changes.credentials) {
              await recordAudit(tx, auth, originOf(ctx), {
                action: 'connection.credentials_rotated',
                entityType: 'connection',
                entityId: id,
                companyId: null,
                details: { credentialFields: after.credentialFields },
              });
            }
            return after;
          }),
        );
      },
    },

    'connections.check': {
      params: schemaRef('api/common/id-params'),
      async handler(ctx: Context<{ id: string }>) {
        requireIntegrationStaff(ctx);
        const connection = await openConnection(db, box, ctx.params.id);
        let outcome: { ok: boolean; category: string | null; message: string };
        try {
          const result = await callConnector<{ summary: string }>(ctx.broker, connection, 'check', {});
          outcome = { ok: true, category: null, message: result.summary };
        } catch (error) {
          const failure = toSyncFailure(error);
          outcome = { ok: false, category: categoryOf(failure), message: failure.message };
        }
        await recordCheck(db, connection.id, outcome);
        return outcome;
      },
    },

    'connections.pull': {
      params: schemaRef('api/integration/pull-stream-params'),
      async handler(ctx: Context<{ id: string; stream: string }>) {
        requireIntegrationStaff(ctx);
        const connection = await requireConnection(db, ctx.params.id);
        if (!connection.enabled) throw new Conflict('The connection is disabled');
        if (!(connection.sync.inbound ?? []).some((rule) => rule.stream === ctx.params.stream)) {
          throw new ValidationFailed([
            { pointer: '/stream', detail: 'the connection does not pull this stream' },
          ]);
        }
        const job = await engine.enqueuePull(connection, ctx.params.stream, `manual-${randomUUID()}`);
        return { jobId: job.id };
      },
    },

    'failures.list': {
      params: schemaRef('api/integration/failure-query'),
      async handler(ctx: Context<{ limit: number; connectionId?: string; entity?: string; status: string }>) {
        requireIntegrationStaff(ctx);
        return { items: await listFailures(db, ctx.params) };
      },
    },

    'failures.replay': {
      params: schemaRef('api/common/id-params'),
      async handler(ctx: Context<{ id: string }>) {
        const auth = requireIntegrationStaff(ctx);
        if (!(await findFailure(db, ctx.params.id))) throw new NotFound('Failed item');
        const items = await takeForReplay(db, { id: ctx.params.id });
        if (items.length === 0) throw new Conflict('The item is not failed (replayed or resolved already)');
        await recordAudit(db, auth, originOf(ctx), {
          action: 'sync_item.replayed',
          entityType: 'failed_item',
          entityId: ctx.params.id,
          companyId: null,
        });
        return engine.replay(items);
      },
    },

    'failures.replayAll': {
      params: schemaRef('api/integration/replay-failures-request'),
      async handler(ctx: Context<{ connectionId: string; entity?: string }>) {
        const auth = requireIntegrationStaff(ctx);
        await requireConnection(db, ctx.params.connectionId);
        const items = await takeForReplay(db, ctx.params);
        await recordAudit(db, auth, originOf(ctx), {
          action: 'sync_item.replayed_in_bulk',
          entityType: 'connection',
          entityId: ctx.params.connectionId,
          companyId: null,
          details: { entity: ctx.params.entity ?? null, count: items.length },
        });
        return engine.replay(items);
      },
    },

    /** Mesh-only: record a link (the mapping engine's lookups read them through `internal.resolve`). */
    'internal.link': {
      visibility: 'public' as const,
      params: schemaRef('api/integration/link-params'),
      async handler(
        ctx: Context<{ connectionId: string; entity: string; externalId: string; canonicalId: string }>,
      ) {
        await requireConnection(db, ctx.params.connectionId);
        return link(db, ctx.params);
      },
    },

    /** Mesh-only: the other side of a link, or `{ found: false }`. */
    'internal.resolve': {
      visibility: 'public' as const,
      params: schemaRef('api/integration/resolve-link-params'),
      async handler(
        ctx: Context<{ connectionId: string; entity: string; externalId?: string; canonicalId?: string }>,
      ) {
        const found = await resolveLink(db, ctx.params);
        return found
          ? { found: true, externalId: found.externalId, canonicalId: found.canonicalId }
          : { found: false };
      },
    },
  };
}

export const INTEGRATION_ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: `${STAFF}/connections`,
    action: 'integration.connections.create',
    operationId: 'createConnection',
    tag: TAG,
    summary:
      'Create a connection of an installed connector; config and credentials checked against its config schema, credentials stored encrypted and never returned (staff, integrations.manage)',
    audience: 'staff',
    requestSchema: 'api/integration/create-connection-request',
    responseSchema: 'api/integration/connection',
    successStatus: 201,
    location: `${STAFF}/connections/{id}`,
  },
  {
    method: 'GET',
    path: `${STAFF}/connections`,
    action: 'integration.connections.list',
    operationId: 'listConnections',
    tag: TAG,
    summary: 'Connections, by name (staff, integrations.manage)',
    audience: 'staff',
  },
  {
    method: 'GET',
    path: `${STAFF}/connections/:id`,
    action: 'integration.connections.get',
    operationId: 'getConnection',
    tag: TAG,
    summary: 'One connection with its last check; credential field names only (staff, integrations.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'api/integration/connection',
  },
  {
    method: 'PATCH',
    path: `${STAFF}/connections/:id`,
    action: 'integration.connections.update',
    operationId: 'updateConnection',
    tag: TAG,
    summary:
      'Change, disable or rotate the credentials of a connection (audited; staff, integrations.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/integration/update-connection-params',
    responseSchema: 'api/integration/connection',
  },
  {
    method: 'POST',
    path: `${STAFF}/connections/:id/check`,
    action: 'integration.connections.check',
    operationId: 'checkConnection',
    tag: TAG,
    summary:
      'Call the connector’s check and report why it fails (taxonomy category and message); recorded as the last check (staff, integrations.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
  {
    method: 'POST',
    path: `${STAFF}/connections/:id/pull`,
    action: 'integration.connections.pull',
    operationId: 'pullConnectionStream',
    tag: TAG,
    summary: 'Run one inbound stream of a connection now; answers the job id (staff, integrations.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/integration/pull-stream-params',
    successStatus: 202,
  },
  {
    method: 'GET',
    path: `${STAFF}/failures`,
    action: 'integration.failures.list',
    operationId: 'listSyncFailures',
    tag: TAG,
    summary:
      'Sync items that failed for good: payload, error category and message, attempts, mapping version (staff, integrations.manage)',
    audience: 'staff',
    querySchema: 'api/integration/failure-query',
  },
  {
    method: 'POST',
    path: `${STAFF}/failures/:id/replay`,
    action: 'integration.failures.replay',
    operationId: 'replaySyncFailure',
    tag: TAG,
    summary: 'Replay one failed item with the current mapping file (staff, integrations.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
  {
    method: 'POST',
    path: `${STAFF}/failures/replay`,
    action: 'integration.failures.replayAll',
    operationId: 'replaySyncFailures',
    tag: TAG,
    summary: 'Replay every failed item of a connection, or of one entity (staff, integrations.manage)',
    audience: 'staff',
    requestSchema: 'api/integration/replay-failures-request',
  },
];
