import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { originOf, requireBuyerCompany, requirePermission } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import type { AccountsArea, AccountsContext } from './accounts-area.ts';
import { reaches, reachOf } from './reach.ts';
import { createUnit, deleteUnit, findUnit, listUnits, moveUnit, type Unit, updateUnit } from './units.ts';

/**
 * The org tree. Everyone in the company may read it (approval rules and pickers need it); changing
 * it takes `units.manage`, at `unit_tree` only inside the caller's own subtree.
 */
export function unitsArea({ platform }: AccountsContext): AccountsArea {
  const { db } = platform;

  /** The unit if the caller may manage it; 404 otherwise (another company's id looks unknown). */
  async function manageable(
    ctx: Context,
    id: string,
    tx: Queryable = db,
  ): Promise<{ unit: Unit; companyId: string }> {
    const { auth, companyId } = requireBuyerCompany(ctx);
    const reach = await reachOf(tx, auth, 'units.manage');
    const unit = await findUnit(tx, companyId, id);
    if (!unit || !reaches(reach, unit.id)) throw new NotFound('Unit');
    return { unit, companyId };
  }

  async function audit(
    ctx: Context,
    tx: Queryable,
    action: string,
    unit: Unit,
    details: Record<string, unknown>,
  ) {
    await recordAudit(tx, requireBuyerCompany(ctx).auth, originOf(ctx), {
      action,
      entityType: 'unit',
      entityId: unit.id,
      details,
    });
    await writeOutbox(
      tx,
      [{ kind: 'event', name: action, companyId: requireBuyerCompany(ctx).companyId, payload: { unit } }],
      originOf(ctx),
    );
  }

  return {
    actions: {
      'units.list': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const { companyId } = requireBuyerCompany(ctx);
          requirePermission(ctx, 'company.read');
          return { items: await listUnits(db, companyId) };
        },
      },
      'units.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const { companyId } = requireBuyerCompany(ctx);
          requirePermission(ctx, 'company.read');
          const unit = await findUnit(db, companyId, ctx.params.id);
          if (!unit) throw new NotFound('Unit');
          return unit;
        },
      },
      'units.create': {
        params: schemaRef('api/accounts/create-unit-request'),
        async handler(
          ctx: Context<{ parentId: string; name: string; code?: string; managerUserId?: string }>,
        ) {
          return db.transaction(async (tx) => {
            const { companyId } = await manageable(ctx, ctx.params.parentId, tx);
            const unit = await createUnit(tx, companyId, ctx.params);
            await audit(ctx, tx, 'unit.created', unit, { name: unit.name, parentId: unit.parentId });
            return unit;
          });
        },
      },
      'units.update': {
        params: schemaRef('api/accounts/update-unit-params'),
        async handler(
          ctx: Context<{ id: string; name?: string; code?: string | null; managerUserId?: string | null }>,
        ) {
          return db.transaction(async (tx) => {
            const { unit: before, companyId } = await manageable(ctx, ctx.params.id, tx);
            const { id, ...changes } = ctx.params;
            const unit = await updateUnit(tx, companyId, id, changes);
            await audit(ctx, tx, 'unit.updated', unit, {
              before: { name: before.name, code: before.code, managerUserId: before.managerUserId },
              after: { name: unit.name, code: unit.code, managerUserId: unit.managerUserId },
            });
            return unit;
          });
        },
      },
      'units.move': {
        params: schemaRef('api/accounts/move-unit-params'),
        async handler(ctx: Context<{ id: string; parentId: string }>) {
          return db.transaction(async (tx) => {
            const { unit: before, companyId } = await manageable(ctx, ctx.params.id, tx);
            // The destination must be within reach too: a subtree admin cannot move units out of it.
            await manageable(ctx, ctx.params.parentId, tx);
            const unit = await moveUnit(tx, companyId, ctx.params.id, ctx.params.parentId);
            await audit(ctx, tx, 'unit.moved', unit, {
              fromParentId: before.parentId,
              toParentId: unit.parentId,
            });
            return unit;
          });
        },
      },
      'units.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          return db.transaction(async (tx) => {
            const { unit, companyId } = await manageable(ctx, ctx.params.id, tx);
            await deleteUnit(tx, companyId, unit.id);
            await audit(ctx, tx, 'unit.deleted', unit, { name: unit.name });
            return { id: unit.id, deleted: true };
          });
        },
      },
    },
    routes: [
      {
        method: 'GET',
        path: '/api/units',
        action: 'accounts.units.list',
        operationId: 'listUnits',
        tag: 'accounts',
        summary: "The caller's company org tree, parents before children",
        audience: 'buyer',
      },
      {
        method: 'GET',
        path: '/api/units/:id',
        action: 'accounts.units.get',
        operationId: 'getUnit',
        tag: 'accounts',
        summary: 'One unit of the caller’s company',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/unit',
      },
      {
        method: 'POST',
        path: '/api/units',
        action: 'accounts.units.create',
        operationId: 'createUnit',
        tag: 'accounts',
        summary: 'Add a department under a unit (units.manage)',
        audience: 'buyer',
        requestSchema: 'api/accounts/create-unit-request',
        responseSchema: 'entities/unit',
        successStatus: 201,
        location: '/api/units/{id}',
      },
      {
        method: 'PATCH',
        path: '/api/units/:id',
        action: 'accounts.units.update',
        operationId: 'updateUnit',
        tag: 'accounts',
        summary: 'Rename a unit, change its code or manager (units.manage)',
        audience: 'buyer',
        paramsSchema: 'api/accounts/update-unit-params',
        requestSchema: 'api/accounts/update-unit-params',
        responseSchema: 'entities/unit',
      },
      {
        method: 'POST',
        path: '/api/units/:id/move',
        action: 'accounts.units.move',
        operationId: 'moveUnit',
        tag: 'accounts',
        summary: 'Move a unit and its whole subtree under another unit (units.manage)',
        audience: 'buyer',
        paramsSchema: 'api/accounts/move-unit-params',
        requestSchema: 'api/accounts/move-unit-params',
        responseSchema: 'entities/unit',
      },
      {
        method: 'DELETE',
        path: '/api/units/:id',
        action: 'accounts.units.delete',
        operationId: 'deleteUnit',
        tag: 'accounts',
        summary: 'Delete an empty unit (units.manage)',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
      },
    ],
  };
}
