import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { companyExists } from './catalog-lookup.ts';
import {
  audit,
  cursorOf,
  type InventoryArea,
  type InventoryContext,
  page,
  requireInventoryStaff,
  STAFF_BASE,
  TAG,
} from './inventory-area.ts';
import {
  deleteWarehouse,
  findWarehouse,
  insertWarehouse,
  listWarehouses,
  lockWarehouse,
  updateWarehouse,
  type WarehouseChanges,
  type WarehouseInput,
} from './warehouses.ts';

/** Staff manage warehouses and each company's preferred warehouse (inventory.manage; reads inventory.read). */
export function warehousesArea({ platform }: InventoryContext): InventoryArea {
  const { db } = platform;
  return {
    actions: {
      'warehouses.list': {
        params: schemaRef('api/inventory/warehouse-query'),
        async handler(ctx: Context<{ limit: number; cursor?: string; active?: boolean }>) {
          requireInventoryStaff(ctx, 'read');
          const { limit, active } = ctx.params;
          return page(await listWarehouses(db, { limit, active, after: cursorOf(ctx.params) }), limit);
        },
      },

      'warehouses.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireInventoryStaff(ctx, 'read');
          const warehouse = await findWarehouse(db, ctx.params.id);
          if (!warehouse) throw new NotFound('Warehouse');
          return warehouse;
        },
      },

      'warehouses.create': {
        params: schemaRef('api/inventory/create-warehouse-request'),
        async handler(ctx: Context<WarehouseInput>) {
          const auth = requireInventoryStaff(ctx);
          return db.transaction(async (tx) => {
            const warehouse = await insertWarehouse(tx, ctx.params);
            await audit(ctx, tx, auth, {
              action: 'warehouse.created',
              entityType: 'warehouse',
              entityId: warehouse.id,
              details: { warehouse },
            });
            return warehouse;
          });
        },
      },

      'warehouses.update': {
        params: schemaRef('api/inventory/update-warehouse-params'),
        async handler(ctx: Context<WarehouseChanges & { id: string }>) {
          const auth = requireInventoryStaff(ctx);
          const { id, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            const before = await lockWarehouse(tx, id);
            const warehouse = await updateWarehouse(tx, id, changes);
            await audit(ctx, tx, auth, {
              action: 'warehouse.updated',
              entityType: 'warehouse',
              entityId: id,
              details: { before, after: warehouse },
            });
            return warehouse;
          });
        },
      },

      'warehouses.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireInventoryStaff(ctx);
          return db.transaction(async (tx) => {
            const warehouse = await deleteWarehouse(tx, ctx.params.id);
            await audit(ctx, tx, auth, {
              action: 'warehouse.deleted',
              entityType: 'warehouse',
              entityId: warehouse.id,
              details: { warehouse },
            });
            return { id: warehouse.id, deleted: true };
          });
        },
      },

      'preferences.get': {
        params: schemaRef('api/inventory/company-ref-params'),
        async handler(ctx: Context<{ companyId: string }>) {
          requireInventoryStaff(ctx, 'read');
          const { rows } = await db.query(
            'SELECT warehouse_id, updated_at FROM inventory.company_preferences WHERE company_id = $1',
            [ctx.params.companyId],
          );
          return {
            companyId: ctx.params.companyId,
            warehouseId: rows[0]?.warehouse_id ?? null,
            updatedAt: rows[0] ? (rows[0].updated_at as Date).toISOString() : null,
          };
        },
      },

      'preferences.set': {
        params: schemaRef('api/inventory/set-preferred-warehouse-params'),
        async handler(ctx: Context<{ companyId: string; warehouseId: string | null }>) {
          const auth = requireInventoryStaff(ctx);
          const { companyId, warehouseId } = ctx.params;
          if (!(await companyExists(ctx, companyId))) throw new NotFound('Company');
          return db.transaction(async (tx) => {
            if (warehouseId && !(await findWarehouse(tx, warehouseId))) {
              throw new ValidationFailed([{ pointer: '/warehouseId', detail: 'no such warehouse' }]);
            }
            const { rows: before } = await tx.query(
              'SELECT warehouse_id FROM inventory.company_preferences WHERE company_id = $1 FOR UPDATE',
              [companyId],
            );
            let updatedAt: string | null = null;
            if (warehouseId) {
              const { rows } = await tx.query(
                `INSERT INTO inventory.company_preferences (company_id, warehouse_id) VALUES ($1, $2)
                 ON CONFLICT (company_id) DO UPDATE SET warehouse_id = excluded.warehouse_id, updated_at = now()
                 RETURNING updated_at`,
                [companyId, warehouseId],
              );
              updatedAt = (rows[0]!.updated_at as Date).toISOString();
            } else {
              await tx.query('DELETE FROM inventory.company_preferences WHERE company_id = $1', [companyId]);
            }
            await audit(ctx, tx, auth, {
              action: 'inventory_preference.set',
              entityType: 'company',
              entityId: companyId,
              details: { before: before[0]?.warehouse_id ?? null, after: warehouseId },
            });
            return { companyId, warehouseId, updatedAt };
          });
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = `${STAFF_BASE}/warehouses`;

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'inventory.warehouses.list',
    operationId: 'listWarehouses',
    tag: TAG,
    summary: 'Warehouses, keyset-paged, optionally active or inactive only (staff)',
    audience: 'staff',
    querySchema: 'api/inventory/warehouse-query',
    responseSchema: 'api/inventory/warehouse-list-response',
  },
  {
    method: 'POST',
    path: BASE,
    action: 'inventory.warehouses.create',
    operationId: 'createWarehouse',
    tag: TAG,
    summary: 'Create a warehouse (staff, inventory.manage)',
    audience: 'staff',
    requestSchema: 'api/inventory/create-warehouse-request',
    responseSchema: 'entities/warehouse',
    successStatus: 201,
    location: `${BASE}/{id}`,
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'inventory.warehouses.get',
    operationId: 'getWarehouse',
    tag: TAG,
    summary: 'One warehouse (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/warehouse',
  },
  {
    method: 'PATCH',
    path: `${BASE}/:id`,
    action: 'inventory.warehouses.update',
    operationId: 'updateWarehouse',
    tag: TAG,
    summary:
      'Change a warehouse: name, region, address, priority, active, visible to buyers (staff, inventory.manage)',
    audience: 'staff',
    paramsSchema: 'api/inventory/update-warehouse-params',
    requestSchema: 'api/inventory/update-warehouse-params',
    responseSchema: 'entities/warehouse',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id`,
    action: 'inventory.warehouses.delete',
    operationId: 'deleteWarehouse',
    tag: TAG,
    summary:
      'Delete a warehouse that never held stock; 409 otherwise (deactivate it) (staff, inventory.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
  {
    method: 'GET',
    path: `${STAFF_BASE}/companies/:companyId/preferred-warehouse`,
    action: 'inventory.preferences.get',
    operationId: 'getPreferredWarehouse',
    tag: TAG,
    summary: "A company's preferred warehouse (staff)",
    audience: 'staff',
    paramsSchema: 'api/inventory/company-ref-params',
    responseSchema: 'entities/inventory-company-preference',
  },
  {
    method: 'PUT',
    path: `${STAFF_BASE}/companies/:companyId/preferred-warehouse`,
    action: 'inventory.preferences.set',
    operationId: 'setPreferredWarehouse',
    tag: TAG,
    summary: "Set or clear the warehouse a company's reservations take from first (staff, inventory.manage)",
    audience: 'staff',
    paramsSchema: 'api/inventory/set-preferred-warehouse-params',
    requestSchema: 'api/inventory/set-preferred-warehouse-request',
    responseSchema: 'entities/inventory-company-preference',
  },
];
