import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../../platform/database/database.ts';
import { UnprocessableRequest, ValidationFailed } from '../../platform/errors/hub-errors.ts';
import { audiencesOf, type Viewer } from '../visibility.ts';
import {
  normalizeModel,
  type ParsedQuery,
  parseQuery,
  type QueryClause,
  tokenize,
  toTsQuery,
} from './tokenize.ts';

/** Who is searching: the catalog's viewer (guests see public products, buyers their audiences, staff all). */
export type SearchViewer = Viewer;

export type SearchSort = 'relevance' | 'price_asc' | 'price_desc' | 'newest';

export interface AttributeFilter {
  key: string;
  /** Any of these values (enum, text, boolean attributes). */
  values?: string[];
  /** Inclusive bounds (number attributes). */
  min?: number;
  max?: number;
}

export interface SearchRequest {
  q?: string | undefined;
  brands?: string[];
  category?: string | undefined;
  attributes?: AttributeFilter[];
  /** Inclusive bounds in minor units. */
  price?: { min?: bigint | undefined; max?: bigint | undefined } | undefined;
  inStock?: boolean | undefined;
  sort?: SearchSort;
  limit?: number;
  cursor?: string | undefined;
}

export interface SearchItem {
  productId: string;
  nameZh: string;
  nameEn: string;
  model: string | null;
  brand: { id: string; name: string } | null;
  categoryId: string | null;
  thumbnailUrl: string | null;
  lifecycle: 'active' | 'discontinued';
  price: { amountMinor: string; currency: string } | null;
  inStock: boolean | null;
  matchedSkuCodes: string[];
  score: number;
}

export interface ValueCount {
  value: string;
  /** An enum option's names. */
  labelZh: string | null;
  labelEn: string | null;
  count: number;
}

export interface NumberBucket {
  from: number;
  to: number;
  count: number;
}

export type AttributeFacet =
  | {
      key: string;
      type: 'enum' | 'text' | 'boolean';
      nameZh: string | null;
      nameEn: string | null;
      values: ValueCount[];
      more: boolean;
    }
  | {
      key: string;
      type: 'number';
      nameZh: string | null;
      nameEn: string | null;
      unit: string | null;
      min: number;
      max: number;
      count: number;
      buckets: NumberBucket[];
    };

export interface SearchFacets {
  brands: Array<{ id: string; name: string; count: number }>;
  categories: {
    parentId: string | null;
    values: Array<{ id: string; nameZh: string; nameEn: string; count: number }>;
  };
  attributes: AttributeFacet[];
  price: { minMinor: string; maxMinor: string; count: number; buckets: NumberBucket[] } | null;
  inStock: Array<{ value: boolean | null; count: number }>;
}

export interface SearchResult {
  query: string | null;
  total: number;
  items: SearchItem[];
  facets: SearchFacets;
  nextCursor: string | null;
}

/** Bounds of one search (the API schema enforces the same; these are the backstop). */
export const SEARCH_LIMITS = {
  maxFilters: 20,
  maxValuesPerFilter: 20,
  maxPageSize: 100,
  maxDepth: 10_000,
  facetValues: 20,
  facetBrands: 50,
  facetCategories: 100,
  facetAttributes: 30,
  bucketCount: 5,
  /** Up to this many distinct numbers, a number facet lists each value as its own bucket. */
  exactBuckets: 10,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ATTRIBUTE_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const NUMERIC_KEY = /^-?\d{1,19}(\.\d+)?(e[-+]?\d+)?$|^-?Infinity$|^NaN$/i;
const PRICE_KEY = '$price';
/** Trigram similarity a model number needs to count as a typo of the query's code. */
const FUZZY_SIMILARITY = 0.45;

interface Cursor {
  /** Fingerprint of the search the cursor belongs to. */
  h: string;
  /** Sort key of the last item (text of a float8 or bigint). */
  k: string;
  /** Product id of the last item. */
  id: string;
  /** Items served before the next page. */
  n: number;
}

function invalidCursor(): never {
  throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this search' }]);
}

function decodeCursor(text: string, fingerprint: string): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    invalidCursor();
  }
  const c = value as Partial<Cursor> | null;
  if (
    !c ||
    typeof c !== 'object' ||
    c.h !== fingerprint ||
    typeof c.k !== 'string' ||
    !NUMERIC_KEY.test(c.k) ||
    typeof c.id !== 'string' ||
    !UUID.test(c.id) ||
    typeof c.n !== 'number' ||
    !Number.isInteger(c.n) ||
    c.n < 1
  ) {
    invalidCursor();
  }
  return c as Cursor;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** Builds parameter placeholders: every value from the request is a bind parameter. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

