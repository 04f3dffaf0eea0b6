import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Context } from 'moleculer';
import type { Queryable } from '../../platform/database/database.ts';
import { NotFound } from '../../platform/errors/hub-errors.ts';
import { type AttributeDefinition, attributesById } from '../attributes.ts';
import { listsOf, type Owner } from '../product-lists.ts';
import { type Lifecycle, listProducts, loadProducts } from '../products.ts';
import { type Viewer, visibleAmong } from '../visibility.ts';
import type { ExportRow, Lang } from './export-columns.ts';

/**
 * What an export covers, resolved before the file starts streaming (so a missing list, a bad
 * search or a refused caller is still an ordinary problem+json answer): the rows to write in
 * order, as product ids (and, for lists, SKU and quantity), and how many the source had in all.
 */
export interface ExportEntry {
  productId: string;
  skuId?: string;
  quantity?: number;
}

export interface ExportSource {
  title: string;
  details: string[];
  /** The file's name without extension. */
  filename: string;
  entries: ExportEntry[];
  /** Rows the source had before the cap. */
  total: number;
  truncated: boolean;
  listItems: boolean;
}

/** The default cap; `HUB_EXPORT_MAX_ROWS` may move it within 1–10,000 (search pages stop at 10,000). */
export const DEFAULT_MAX_ROWS = 5_000;

export function maxExportRows(setting: string | undefined = process.env.HUB_EXPORT_MAX_ROWS): number {
  const value = Number(setting);
  if (!setting || !Number.isInteger(value)) return DEFAULT_MAX_ROWS;
  return Math.min(Math.max(value, 1), 10_000);
}

/** `2025-03-01` in Asia/Shanghai, for file names. */
export function shanghaiDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(at);
}

/** One of the buyer's own lists (404 for anyone else's), its items the buyer may still see. */
export async function listSource(
  db: Queryable,
  owner: Owner,
  viewer: Viewer,
  listId: string,
  options: { lang: Lang; maxRows: number; now: Date },
): Promise<ExportSource> {
  const [list] = await listsOf(db, owner, viewer, listId);
  if (!list) throw new NotFound('List');
  const entries = list.items.map((item) => ({
    productId: item.product.id,
    skuId: item.skuId,
    quantity: item.quantity,
  }));
  const zh = options.lang === 'zh';
  return {
    title: zh ? `商品清单：${list.name}` : `Product list: ${list.name}`,
    details: [
      zh ? `清单「${list.name}」，共 ${entries.length} 项` : `List "${list.name}", ${entries.length} items`,
    ],
    filename: `${list.name}-${shanghaiDate(options.now)}`,
    entries: entries.slice(0, options.maxRows),
    total: entries.length,
    truncated: entries.length > options.maxRows,
    listItems: true,
  };
}

/** The search's own parameters, as `GET /api/catalog/search` takes them (no paging). */
export type SearchParams = Record<string, unknown> & { q?: string };

interface SearchPage {
  total: number;
  items: Array<{ productId: string }>;
  nextCursor: string | null;
}

/** Results per search call: the search's own page limit. */
const SEARCH_PAGE = 100;

/**
 * A search result, in the search's order, paged through the `catalog-search.search` action with
 * the caller's context (so exactly what the caller's search shows) up to the cap.
 */
