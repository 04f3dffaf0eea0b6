import type { Context } from 'moleculer';
import type { PriceTier } from '../../schemas/generated/types.ts';
import { schemaRef } from '../../schemas/index.ts';
import { type FieldError, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  type AssignmentInput,
  assignmentsOf,
  deleteAssignment,
  findAssignment,
  insertAssignment,
} from './assignments.ts';
import { companyExists, lookUpSkus } from './catalog-lookup.ts';
import {
  bumpVersion,
  deletePriceList,
  findPriceList,
  insertPriceList,
  listPriceLists,
  lockPriceList,
  type PriceListChanges,
  type PriceListInput,
  updatePriceList,
} from './price-lists.ts';
import { checkEntries, listEntries, type PriceEntryInput, replaceEntries } from './prices.ts';
import {
  audit,
  cursorOf,
  type PricingArea,
  type PricingContext,
  page,
  requirePricingStaff,
  TAG,
} from './pricing-area.ts';
import { priceListChanged } from './pricing-events.ts';

interface UpsertParams {
  id: string;
  prices: Array<{ skuId?: string; skuCode?: string; unit?: string; tiers: PriceTier[] }>;
}

/** How many SKU ids an audit record of a bulk upsert names (the count is always there). */
const AUDITED_SKUS = 50;