interface Normalised {
  parsed: ParsedQuery | null;
  brands: string[];
  category: string | null;
  attributes: AttributeFilter[];
  price: { min?: bigint | undefined; max?: bigint | undefined } | null;
  inStock: boolean | null;
  sort: SearchSort;
  limit: number;
}

function normalise(request: SearchRequest): Normalised {
  const errors: Array<{ pointer: string; detail: string }> = [];
  const parsed = request.q !== undefined && request.q.trim() !== '' ? parseQuery(request.q) : null;
  const brands = [...new Set(request.brands ?? [])].sort();
  if (brands.length > SEARCH_LIMITS.maxValuesPerFilter || brands.some((id) => !UUID.test(id))) {
    errors.push({ pointer: '/brand', detail: `must be up to ${SEARCH_LIMITS.maxValuesPerFilter} brand ids` });
  }
  if (request.category !== undefined && !UUID.test(request.category)) {
    errors.push({ pointer: '/category', detail: 'must be a category id' });
  }
  const attributes = [...(request.attributes ?? [])].sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const filter of attributes) {
    const pointer = `/attr.${filter.key}`;
    if (!ATTRIBUTE_KEY.test(filter.key)) errors.push({ pointer, detail: 'is not an attribute key' });
    if ((filter.values?.length ?? 0) > SEARCH_LIMITS.maxValuesPerFilter)
      errors.push({ pointer, detail: `has more than ${SEARCH_LIMITS.maxValuesPerFilter} values` });
    if (filter.values === undefined && filter.min === undefined && filter.max === undefined)
      errors.push({ pointer, detail: 'needs values or a min / max' });
    for (const bound of [filter.min, filter.max]) {
      if (bound !== undefined && !Number.isFinite(bound))
        errors.push({ pointer, detail: 'bounds must be numbers' });
    }
  }
  if (new Set(attributes.map((filter) => filter.key)).size !== attributes.length) {
    errors.push({ pointer: '/attr', detail: 'names an attribute twice' });
  }
  const price =
    request.price && (request.price.min !== undefined || request.price.max !== undefined)
      ? request.price
      : null;
  const filters =
    (brands.length ? 1 : 0) +
    (request.category ? 1 : 0) +
    attributes.length +
    (price ? 1 : 0) +
    (request.inStock !== undefined ? 1 : 0);
  if (filters > SEARCH_LIMITS.maxFilters) {
    errors.push({ pointer: '', detail: `at most ${SEARCH_LIMITS.maxFilters} filters` });
  }
  const limit = request.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMITS.maxPageSize) {
    errors.push({ pointer: '/limit', detail: `must be 1 to ${SEARCH_LIMITS.maxPageSize}` });
  }
  if (errors.length) throw new ValidationFailed(errors.slice(0, 1));
  let sort = request.sort ?? 'relevance';
  // Without words to rank by, relevance means newest first.
  if (sort === 'relevance' && !parsed?.clauses.length) sort = 'newest';
  return {
    parsed,
    brands,
    category: request.category ?? null,
    attributes,
    price,
    inStock: request.inStock ?? null,
    sort,
    limit,
  };
}

function fingerprintOf(n: Normalised): string {
  const key = JSON.stringify([
    n.parsed?.text ?? null,
    n.brands,
    n.category,
    n.attributes,
    n.price ? [String(n.price.min ?? ''), String(n.price.max ?? '')] : null,
    n.inStock,
    n.sort,
  ]);
  return createHash('sha256').update(key).digest('base64url').slice(0, 16);
}

/** One filter that facets ignore for their own dimension. */
interface Flag {
  dimension: 'brand' | 'price' | 'stock' | `attr:${string}`;
  sql: string;
}

const SORTS: Record<SearchSort, { key: string; direction: 'ASC' | 'DESC' }> = {
  relevance: { key: '', direction: 'DESC' },
  price_asc: { key: 'COALESCE(d.price_min_minor, 9223372036854775807)', direction: 'ASC' },
  price_desc: { key: 'COALESCE(d.price_min_minor, -1)', direction: 'DESC' },
  newest: { key: '(extract(epoch FROM d.created_at) * 1000000)::bigint', direction: 'DESC' },
};

