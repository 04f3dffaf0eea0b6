import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { CatalogArea, CatalogContext } from './catalog-area.ts';
import { viewerOf } from './viewer.ts';
import { visibilityFilterSql, visibleAmong } from './visibility.ts';

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
          const values: unknown[] = [ctx.params.skuIds ?? [], ctx.params.codes ?? []];
          const filter = visibilityFilterSql('p', await viewerOf(ctx), values);
          const { rows } = await db.query(
            `SELECT s.id, s.code, s.unit_of_measure, s.pack_size, s.weight_grams, p.id AS product_id, p.name_zh,
                    p.name_en, p.model, p.lifecycle
               FROM catalog.skus s JOIN catalog.products p ON p.id = s.product_id
              WHERE (s.id = ANY($1::uuid[]) OR s.code = ANY($2::text[])) AND ${filter}
              ORDER BY s.code`,
            values,
          );
          return {
            items: rows.map((row) => ({
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
    },
    routes: [],
  };
}
