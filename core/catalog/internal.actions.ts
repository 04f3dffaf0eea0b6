import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { authOf, type HubMeta } from '../platform/auth/auth-context.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import type { CatalogArea, CatalogContext } from './catalog-area.ts';
import { viewerOf } from './viewer.ts';
import { audiencesOf, visibleAmong } from './visibility.ts';

/**
 * Mesh-only actions other domains (cart, quotes, orders, pricing) call with the buyer's context:
 * visibility `public`, so the gateway can never expose them. The viewer comes from
 * `ctx.meta.auth`, as for every catalog read.
 */
export function internalArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;
  return {
    actions: {
      'internal.visibleProductIds': {
        visibility: 'public' as const,
        params: schemaRef('api/catalog/visible-products-params'),
        async handler(ctx: Context<{ productIds: string[] }>) {
          const visible = await visibleAmong(db, await viewerOf(ctx), ctx.params.productIds);
          return { productIds: ctx.params.productIds.filter((id) => visible.has(id)) };
        },
      },

      'internal.skus': {
        visibility: 'public' as const,
        params: schemaRef('api/catalog/sku-lookup-params'),
        async handler(ctx: Context<{ skuIds?: string[]; codes?: string[] }>) {
          // Who is looking (a call to accounts) and the SKUs are read side by side: the query
          // brings each product's audiences that could concern the caller — public, the caller's
          // company from the auth context, any tier or tag — and the viewer's own audiences decide.
          const auth = (ctx.meta as HubMeta).auth;
          const possible = ['public', ...(auth?.companyId ? [`company:${auth.companyId}`] : [])];
          // The SKUs asked for by id and those asked for by code as one set of ids, joined to their
          // products by primary key: `s.id = ANY OR s.code = ANY` hashed every product of the catalog.
          const [viewer, { rows }] = await Promise.all([
            viewerOf(ctx),
            db.query(
              `SELECT s.id, s.code, s.unit_of_measure, s.pack_size, s.weight_grams, p.id AS product_id, p.name_zh,
                      p.name_en, p.model, p.lifecycle,
                      ARRAY(SELECT v.audience FROM catalog.product_visibility v
                             WHERE v.product_id = p.id
                               AND (v.audience = ANY($3::text[]) OR v.audience LIKE 'tier:%' OR v.audience LIKE 'tag:%'))
                        AS audiences
                 FROM catalog.skus s JOIN catalog.products p ON p.id = s.product_id
                WHERE s.id IN (SELECT unnest($1::uuid[]) UNION SELECT id FROM catalog.skus WHERE code = ANY($2::text[]))
                ORDER BY s.code`,
              [ctx.params.skuIds ?? [], ctx.params.codes ?? [], possible],
            ),
          ]);
          const audiences = audiencesOf(viewer);
          const visible = audiences
            ? rows.filter((row) =>
                (row.audiences as string[]).some((audience) => audiences.includes(audience)),
              )
            : rows;
          return {
            items: visible.map((row) => ({
              skuId: row.id,
              code: row.code,
              productId: row.product_id,
              nameZh: row.name_zh,
              nameEn: row.name_en,
              model: row.model ?? null,
              unitOfMeasure: row.unit_of_measure,
              packSize: row.pack_size,
              weightGrams: row.weight_grams ?? null,
              lifecycle: row.lifecycle,
              orderable: row.lifecycle === 'active',
            })),
          };
        },
      },

      /**
       * SKUs that exist in the published catalog (not drafts), whoever the caller is: carts tell a
       * quick-order row with an unknown code from one naming a SKU the buyer may not see. Answers
       * ids and codes only, of SKUs the caller already named.
       */
      'internal.knownSkus': {
        visibility: 'public' as const,
        params: schemaRef('api/catalog/sku-lookup-params'),
        async handler(ctx: Context<{ skuIds?: string[]; codes?: string[] }>) {
          const { rows } = await db.query(
            `SELECT s.id, s.code FROM catalog.skus s JOIN catalog.products p ON p.id = s.product_id
              WHERE (s.id = ANY($1::uuid[]) OR s.code = ANY($2::text[])) AND p.lifecycle <> 'draft'
              ORDER BY s.code`,
            [ctx.params.skuIds ?? [], ctx.params.codes ?? []],
          );
          return { items: rows.map((row) => ({ skuId: row.id, code: row.code })) };
        },
      },

      /**
       * Every item of one of the calling buyer's product lists (requisition lists), visible or not:
       * carts merge them and report what they skip and why. Another user's list is not found.
       */
      'internal.listItems': {
        visibility: 'public' as const,
        params: schemaRef('api/catalog/list-items-params'),
        async handler(ctx: Context<{ listId: string }>) {
          const auth = authOf(ctx);
          if (auth.kind !== 'buyer' || !auth.companyId) throw new NotFound('List');
          const { rows: lists } = await db.query(
            'SELECT id, name FROM catalog.product_lists WHERE id = $1 AND company_id = $2 AND user_id = $3',
            [ctx.params.listId, auth.companyId, auth.principalId],
          );
          if (!lists[0]) throw new NotFound('List');
          const { rows } = await db.query(
            `SELECT i.sku_id, s.code, i.quantity FROM catalog.product_list_items i
               JOIN catalog.skus s ON s.id = i.sku_id
              WHERE i.list_id = $1 ORDER BY i.added_at, s.code`,
            [ctx.params.listId],
          );
          return {
            id: lists[0].id,
            name: lists[0].name,
            items: rows.map((row) => ({ skuId: row.sku_id, skuCode: row.code, quantity: row.quantity })),
          };
        },
      },
    },
    routes: [],
  };
}