function all(
  flags: Flag[],
  except?: Flag['dimension'] | ((dimension: Flag['dimension']) => boolean),
): string {
  const skip = typeof except === 'function' ? except : (dimension: string) => dimension === except;
  const names = flags.flatMap((flag, index) => (skip(flag.dimension) ? [] : [`m.f${index}`]));
  return names.length ? names.join(' AND ') : 'TRUE';
}

const isAttribute = (dimension: string) => dimension.startsWith('attr:');

interface Row {
  total: number;
  page: Array<{
    id: string;
    nameZh: string;
    nameEn: string;
    model: string | null;
    brandId: string | null;
    brandName: string | null;
    skuCodes: string[];
    thumbnailUrl: string | null;
    lifecycle: 'active' | 'discontinued';
    score: number;
    k: string;
    priceMinor: string | null;
    currency: string | null;
    inStock: boolean | null;
    categoryId: string | null;
  }>;
  brands: Array<{ id: string; name: string | null; count: number }>;
  categories: Array<{ id: string; names: { nameZh?: string; nameEn?: string } | null; count: number }>;
  facet_names: Array<{ key: string; nameZh: string | null; nameEn: string | null }>;
  text_facets: Array<{
    key: string;
    type: 'enum' | 'text' | 'boolean';
    value: string;
    labelZh: string | null;
    labelEn: string | null;
    count: number;
    distinct: number;
  }>;
  number_stats: Array<{
    key: string;
    unit: string | null;
    lo: number;
    hi: number;
    distinct: number;
    count: number;
  }>;
  number_buckets: Array<{ key: string; from: number; to: number; count: number }>;
  stock: Array<{ value: boolean | null; count: number }>;
}

/**
 * One search: the visible, listed products matching every query term (or, for a model number,
 * a close trigram match), narrowed by the filters, ranked, one keyset page of them, the total,
 * and the facets with counts (each facet counts with every other filter applied, not its own).
 * One SQL statement, fully parameterised.
 */