export async function searchSource(
  ctx: Context,
  search: SearchParams,
  options: { lang: Lang; maxRows: number; now: Date },
): Promise<ExportSource> {
  const ids = new Set<string>();
  let total = 0;
  let cursor: string | null = null;
  do {
    const page: SearchPage = await ctx.call('catalog-search.search', {
      ...search,
      limit: Math.min(SEARCH_PAGE, options.maxRows - ids.size),
      ...(cursor ? { cursor } : {}),
    });
    total = Math.max(total, page.total);
    for (const item of page.items) if (ids.size < options.maxRows) ids.add(item.productId);
    cursor = page.nextCursor;
  } while (cursor && ids.size < options.maxRows);
  const zh = options.lang === 'zh';
  const filters = Object.entries(search)
    .filter(([key, value]) => key !== 'q' && key !== 'sort' && value !== undefined)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`);
  const details = [
    search.q ? (zh ? `搜索：${search.q}` : `Search: ${search.q}`) : zh ? '全部商品' : 'All products',
    ...(filters.length > 0 ? [`${zh ? '筛选' : 'Filters'}: ${filters.join('; ')}`] : []),
    zh ? `共 ${total} 个商品` : `${total} products`,
  ];
  const stem = zh ? '商品搜索' : 'catalog-search';
  return {
    title: zh
      ? `商品搜索${search.q ? `：${search.q}` : ''}`
      : `Catalog search${search.q ? `: ${search.q}` : ''}`,
    details,
    filename: [stem, search.q, shanghaiDate(options.now)].filter(Boolean).join('-'),
    entries: [...ids].map((productId) => ({ productId })),
    total,
    truncated: total > ids.size,
    listItems: false,
  };
}

/** Staff: every product (drafts too) under the staff list's filters, by id. */
export async function staffSource(
  db: Queryable,
  filter: { lifecycle?: Lifecycle; categoryId?: string; brandId?: string },
  options: { lang: Lang; maxRows: number; now: Date },
): Promise<ExportSource> {
  const found = await listProducts(db, { ...filter, limit: options.maxRows + 1 });
  const zh = options.lang === 'zh';
  const truncated = found.length > options.maxRows;
  const filters = Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`);
  return {
    title: zh ? '商品目录' : 'Catalog products',
    details: [
      ...(filters.length > 0 ? [`${zh ? '筛选' : 'Filters'}: ${filters.join('; ')}`] : []),
      truncated
        ? zh
          ? `超过 ${options.maxRows} 个商品`
          : `More than ${options.maxRows} products`
        : zh
          ? `共 ${found.length} 个商品`
          : `${found.length} products`,
    ],
    filename: `${zh ? '商品目录' : 'catalog-products'}-${shanghaiDate(options.now)}`,
    entries: found.slice(0, options.maxRows).map((product) => ({ productId: product.id })),
    // The staff list does not count: past the cap the total is "more than the cap".
    total: truncated ? options.maxRows + 1 : found.length,
    truncated,
    listItems: false,
  };
}

/** The spec attributes the products carry (their own values and their SKUs' variants), in definition order. */
export async function attributesOfProducts(
  db: Queryable,
  productIds: readonly string[],
): Promise<AttributeDefinition[]> {
  if (productIds.length === 0) return [];
  const { rows } = await db.query(
    `SELECT attribute_id FROM catalog.product_attribute_values WHERE product_id = ANY($1::uuid[])
     UNION
     SELECT v.attribute_id FROM catalog.sku_attribute_values v
       JOIN catalog.skus s ON s.id = v.sku_id
      WHERE s.product_id = ANY($1::uuid[])`,
    [[...new Set(productIds)]],
  );
  const definitions = await attributesById(
    db,
    rows.map((row) => row.attribute_id as string),
  );
  return [...definitions.values()].sort((a, b) => a.sort - b.sort || a.key.localeCompare(b.key));
}

/** Products are loaded this many at a time while the file streams. */
export const LOAD_BATCH = 200;
const YIELD_EVERY = 10;

/**
 * The rows, loaded batch by batch as the writer asks for them. Visibility is checked again per
 * batch: a product hidden from the viewer since the source was resolved is left out, like one
 * deleted meanwhile (and a list item whose SKU was deleted).
 */
export async function* exportRows(
  db: Queryable,
  viewer: Viewer,
  entries: readonly ExportEntry[],
  batchSize = LOAD_BATCH,
): AsyncGenerator<ExportRow> {
  for (let start = 0; start < entries.length; start += batchSize) {
    const batch = entries.slice(start, start + batchSize);
    const ids = batch.map((entry) => entry.productId);
    const [products, visible] = await Promise.all([
      loadProducts(db, ids),
      viewer.kind === 'staff' ? undefined : visibleAmong(db, viewer, ids),
    ]);
    for (const [i, entry] of batch.entries()) {
      // Writing a row takes up to ~5 ms (PDF layout): let other requests in every few rows.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
      const product = products.get(entry.productId);
      if (!product || (visible && !visible.has(product.id))) continue;
      if (entry.skuId === undefined) {
        yield { product };
        continue;
      }
      const sku = product.skus.find((one) => one.id === entry.skuId);
      if (sku) yield { product, item: { sku, quantity: entry.quantity ?? 1 } };
    }
  }
}
