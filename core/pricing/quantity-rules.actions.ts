import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { companyExists, lookUpSkus, productExists } from './catalog-lookup.ts';
import {
  audit,
  cursorOf,
  type PricingArea,
  type PricingContext,
  page,
  requirePricingStaff,
  TAG,
} from './pricing-area.ts';
import { quantityRuleChanged } from './pricing-events.ts';
import {
  deleteRule,
  findRule,
  insertRule,
  listRules,
  type QuantityLimits,
  type QuantityRuleInput,
  updateRule,
} from './quantity-rules.ts';

/** Staff manage quantity rules: MOQ, maximum and increment per product or SKU, optionally per company. */
export function quantityRulesArea({ platform }: PricingContext): PricingArea {
  const { db } = platform;
  return {
    actions: {
      'quantityRules.list': {
        params: schemaRef('api/pricing/quantity-rule-query'),
        async handler(
          ctx: Context<{
            productId?: string;
            skuId?: string;
            companyId?: string;
            limit: number;
            cursor?: string;
          }>,
        ) {
          requirePricingStaff(ctx, 'read');
          const { limit, productId, skuId, companyId } = ctx.params;
          return page(
            await listRules(db, { productId, skuId, companyId, limit, after: cursorOf(ctx.params) }),
            limit,
          );
        },
      },

      'quantityRules.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requirePricingStaff(ctx, 'read');
          const rule = await findRule(db, ctx.params.id);
          if (!rule) throw new NotFound('Quantity rule');
          return rule;
        },
      },

      'quantityRules.create': {
        params: schemaRef('api/pricing/create-quantity-rule-request'),
        async handler(ctx: Context<QuantityRuleInput>) {
          const auth = requirePricingStaff(ctx);
          const input = ctx.params;
          if (
            input.skuId &&
            !(await lookUpSkus(ctx, { skuIds: [input.skuId], codes: [] })).byId.has(input.skuId)
          ) {
            throw new ValidationFailed([{ pointer: '/skuId', detail: 'no such SKU' }]);
          }
          if (input.productId && !(await productExists(ctx, input.productId))) {
            throw new ValidationFailed([{ pointer: '/productId', detail: 'no such product' }]);
          }
          if (input.companyId && !(await companyExists(ctx, input.companyId))) {
            throw new ValidationFailed([{ pointer: '/companyId', detail: 'no such company' }]);
          }
          return db.transaction(async (tx) => {
            const rule = await insertRule(tx, input);
            await quantityRuleChanged(ctx, tx, rule, 'created');
            await audit(ctx, tx, auth, {
              action: 'quantity_rule.created',
              entityType: 'quantity_rule',
              entityId: rule.id,
              details: { rule },
            });
            return rule;
          });
        },
      },

      'quantityRules.update': {
        params: schemaRef('api/pricing/update-quantity-rule-params'),
        async handler(ctx: Context<QuantityLimits & { id: string }>) {
          const auth = requirePricingStaff(ctx);
          const { id, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            const before = await findRule(tx, id);
            const rule = await updateRule(tx, id, changes);
            await quantityRuleChanged(ctx, tx, rule, 'updated');
            await audit(ctx, tx, auth, {
              action: 'quantity_rule.updated',
              entityType: 'quantity_rule',
              entityId: id,
              details: { before, after: rule },
            });
            return rule;
          });
        },
      },

      'quantityRules.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requirePricingStaff(ctx);
          return db.transaction(async (tx) => {
            const rule = await deleteRule(tx, ctx.params.id);
            await quantityRuleChanged(ctx, tx, rule, 'deleted');
            await audit(ctx, tx, auth, {
              action: 'quantity_rule.deleted',
              entityType: 'quantity_rule',
              entityId: rule.id,
              details: { rule },
            });
            return { id: rule.id, deleted: true };
          });
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/staff/pricing/quantity-rules';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'pricing.quantityRules.list',
    operationId: 'listQuantityRules',
    tag: TAG,
    summary: 'Quantity rules, keyset-paged, by product, SKU or company (staff)',
    audience: 'staff',
    querySchema: 'api/pricing/quantity-rule-query',
    responseSchema: 'api/pricing/quantity-rule-list-response',
  },
  {
    method: 'POST',
    path: BASE,
    action: 'pricing.quantityRules.create',
    operationId: 'createQuantityRule',
    tag: TAG,
    summary: 'Create a quantity rule: MOQ, maximum, increment (staff, pricing.manage)',
    audience: 'staff',
    requestSchema: 'api/pricing/create-quantity-rule-request',
    responseSchema: 'entities/pricing-quantity-rule',
    successStatus: 201,
    location: `${BASE}/{id}`,
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'pricing.quantityRules.get',
    operationId: 'getQuantityRule',
    tag: TAG,
    summary: 'One quantity rule (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/pricing-quantity-rule',
  },
  {
    method: 'PATCH',
    path: `${BASE}/:id`,
    action: 'pricing.quantityRules.update',
    operationId: 'updateQuantityRule',
    tag: TAG,
    summary: "Change a quantity rule's limits (staff, pricing.manage)",
    audience: 'staff',
    paramsSchema: 'api/pricing/update-quantity-rule-params',
    requestSchema: 'api/pricing/update-quantity-rule-params',
    responseSchema: 'entities/pricing-quantity-rule',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id`,
    action: 'pricing.quantityRules.delete',
    operationId: 'deleteQuantityRule',
    tag: TAG,
    summary: 'Delete a quantity rule (staff, pricing.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
];