export async function searchCatalog(
  db: Database | Queryable,
  viewer: SearchViewer,
  request: SearchRequest,
): Promise<SearchResult> {
  const n = normalise(request);
  const fingerprint = fingerprintOf(n);
  const cursor = request.cursor === undefined ? null : decodeCursor(request.cursor, fingerprint);
  if (cursor && cursor.n + n.limit > SEARCH_LIMITS.maxDepth) {
    throw new UnprocessableRequest(
      'search-too-deep',
      `Paging stops after ${SEARCH_LIMITS.maxDepth} results: narrow the search instead`,
    );
  }
  const p = new Params();
  const where: string[] = [`d.lifecycle IN ('active', 'discontinued')`];
  const audiences = audiencesOf(viewer);
  if (audiences) {
    where.push(`EXISTS (SELECT 1 FROM catalog.product_visibility v
                         WHERE v.product_id = d.product_id AND v.audience = ANY(${p.add(audiences, 'text[]')}))`);
  }
  // The category facet drills down (children of the current category), so the category filter
  // narrows the candidate set for every facet and can use the GIN index on the path.
  if (n.category) where.push(`d.category_path @> ARRAY[${p.add(n.category, 'uuid')}]`);

  let score = '0::float8';
  const parsed = n.parsed;
  if (parsed) {
    const tsquery = toTsQuery(parsed.clauses);
    if (!tsquery) {
      where.push('FALSE');
    } else {
      const q = p.add(tsquery, 'tsquery');
      const text = `d.terms @@ ${q}`;
      let fuzzy: string | null = null;
      let similarity = '0';
      if (parsed.fuzzyCode) {
        const code = p.add(parsed.fuzzyCode, 'text');
        const others = toTsQuery(parsed.otherClauses);
        similarity = `similarity(d.model_norm, ${code})`;
        // `%` (similarity ≥ 0.3, pg_trgm's default) finds candidates through the trigram index;
        // the stricter bound keeps short unrelated codes out.
        fuzzy = `(d.model_norm % ${code} AND ${similarity} >= ${FUZZY_SIMILARITY}${
          others ? ` AND d.terms @@ ${p.add(others, 'tsquery')}` : ''
        })`;
      }
      where.push(fuzzy ? `(${text} OR ${fuzzy})` : text);
      const exact = parsed.exactCode
        ? (() => {
            const code = p.add(parsed.exactCode, 'text');
            return `CASE WHEN d.model_norm = ${code} OR d.sku_norms @> ARRAY[${code}] THEN 2 ELSE 0 END`;
          })()
        : '0';
      // Tiers: exact model / SKU (+2), word matches (1 + rank < 1, name A > codes B > specs C >
      // description D), typo-tolerant model matches only (similarity < 1).
      const rank = `1 + ts_rank('{0.1, 0.2, 0.4, 1.0}', d.terms, ${q}, 32)`;
      score = fuzzy
        ? `(${exact} + CASE WHEN ${text} THEN ${rank} ELSE ${similarity} * 0.99 END)::float8`
        : `(${exact} + ${rank})::float8`;
    }
  }

  const flags: Flag[] = [];
  if (n.brands.length)
    flags.push({ dimension: 'brand', sql: `d.brand_id = ANY(${p.add(n.brands, 'uuid[]')})` });
  for (const filter of n.attributes) {
    const conditions = [`a.product_id = d.product_id`, `a.attribute_key = ${p.add(filter.key, 'text')}`];
    if (filter.values) conditions.push(`a.text_value = ANY(${p.add(filter.values, 'text[]')})`);
    if (filter.min !== undefined) conditions.push(`a.num_value >= ${p.add(filter.min, 'numeric')}`);
    if (filter.max !== undefined) conditions.push(`a.num_value <= ${p.add(filter.max, 'numeric')}`);
    flags.push({
      dimension: `attr:${filter.key}`,
      // OFFSET 0 keeps this a per-row index probe: the planner would otherwise hash every value
      // of the attribute in the whole catalog.
      sql: `EXISTS (SELECT 1 FROM catalog.search_attribute_values a WHERE ${conditions.join(' AND ')} OFFSET 0)`,
    });
  }
  if (n.price) {
    const bounds: string[] = [];
    if (n.price.min !== undefined)
      bounds.push(`d.price_min_minor >= ${p.add(String(n.price.min), 'bigint')}`);
    if (n.price.max !== undefined)
      bounds.push(`d.price_min_minor <= ${p.add(String(n.price.max), 'bigint')}`);
    flags.push({ dimension: 'price', sql: bounds.join(' AND ') });
  }
  if (n.inStock !== null) {
    flags.push({ dimension: 'stock', sql: `d.in_stock IS ${n.inStock ? 'TRUE' : 'FALSE'}` });
  }

  const sort = SORTS[n.sort];
  // Relevance sorts by the score itself (computed once per row).
  const sortColumn = n.sort === 'relevance' ? 'score' : 'sort_key';
  let keyset = 'TRUE';
  if (cursor) {
    const k = p.add(cursor.k, n.sort === 'relevance' ? 'float8' : 'bigint');
    const id = p.add(cursor.id, 'uuid');
    keyset = `(r.${sortColumn} ${sort.direction === 'DESC' ? '<' : '>'} ${k} OR (r.${sortColumn} = ${k} AND r.product_id > ${id}))`;
  }
  const order = `r.${sortColumn} ${sort.direction}, r.product_id`;
  const limit = p.add(n.limit, 'int');

  // Attribute facets: every filterable attribute with every filter but its own.
  const attributeKeys = n.attributes.map((filter) => filter.key);
  const attributeCondition = attributeKeys.length
    ? `CASE a.attribute_key ${attributeKeys
        .map((key) => `WHEN ${p.add(key, 'text')} THEN ${all(flags, `attr:${key}`)}`)
        .join(' ')} ELSE ${all(flags)} END`
    : all(flags);
  const facetValues = p.add(SEARCH_LIMITS.facetValues, 'int');
  const facetAttributes = p.add(SEARCH_LIMITS.facetAttributes, 'int');
  const exactBuckets = p.add(SEARCH_LIMITS.exactBuckets, 'int');
  const bucketCount = p.add(SEARCH_LIMITS.bucketCount, 'int');
  const priceKey = p.add(PRICE_KEY, 'text');
  const categoryParam = n.category ? p.add(n.category, 'uuid') : null;
  const childIndex = categoryParam ? `array_position(m.category_path, ${categoryParam})` : '0';

  const sql = `
WITH m AS MATERIALIZED (
  SELECT d.product_id, d.brand_id, d.brand_name, d.category_path, d.category_names, d.price_min_minor,
         d.in_stock${sortColumn === 'sort_key' ? `, ${sort.key} AS sort_key` : ''}
         ${flags.map((flag, index) => `, COALESCE(${flag.sql}, FALSE) AS f${index}`).join('')}
    FROM catalog.search_documents d
   WHERE ${where.join('\n     AND ')}
),
av AS (
  SELECT m.product_id, a.attribute_key AS key, f.type, f.unit, a.num_value, a.text_value
    FROM (SELECT * FROM m WHERE ${all(flags, isAttribute)}) m
   -- One index-only probe per candidate (OFFSET 0 keeps it one): hashing the whole table instead
   -- costs more than any candidate set search answers.
   CROSS JOIN LATERAL (SELECT a.attribute_key, a.num_value, a.text_value
                         FROM catalog.search_attribute_values a
                        WHERE a.product_id = m.product_id OFFSET 0) a
    JOIN catalog.search_facet_attributes f ON f.attribute_key = a.attribute_key AND f.filterable
   WHERE ${attributeCondition}
  UNION ALL
  SELECT m.product_id, ${priceKey}, 'number', NULL, m.price_min_minor::numeric, NULL
    FROM m WHERE m.price_min_minor IS NOT NULL AND ${all(flags, 'price')}
),
keys AS (
  SELECT key FROM (SELECT key, count(*) AS n FROM av GROUP BY key) k
   ORDER BY (key = ${priceKey}) DESC, n DESC, key LIMIT ${facetAttributes}
),
nums AS (
  SELECT av.product_id, av.key, av.unit, av.num_value FROM av JOIN keys USING (key) WHERE av.num_value IS NOT NULL
),
num_stats AS (
  -- DISTINCT subqueries rather than count(DISTINCT …): they hash instead of sorting.
  SELECT s.key, s.unit, s.lo, s.hi, v.distinct_values, c.n
    FROM (SELECT key, min(unit) AS unit, min(num_value) AS lo, max(num_value) AS hi FROM nums GROUP BY key) s
    JOIN (SELECT key, count(*)::int AS distinct_values
            FROM (SELECT DISTINCT key, num_value FROM nums) d GROUP BY key) v USING (key)
    JOIN (SELECT key, count(*)::int AS n
            FROM (SELECT DISTINCT key, product_id FROM nums) d GROUP BY key) c USING (key)
)
SELECT
  (SELECT count(*)::int FROM m WHERE ${all(flags)}) AS total,
  (SELECT COALESCE(json_agg(json_build_object(
            'id', d.product_id, 'nameZh', d.name_zh, 'nameEn', d.name_en, 'model', d.model,
            'brandId', d.brand_id, 'brandName', d.brand_name, 'skuCodes', d.sku_codes,
            'thumbnailUrl', d.thumbnail_url, 'lifecycle', d.lifecycle, 'score', pg.score,
            'k', pg.sort_key::text, 'priceMinor', d.price_min_minor::text, 'currency', d.currency,
            'inStock', d.in_stock, 'categoryId', d.category_path[cardinality(d.category_path)])
          ORDER BY pg.sort_key ${sort.direction}, pg.product_id), '[]')
     FROM (SELECT r.product_id, r.score, r.${sortColumn} AS sort_key
             FROM (SELECT m.product_id, ${score} AS score${sortColumn === 'sort_key' ? ', m.sort_key' : ''}
                     FROM m JOIN catalog.search_documents d ON d.product_id = m.product_id
                    WHERE ${all(flags)} OFFSET 0) r
            WHERE ${keyset}
            ORDER BY ${order} LIMIT ${limit}) pg
     JOIN catalog.search_documents d ON d.product_id = pg.product_id) AS page,
  (SELECT COALESCE(json_agg(json_build_object('id', b.brand_id, 'name', b.name, 'count', b.n)
                            ORDER BY b.n DESC, b.brand_id), '[]')
     FROM (SELECT m.brand_id, min(m.brand_name) AS name, count(*)::int AS n FROM m
            WHERE m.brand_id IS NOT NULL AND ${all(flags, 'brand')}
            GROUP BY m.brand_id ORDER BY n DESC, m.brand_id LIMIT ${p.add(SEARCH_LIMITS.facetBrands, 'int')}) b) AS brands,
  (SELECT COALESCE(json_agg(json_build_object('id', c.id, 'names', c.names::json, 'count', c.n)
                            ORDER BY c.n DESC, c.id), '[]')
     FROM (SELECT m.category_path[${childIndex} + 1] AS id,
                  min((m.category_names -> (${childIndex}))::text) AS names, count(*)::int AS n
             FROM m
            WHERE cardinality(m.category_path) > ${childIndex} AND ${all(flags)}
            GROUP BY 1 ORDER BY n DESC, 1 LIMIT ${p.add(SEARCH_LIMITS.facetCategories, 'int')}) c) AS categories,
  (SELECT COALESCE(json_agg(json_build_object('key', t.key, 'type', t.type, 'value', t.text_value,
                                              'labelZh', f.labels -> t.text_value ->> 'zh',
                                              'labelEn', f.labels -> t.text_value ->> 'en',
                                              'count', t.n, 'distinct', t.distinct_values)
                            ORDER BY t.key, t.n DESC, t.text_value), '[]')
     FROM (SELECT g.*, row_number() OVER (PARTITION BY g.key ORDER BY g.n DESC, g.text_value) AS r,
                  count(*) OVER (PARTITION BY g.key)::int AS distinct_values
             -- (product, key, value) is unique in the index: a plain count counts products.
             FROM (SELECT av.key, min(av.type) AS type, av.text_value, count(*)::int AS n
                     FROM av JOIN keys USING (key)
                    WHERE av.text_value IS NOT NULL GROUP BY av.key, av.text_value) g) t
     LEFT JOIN catalog.search_facet_attributes f ON f.attribute_key = t.key
    WHERE t.r <= ${facetValues}) AS text_facets,
  (SELECT COALESCE(json_agg(json_build_object('key', f.attribute_key, 'nameZh', f.name_zh, 'nameEn', f.name_en)), '[]')
     FROM catalog.search_facet_attributes f JOIN keys ON keys.key = f.attribute_key) AS facet_names,
  (SELECT COALESCE(json_agg(json_build_object('key', s.key, 'unit', s.unit, 'lo', s.lo, 'hi', s.hi,
                                              'distinct', s.distinct_values, 'count', s.n) ORDER BY s.key), '[]')
     FROM num_stats s) AS number_stats,
  (SELECT COALESCE(json_agg(json_build_object('key', b.key, 'from', b.lo, 'to', b.hi, 'count', b.n)
                            ORDER BY b.key, b.lo), '[]')
     FROM (SELECT x.key, min(x.lo)::float8 AS lo, max(x.hi)::float8 AS hi, count(*)::int AS n
             FROM (SELECT DISTINCT nums.product_id, nums.key,
                          CASE WHEN s.distinct_values <= ${exactBuckets} THEN nums.num_value
                               ELSE s.lo + (s.hi - s.lo) * (LEAST(width_bucket(nums.num_value, s.lo, s.hi, ${bucketCount}), ${bucketCount}) - 1) / ${bucketCount}
                          END AS lo,
                          CASE WHEN s.distinct_values <= ${exactBuckets} THEN nums.num_value
                               ELSE s.lo + (s.hi - s.lo) * LEAST(width_bucket(nums.num_value, s.lo, s.hi, ${bucketCount}), ${bucketCount}) / ${bucketCount}
                          END AS hi
                     FROM nums JOIN num_stats s USING (key)) x
            GROUP BY x.key, x.lo) b) AS number_buckets,
  (SELECT COALESCE(json_agg(json_build_object('value', st.in_stock, 'count', st.n) ORDER BY st.in_stock NULLS LAST), '[]')
     FROM (SELECT m.in_stock, count(*)::int AS n FROM m WHERE ${all(flags, 'stock')} GROUP BY m.in_stock) st) AS stock
`;
  const run = (q: Queryable) => q.query<Row>(sql, p.values);
  let rows: Row[];
  if (!parsed?.fuzzyCode) {
    ({ rows } = await run(db));
  } else {
    // The trigram index prunes by pg_trgm.similarity_threshold: at the bound search keeps anyway
    // it returns a fraction of the candidates its 0.3 default would (a tenth, for model numbers).
    // SET LOCAL needs a transaction; given one, the caller's holds it.
    const fuzzy = async (tx: Queryable) => {
      await tx.query(`SELECT set_config('pg_trgm.similarity_threshold', $1, true)`, [
        String(FUZZY_SIMILARITY),
      ]);
      return (await run(tx)).rows;
    };
    rows = 'transaction' in db ? await db.transaction(fuzzy) : await fuzzy(db);
  }
  return shape(n, rows[0]!, cursor, fingerprint);
}