/** Staff manage price lists, their assignments and their prices (pricing.manage; reads pricing.read). */
export function priceListsArea({ platform, caches }: PricingContext): PricingArea {
  const { db } = platform;
  /** After a commit: this node forgets candidate lists now; others on the event. */
  const committed = <T>(value: T): T => {
    caches.lists.clear();
    return value;
  };
  return {
    actions: {
      'priceLists.list': {
        params: schemaRef('api/pricing/price-list-query'),
        async handler(ctx: Context<{ limit: number; cursor?: string; currency?: string; active?: boolean }>) {
          requirePricingStaff(ctx, 'read');
          const { limit, currency, active } = ctx.params;
          return page(
            await listPriceLists(db, { limit, after: cursorOf(ctx.params), currency, active }),
            limit,
          );
        },
      },

      'priceLists.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requirePricingStaff(ctx, 'read');
          const list = await findPriceList(db, ctx.params.id);
          if (!list) throw new NotFound('Price list');
          return list;
        },
      },

      'priceLists.create': {
        params: schemaRef('api/pricing/create-price-list-request'),
        async handler(ctx: Context<PriceListInput>) {
          const auth = requirePricingStaff(ctx);
          return committed(
            await db.transaction(async (tx) => {
              const list = await insertPriceList(tx, ctx.params);
              await priceListChanged(ctx, tx, {
                priceListId: list.id,
                code: list.code,
                change: 'created',
                version: 1,
              });
              await audit(ctx, tx, auth, {
                action: 'price_list.created',
                entityType: 'price_list',
                entityId: list.id,
                details: { priceList: list },
              });
              return list;
            }),
          );
        },
      },

      'priceLists.update': {
        params: schemaRef('api/pricing/update-price-list-params'),
        async handler(ctx: Context<PriceListChanges & { id: string }>) {
          const auth = requirePricingStaff(ctx);
          const { id, ...changes } = ctx.params;
          return committed(
            await db.transaction(async (tx) => {
              const before = await lockPriceList(tx, id);
              const list = await updatePriceList(tx, id, changes);
              await priceListChanged(ctx, tx, {
                priceListId: id,
                code: list.code,
                change: 'updated',
                version: list.version,
              });
              await audit(ctx, tx, auth, {
                action: 'price_list.updated',
                entityType: 'price_list',
                entityId: id,
                details: { before, after: list },
              });
              return list;
            }),
          );
        },
      },

      'priceLists.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requirePricingStaff(ctx);
          return committed(
            await db.transaction(async (tx) => {
              const assignments = await assignmentsOf(tx, ctx.params.id);
              const list = await deletePriceList(tx, ctx.params.id);
              await priceListChanged(ctx, tx, { priceListId: list.id, code: list.code, change: 'deleted' });
              await audit(ctx, tx, auth, {
                action: 'price_list.deleted',
                entityType: 'price_list',
                entityId: list.id,
                details: { priceList: list, assignments },
              });
              return { id: list.id, deleted: true };
            }),
          );
        },
      },

      'priceLists.assignments': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requirePricingStaff(ctx, 'read');
          if (!(await findPriceList(db, ctx.params.id))) throw new NotFound('Price list');
          return { items: await assignmentsOf(db, ctx.params.id) };
        },
      },

      'priceLists.assignment': {
        params: schemaRef('api/pricing/assignment-ref-params'),
        async handler(ctx: Context<{ id: string; assignmentId: string }>) {
          requirePricingStaff(ctx, 'read');
          const found = await findAssignment(db, ctx.params.id, ctx.params.assignmentId);
          if (!found) throw new NotFound('Assignment');
          return found;
        },
      },

      'priceLists.assign': {
        params: schemaRef('api/pricing/create-assignment-params'),
        async handler(ctx: Context<AssignmentInput & { id: string }>) {
          const auth = requirePricingStaff(ctx);
          const { id, ...input } = ctx.params;
          if (input.companyId && !(await companyExists(ctx, input.companyId))) {
            throw new ValidationFailed([{ pointer: '/companyId', detail: 'no such company' }]);
          }
          return committed(
            await db.transaction(async (tx) => {
              const list = await lockPriceList(tx, id);
              const assignment = await insertAssignment(tx, id, input);
              const version = await bumpVersion(tx, id);
              await priceListChanged(
                ctx,
                tx,
                { priceListId: id, code: list.code, change: 'assignments', version },
                assignment.companyId,
              );
              await audit(ctx, tx, auth, {
                action: 'price_list.assigned',
                entityType: 'price_list',
                entityId: id,
                details: { assignment },
              });
              return assignment;
            }),
          );
        },
      },

      'priceLists.unassign': {
        params: schemaRef('api/pricing/assignment-ref-params'),
        async handler(ctx: Context<{ id: string; assignmentId: string }>) {
          const auth = requirePricingStaff(ctx);
          return committed(
            await db.transaction(async (tx) => {
              const list = await lockPriceList(tx, ctx.params.id);
              const assignment = await deleteAssignment(tx, ctx.params.id, ctx.params.assignmentId);
              const version = await bumpVersion(tx, list.id);
              await priceListChanged(
                ctx,
                tx,
                { priceListId: list.id, code: list.code, change: 'assignments', version },
                assignment.companyId,
              );
              await audit(ctx, tx, auth, {
                action: 'price_list.unassigned',
                entityType: 'price_list',
                entityId: list.id,
                details: { assignment },
              });
              return { id: assignment.id, deleted: true };
            }),
          );
        },
      },

      'priceLists.prices': {
        params: schemaRef('api/pricing/price-entries-query'),
        async handler(ctx: Context<{ id: string; skuId?: string; limit: number; cursor?: string }>) {
          requirePricingStaff(ctx, 'read');
          const { id, skuId, limit, cursor } = ctx.params;
          if (!(await findPriceList(db, id))) throw new NotFound('Price list');
          let after: { skuId: string; unit: string } | undefined;
          if (cursor !== undefined) {
            const match = /^([0-9a-f-]{36})~(.{1,20})$/i.exec(cursor);
            if (!match)
              throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
            after = { skuId: match[1]!, unit: match[2]! };
          }
          const items = await listEntries(db, id, { skuId, after, limit });
          const last = items[items.length - 1];
          return { items, nextCursor: items.length === limit && last ? `${last.skuId}~${last.unit}` : null };
        },
      },

      'priceLists.upsertPrices': {
        params: schemaRef('api/pricing/upsert-prices-params'),
        async handler(ctx: Context<UpsertParams>) {
          const auth = requirePricingStaff(ctx);
          const { id, prices } = ctx.params;
          const skus = await lookUpSkus(ctx, {
            skuIds: prices.flatMap((p) => (p.skuId ? [p.skuId] : [])),
            codes: prices.flatMap((p) => (p.skuCode ? [p.skuCode] : [])),
          });
          const problems: FieldError[] = [];
          const entries: PriceEntryInput[] = [];
          prices.forEach((price, i) => {
            const sku = price.skuId ? skus.byId.get(price.skuId) : skus.byCode.get(price.skuCode!);
            if (!sku) {
              problems.push({
                pointer: `/prices/${i}/${price.skuId ? 'skuId' : 'skuCode'}`,
                detail: 'no such SKU',
              });
              return;
            }
            entries.push({ skuId: sku.skuId, unit: price.unit ?? sku.unitOfMeasure, tiers: price.tiers });
          });
          if (problems.length) throw new ValidationFailed(problems.slice(0, 20), 'Some SKUs do not exist');
          return committed(
            await db.transaction(async (tx) => {
              const list = await lockPriceList(tx, id);
              await checkEntries(tx, list, entries);
              const counts = await replaceEntries(tx, id, entries);
              const version = await bumpVersion(tx, id);
              const skuIds = entries.map((e) => e.skuId);
              await priceListChanged(ctx, tx, {
                priceListId: id,
                code: list.code,
                change: 'prices',
                version,
                skuIds,
              });
              await audit(ctx, tx, auth, {
                action: 'price_list.prices_upserted',
                entityType: 'price_list',
                entityId: id,
                details: { ...counts, version, skuIds: skuIds.slice(0, AUDITED_SKUS) },
              });
              return { ...counts, version };
            }),
          );
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/staff/pricing/price-lists';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'pricing.priceLists.list',
    operationId: 'listPriceLists',
    tag: TAG,
    summary: 'Price lists, keyset-paged (staff)',
    audience: 'staff',
    querySchema: 'api/pricing/price-list-query',
    responseSchema: 'api/pricing/price-list-list-response',
  },
  {
    method: 'POST',
    path: BASE,
    action: 'pricing.priceLists.create',
    operationId: 'createPriceList',
    tag: TAG,
    summary: 'Create a price list (staff, pricing.manage)',
    audience: 'staff',
    requestSchema: 'api/pricing/create-price-list-request',
    responseSchema: 'entities/price-list',
    successStatus: 201,
    location: `${BASE}/{id}`,
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'pricing.priceLists.get',
    operationId: 'getPriceList',
    tag: TAG,
    summary: 'One price list (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/price-list',
  },
  {
    method: 'PATCH',
    path: `${BASE}/:id`,
    action: 'pricing.priceLists.update',
    operationId: 'updatePriceList',
    tag: TAG,
    summary: 'Rename, re-prioritise, re-window or (de)activate a price list (staff, pricing.manage)',
    audience: 'staff',
    paramsSchema: 'api/pricing/update-price-list-params',
    requestSchema: 'api/pricing/update-price-list-params',
    responseSchema: 'entities/price-list',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id`,
    action: 'pricing.priceLists.delete',
    operationId: 'deletePriceList',
    tag: TAG,
    summary: 'Delete a price list with its prices and assignments (staff, pricing.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
  {
    method: 'GET',
    path: `${BASE}/:id/assignments`,
    action: 'pricing.priceLists.assignments',
    operationId: 'listPriceListAssignments',
    tag: TAG,
    summary: 'Who a price list applies to (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'api/pricing/assignment-list-response',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/assignments`,
    action: 'pricing.priceLists.assign',
    operationId: 'assignPriceList',
    tag: TAG,
    summary:
      'Assign a price list to everyone, a tier, a customer group or one company (staff, pricing.manage)',
    audience: 'staff',
    paramsSchema: 'api/pricing/create-assignment-params',
    requestSchema: 'api/pricing/create-assignment-request',
    responseSchema: 'entities/price-list-assignment',
    successStatus: 201,
    location: `${BASE}/{priceListId}/assignments/{id}`,
  },
  {
    method: 'GET',
    path: `${BASE}/:id/assignments/:assignmentId`,
    action: 'pricing.priceLists.assignment',
    operationId: 'getPriceListAssignment',
    tag: TAG,
    summary: 'One assignment of a price list (staff)',
    audience: 'staff',
    paramsSchema: 'api/pricing/assignment-ref-params',
    responseSchema: 'entities/price-list-assignment',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id/assignments/:assignmentId`,
    action: 'pricing.priceLists.unassign',
    operationId: 'unassignPriceList',
    tag: TAG,
    summary: 'Remove an assignment (staff, pricing.manage)',
    audience: 'staff',
    paramsSchema: 'api/pricing/assignment-ref-params',
  },
  {
    method: 'GET',
    path: `${BASE}/:id/prices`,
    action: 'pricing.priceLists.prices',
    operationId: 'listPriceListPrices',
    tag: TAG,
    summary: "A price list's prices per SKU and unit with their tiers, keyset-paged (staff)",
    audience: 'staff',
    querySchema: 'api/pricing/price-entries-query',
    responseSchema: 'api/pricing/price-entry-list-response',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/prices`,
    action: 'pricing.priceLists.upsertPrices',
    operationId: 'upsertPriceListPrices',
    tag: TAG,
    summary: 'Bulk upsert of up to 5,000 SKU prices with tiers; empty tiers remove (staff, pricing.manage)',
    audience: 'staff',
    paramsSchema: 'api/pricing/upsert-prices-params',
    requestSchema: 'api/pricing/upsert-prices-request',
    responseSchema: 'api/pricing/upsert-prices-response',
  },
];