/** The SKU codes of a product that the query's codes point at. */
function matchedSkus(parsed: ParsedQuery | null, skuCodes: string[]): string[] {
  if (!parsed) return [];
  const codes = parsed.clauses.filter((clause) => clause.kind === 'code');
  if (!codes.length) return [];
  return skuCodes.filter((sku) => {
    if (parsed.exactCode && normalizeModel(sku) === parsed.exactCode) return true;
    const terms = tokenize(sku);
    return codes.every((clause: QueryClause) =>
      clause.anyOf.some((need) =>
        need.every(({ term, prefix }) =>
          prefix ? terms.some((candidate) => candidate.startsWith(term)) : terms.includes(term),
        ),
      ),
    );
  });
}

function shape(n: Normalised, row: Row, cursor: Cursor | null, fingerprint: string): SearchResult {
  const served = (cursor?.n ?? 0) + row.page.length;
  const last = row.page[row.page.length - 1];
  const more =
    last !== undefined && row.page.length === n.limit && served < Math.min(row.total, SEARCH_LIMITS.maxDepth);
  const items: SearchItem[] = row.page.map((item) => ({
    productId: item.id,
    nameZh: item.nameZh,
    nameEn: item.nameEn,
    model: item.model,
    brand: item.brandId ? { id: item.brandId, name: item.brandName ?? '' } : null,
    categoryId: item.categoryId,
    thumbnailUrl: item.thumbnailUrl,
    lifecycle: item.lifecycle,
    price:
      item.priceMinor !== null && item.currency
        ? { amountMinor: item.priceMinor, currency: item.currency }
        : null,
    inStock: item.inStock,
    matchedSkuCodes: matchedSkus(n.parsed, item.skuCodes),
    score: item.score,
  }));

  const stats = new Map(row.number_stats.map((s) => [s.key, s]));
  const buckets = new Map<string, NumberBucket[]>();
  for (const b of row.number_buckets) {
    const list = buckets.get(b.key) ?? [];
    list.push({ from: Number(b.from), to: Number(b.to), count: b.count });
    buckets.set(b.key, list);
  }
  const names = new Map(row.facet_names.map((f) => [f.key, f]));
  const nameZh = (key: string) => names.get(key)?.nameZh ?? null;
  const nameEn = (key: string) => names.get(key)?.nameEn ?? null;
  const attributes: AttributeFacet[] = [];
  for (const s of row.number_stats) {
    if (s.key === PRICE_KEY) continue;
    attributes.push({
      key: s.key,
      type: 'number',
      nameZh: nameZh(s.key),
      nameEn: nameEn(s.key),
      unit: s.unit,
      min: Number(s.lo),
      max: Number(s.hi),
      count: s.count,
      buckets: buckets.get(s.key) ?? [],
    });
  }
  const textFacets = new Map<string, Extract<AttributeFacet, { values: ValueCount[] }>>();
  for (const t of row.text_facets) {
    let facet = textFacets.get(t.key);
    if (!facet) {
      facet = {
        key: t.key,
        type: t.type,
        nameZh: nameZh(t.key),
        nameEn: nameEn(t.key),
        values: [],
        more: t.distinct > SEARCH_LIMITS.facetValues,
      };
      textFacets.set(t.key, facet);
    }
    facet.values.push({ value: t.value, labelZh: t.labelZh, labelEn: t.labelEn, count: t.count });
  }
  attributes.push(...textFacets.values());
  attributes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const price = stats.get(PRICE_KEY);

  return {
    query: n.parsed?.text ?? null,
    total: row.total,
    items,
    facets: {
      brands: row.brands.map((b) => ({ id: b.id, name: b.name ?? '', count: b.count })),
      categories: {
        parentId: n.category,
        values: row.categories.map((c) => ({
          id: c.id,
          nameZh: c.names?.nameZh ?? '',
          nameEn: c.names?.nameEn ?? '',
          count: c.count,
        })),
      },
      attributes,
      price: price
        ? {
            minMinor: String(price.lo),
            maxMinor: String(price.hi),
            count: price.count,
            buckets: buckets.get(PRICE_KEY) ?? [],
          }
        : null,
      inStock: row.stock,
    },
    nextCursor: more ? encodeCursor({ h: fingerprint, k: last.k, id: last.id, n: served }) : null,
  };
}
