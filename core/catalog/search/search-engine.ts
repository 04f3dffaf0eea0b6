import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../../platform/database/database.ts';
import { UnprocessableRequest, ValidationFailed } from '../../platform/errors/hub-errors.ts';
import { audiencesOf, type Viewer } from '../visibility.ts';
import { STOCK_STATES, type StockState } from './search-index.ts';
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
  /** Inclusive bounds in minor units (a band of the price facet: its minMinor and maxMinor). */
  price?: { min?: bigint | undefined; max?: bigint | undefined } | undefined;
  /** Any of these stock states. */
  stock?: StockState[] | undefined;
  /** true: in stock or low (`stock: ['in_stock', 'low_stock']`); false: out of stock. */
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
  stock: StockState | null;
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
  /** Products with a price, and per price band (`maxMinor` inclusive; null when none has a price). */
  price: { count: number; bands: PriceBand[] } | null;
  /** Counts per stock state; null = not known. */
  stock: Array<{ value: StockState | null; count: number }>;
}

export interface PriceBand {
  minMinor: string;
  maxMinor: string;
  count: number;
}

export interface SearchResult {
  query: string | null;
  /** Always exact. */
  total: number;
  /**
   * false: more than `SEARCH_LIMITS.exactCounts` candidates, so the facet counts (and number
   * ranges) are estimated from a uniform sample of them, scaled to all (README, "Exact counts").
   */
  countsExact: boolean;
  items: SearchItem[];
  facets: SearchFacets;
  nextCursor: string | null;
}

export interface SearchOptions {
  /**
   * Browsing (no text, no filter) reads the counts the index keeps (default); false counts the
   * matches live like every other search (tests compare the two; the benchmark times both).
   */
  keptCounts?: boolean;
  /** Overrides `SEARCH_LIMITS.exactCounts` (tests of the estimate on a small catalog). */
  exactCounts?: number;
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
  /**
   * Facet counts are exact up to this many candidates (matches before the filters' own facets);
   * above, they are estimated from a uniform sample of about this many (`countsExact: false`).
   */
  exactCounts: 2_000,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ATTRIBUTE_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const NUMERIC_KEY = /^-?\d{1,19}(\.\d+)?(e[-+]?\d+)?$|^-?Infinity$|^NaN$/i;
/** Memory for one search's candidates and counts (100,000 candidates take about 20 MB). */
const SEARCH_WORK_MEM = '32MB';
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
  stock: StockState[] | null;
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
  let stock: StockState[] | null = null;
  if (request.stock?.length) {
    stock = [...new Set(request.stock)].sort();
    if (stock.some((state) => !STOCK_STATES.includes(state))) {
      errors.push({ pointer: '/stock', detail: `must be some of ${STOCK_STATES.join(', ')}` });
    }
    if (request.inStock !== undefined) {
      errors.push({ pointer: '/inStock', detail: 'give stock or inStock, not both' });
    }
  } else if (request.inStock !== undefined) {
    stock = request.inStock ? ['in_stock', 'low_stock'] : ['out_of_stock'];
  }
  const filters =
    (brands.length ? 1 : 0) +
    (request.category ? 1 : 0) +
    attributes.length +
    (price ? 1 : 0) +
    (stock ? 1 : 0);
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
    stock,
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
    n.stock,
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
  price_asc: { key: 'COALESCE(r.price_min_minor, 9223372036854775807)', direction: 'ASC' },
  price_desc: { key: 'COALESCE(r.price_min_minor, -1)', direction: 'DESC' },
  newest: { key: '(extract(epoch FROM r.created_at) * 1000000)::bigint', direction: 'DESC' },
};

/** The node of the facet counts of the whole catalog (no category filter). */
const WHOLE_CATALOG = '00000000-0000-0000-0000-000000000000';

interface Row {
  total: number;
  /** Candidates the live counts stand for, and how many of them were counted (equal: exact). */
  candidates: number | null;
  counted: number | null;
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
    stock: StockState | null;
    categoryId: string | null;
  }>;
  brands: Array<{ id: string; name: string | null; count: number }>;
  categories: Array<{ id: string; nameZh: string | null; nameEn: string | null; count: number }>;
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
  stock: Array<{ value: StockState | null; count: number }>;
  price_bands: Array<{ lo: string; count: number }>;
}

/** The text condition and the score of a search with words (on the document row `alias`). */
interface TextMatch {
  where: (alias: string) => string;
  score: (alias: string) => string;
}

function textMatch(parsed: ParsedQuery, p: Params): TextMatch {
  const tsquery = toTsQuery(parsed.clauses);
  if (!tsquery) return { where: () => 'FALSE', score: () => '0::float8' };
  const q = p.add(tsquery, 'tsquery');
  const code = parsed.fuzzyCode ? p.add(parsed.fuzzyCode, 'text') : null;
  const others = parsed.fuzzyCode ? toTsQuery(parsed.otherClauses) : null;
  const othersParam = others ? p.add(others, 'tsquery') : null;
  const exactCode = parsed.exactCode ? p.add(parsed.exactCode, 'text') : null;
  const text = (a: string) => `${a}.terms @@ ${q}`;
  // `%` (pg_trgm.similarity_threshold, set per search) finds candidates through the trigram
  // index; the stricter bound keeps short unrelated codes out.
  const fuzzy = (a: string) =>
    code
      ? `(${a}.model_norm % ${code} AND similarity(${a}.model_norm, ${code}) >= ${FUZZY_SIMILARITY}${
          othersParam ? ` AND ${a}.terms @@ ${othersParam}` : ''
        })`
      : null;
  return {
    where: (a) => (code ? `(${text(a)} OR ${fuzzy(a)})` : text(a)),
    score: (a) => {
      const exact = exactCode
        ? `CASE WHEN ${a}.model_norm = ${exactCode} OR ${a}.sku_norms @> ARRAY[${exactCode}] THEN 2 ELSE 0 END`
        : '0';
      // Tiers: exact model / SKU (+2), word matches (1 + rank < 1, name A > codes B > specs C >
      // description D), typo-tolerant model matches only (similarity < 1).
      const rank = `1 + ts_rank('{0.1, 0.2, 0.4, 1.0}', ${a}.terms, ${q}, 32)`;
      return code
        ? `(${exact} + CASE WHEN ${text(a)} THEN ${rank} ELSE similarity(${a}.model_norm, ${code}) * 0.99 END)::float8`
        : `(${exact} + ${rank})::float8`;
    },
  };
}

/**
 * The facets, from `cnt(facet, value, n)`: the counts of the search as (facet, value) pairs —
 * '' the total, 'brand', 'child' (child categories), 'stock', 'price' (a price), 'value' (an
 * attribute value: key U+001F '#' number or '=' text), 'pair' (two neighbouring numbers of one
 * product and attribute, key U+001F lower U+001F higher, which a bucket holding both must count
 * once). The live search and the kept counts both answer in this shape, so both shape facets with
 * this same SQL.
 */
function facetSql(p: Params): { ctes: string; columns: string } {
  const facetValues = p.add(SEARCH_LIMITS.facetValues, 'int');
  const facetAttributes = p.add(SEARCH_LIMITS.facetAttributes, 'int');
  const exactBuckets = p.add(SEARCH_LIMITS.exactBuckets, 'int');
  const buckets = p.add(SEARCH_LIMITS.bucketCount, 'int');
  const bucketOf = (v: string) => `LEAST(width_bucket(${v}, s.lo, s.hi, ${buckets}), ${buckets})`;
  const bucketLo = (v: string) =>
    `CASE WHEN s.distinct_values <= ${exactBuckets} THEN ${v}
          ELSE s.lo + (s.hi - s.lo) * (${bucketOf(v)} - 1) / ${buckets} END`;
  const bucketHi = (v: string) =>
    `CASE WHEN s.distinct_values <= ${exactBuckets} THEN ${v}
          ELSE s.lo + (s.hi - s.lo) * ${bucketOf(v)} / ${buckets} END`;
  const ctes = `
fv AS (
  SELECT c.n, split_part(c.value, E'\\x1f', 1) AS key, substr(c.value, strpos(c.value, E'\\x1f') + 1) AS v
    FROM cnt c WHERE c.facet = 'value'
),
nv AS (
  SELECT fv.key, substr(fv.v, 2)::numeric AS num, fv.n FROM fv
   WHERE left(fv.v, 1) = '#'
     AND fv.key IN (SELECT f.attribute_key FROM catalog.search_facet_attributes f WHERE f.filterable)
),
tv AS (
  SELECT fv.key, substr(fv.v, 2) AS text_value, fv.n FROM fv
   WHERE left(fv.v, 1) = '='
     AND fv.key IN (SELECT f.attribute_key FROM catalog.search_facet_attributes f WHERE f.filterable)
),
keys AS (
  SELECT key FROM (SELECT key, sum(n) AS n FROM (SELECT key, n FROM nv UNION ALL SELECT key, n FROM tv) a
                    GROUP BY key) k
   ORDER BY n DESC, key LIMIT ${facetAttributes}
),
pairs AS (
  SELECT split_part(c.value, E'\\x1f', 1) AS key, split_part(c.value, E'\\x1f', 2)::numeric AS lo,
         split_part(c.value, E'\\x1f', 3)::numeric AS hi, c.n
    FROM cnt c WHERE c.facet = 'pair'
),
num_stats AS (
  SELECT s.key, f.unit, s.lo, s.hi, s.distinct_values,
         (s.n - COALESCE((SELECT sum(pairs.n) FROM pairs WHERE pairs.key = s.key), 0))::int AS n
    FROM (SELECT nv.key, min(nv.num) AS lo, max(nv.num) AS hi, count(*)::int AS distinct_values, sum(nv.n) AS n
            FROM nv JOIN keys USING (key) GROUP BY nv.key) s
    LEFT JOIN catalog.search_facet_attributes f ON f.attribute_key = s.key
)`;
  const columns = `
  (SELECT COALESCE(json_agg(json_build_object('id', b.id, 'name', nm.name, 'count', b.n)
                            ORDER BY b.n DESC, b.id), '[]')
     FROM (SELECT c.value::uuid AS id, c.n FROM cnt c WHERE c.facet = 'brand'
            ORDER BY c.n DESC, c.value::uuid LIMIT ${p.add(SEARCH_LIMITS.facetBrands, 'int')}) b
     LEFT JOIN catalog.search_facet_names nm ON nm.facet = 'brand' AND nm.id = b.id) AS brands,
  (SELECT COALESCE(json_agg(json_build_object('id', ch.id, 'nameZh', nm.name_zh, 'nameEn', nm.name_en,
                                              'count', ch.n) ORDER BY ch.n DESC, ch.id), '[]')
     FROM (SELECT c.value::uuid AS id, c.n FROM cnt c WHERE c.facet = 'child'
            ORDER BY c.n DESC, c.value::uuid LIMIT ${p.add(SEARCH_LIMITS.facetCategories, 'int')}) ch
     LEFT JOIN catalog.search_facet_names nm ON nm.facet = 'category' AND nm.id = ch.id) AS categories,
  (SELECT COALESCE(json_agg(json_build_object('key', t.key, 'type', f.type, 'value', t.text_value,
                                              'labelZh', f.labels -> t.text_value ->> 'zh',
                                              'labelEn', f.labels -> t.text_value ->> 'en',
                                              'count', t.n, 'distinct', t.distinct_values)
                            ORDER BY t.key, t.n DESC, t.text_value), '[]')
     FROM (SELECT tv.key, tv.text_value, tv.n,
                  row_number() OVER (PARTITION BY tv.key ORDER BY tv.n DESC, tv.text_value) AS r,
                  count(*) OVER (PARTITION BY tv.key)::int AS distinct_values
             FROM tv JOIN keys USING (key)) t
     JOIN catalog.search_facet_attributes f ON f.attribute_key = t.key
    WHERE t.r <= ${facetValues}) AS text_facets,
  (SELECT COALESCE(json_agg(json_build_object('key', f.attribute_key, 'nameZh', f.name_zh, 'nameEn', f.name_en)), '[]')
     FROM catalog.search_facet_attributes f JOIN keys ON keys.key = f.attribute_key) AS facet_names,
  (SELECT COALESCE(json_agg(json_build_object('key', s.key, 'unit', s.unit, 'lo', s.lo, 'hi', s.hi,
                                              'distinct', s.distinct_values, 'count', s.n) ORDER BY s.key), '[]')
     FROM num_stats s) AS number_stats,
  (SELECT COALESCE(json_agg(json_build_object('key', b.key, 'from', b.lo, 'to', b.hi, 'count', b.n)
                            ORDER BY b.key, b.lo), '[]')
     FROM (SELECT x.key, min(x.lo)::float8 AS lo, max(x.hi)::float8 AS hi,
                  (sum(x.n) - COALESCE(min(y.n), 0))::int AS n
             FROM (SELECT nv.key, ${bucketLo('nv.num')} AS lo, ${bucketHi('nv.num')} AS hi, nv.n
                     FROM nv JOIN num_stats s USING (key)) x
             -- A product with two values in one bucket counts once there.
             LEFT JOIN (SELECT pairs.key, ${bucketLo('pairs.lo')} AS lo, sum(pairs.n) AS n
                          FROM pairs JOIN num_stats s USING (key)
                         WHERE s.distinct_values > ${exactBuckets} AND ${bucketOf('pairs.lo')} = ${bucketOf('pairs.hi')}
                         GROUP BY 1, 2) y ON y.key = x.key AND y.lo = x.lo
            GROUP BY x.key, x.lo) b) AS number_buckets,
  (SELECT COALESCE(json_agg(json_build_object('value', st.value, 'count', st.n)
                            ORDER BY st.value IS NULL, st.value), '[]')
     FROM (SELECT CASE c.value WHEN 'null' THEN NULL ELSE c.value END AS value, c.n
             FROM cnt c WHERE c.facet = 'stock') st) AS stock,
  (SELECT COALESCE(json_agg(json_build_object('lo', c.value, 'count', c.n) ORDER BY c.value::bigint), '[]')
     FROM cnt c WHERE c.facet = 'price') AS price_bands`;
  return { ctes, columns };
}

/** The page's products as the response lists them (`pg`: product_id, score, sort_key). */
function pageSql(direction: 'ASC' | 'DESC', score: string): string {
  return `COALESCE(json_agg(json_build_object(
            'id', d.product_id, 'nameZh', d.name_zh, 'nameEn', d.name_en, 'model', d.model,
            'brandId', d.brand_id, 'brandName', d.brand_name, 'skuCodes', d.sku_codes,
            'thumbnailUrl', d.thumbnail_url, 'lifecycle', d.lifecycle, 'score', ${score},
            'k', pg.sort_key::text, 'priceMinor', d.price_min_minor::text, 'currency', d.currency,
            'inStock', d.in_stock, 'stock', d.stock, 'categoryId', d.category_path[cardinality(d.category_path)])
          ORDER BY pg.sort_key ${direction}, pg.product_id), '[]')`;
}

/**
 * One search: the visible, listed products matching every query term (or, for a model number,
 * a close trigram match), narrowed by the filters, ranked, one keyset page of them, the total,
 * and the facets with counts (each facet counts with every other filter applied, not its own).
 * One SQL statement, fully parameterised: counted live over the matches, or, browsing without
 * text and filters, read from the counts the index keeps per visibility scope and category.
 */
export async function searchCatalog(
  db: Database | Queryable,
  viewer: SearchViewer,
  request: SearchRequest,
  options: SearchOptions = {},
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
  const where: string[] = ['r.listed'];
  const audiences = audiencesOf(viewer);
  const audiencesParam = audiences ? p.add(audiences, 'text[]') : null;
  if (audiencesParam) where.push(`r.audiences && ${audiencesParam}`);
  // The category facet drills down (children of the current category), so the category filter
  // narrows the candidate set for every facet.
  const categoryParam = n.category ? p.add(n.category, 'uuid') : null;
  const inCategory = categoryParam ? `r.category_path @> ARRAY[${categoryParam}]` : null;
  const text = n.parsed ? textMatch(n.parsed, p) : null;

  const flags: Flag[] = [];
  if (n.brands.length)
    flags.push({ dimension: 'brand', sql: `r.brand_id = ANY(${p.add(n.brands, 'uuid[]')})` });
  for (const filter of n.attributes) {
    const key = p.add(filter.key, 'text');
    if (filter.values) {
      // The few ids of the named values (an init plan, once per search), overlapping the row's ids.
      flags.push({
        dimension: `attr:${filter.key}`,
        sql: `r.facet_values && ARRAY(SELECT v.id FROM catalog.search_facet_values v
                                       WHERE v.attribute_key = ${key} AND v.num_value IS NULL
                                         AND v.text_value = ANY(${p.add(filter.values, 'text[]')}))`,
      });
    } else {
      const bounds = [`v.attribute_key = ${key}`, 'v.num_value IS NOT NULL'];
      if (filter.min !== undefined) bounds.push(`v.num_value >= ${p.add(filter.min, 'numeric')}`);
      if (filter.max !== undefined) bounds.push(`v.num_value <= ${p.add(filter.max, 'numeric')}`);
      // The ids in range can be many: a hashed subplan, built once, probed per value of the row
      // (inside COALESCE the planner keeps it a subplan instead of joining the dictionary per
      // value of every row).
      flags.push({
        dimension: `attr:${filter.key}`,
        sql: `EXISTS (SELECT 1 FROM unnest(r.facet_values) x(id)
                       WHERE COALESCE(x.id IN (SELECT v.id FROM catalog.search_facet_values v
                                                WHERE ${bounds.join(' AND ')}), FALSE))`,
      });
    }
  }
  if (n.price) {
    const bounds: string[] = [];
    if (n.price.min !== undefined)
      bounds.push(`r.price_min_minor >= ${p.add(String(n.price.min), 'bigint')}`);
    if (n.price.max !== undefined)
      bounds.push(`r.price_min_minor <= ${p.add(String(n.price.max), 'bigint')}`);
    flags.push({ dimension: 'price', sql: bounds.join(' AND ') });
  }
  if (n.stock) {
    flags.push({ dimension: 'stock', sql: `r.stock = ANY(${p.add(n.stock, 'text[]')})` });
  }

  const sort = SORTS[n.sort];
  const relevance = n.sort === 'relevance';
  // After the cursor's item: (sort key, product id) past the last one served.
  let keyset = (_key: string, _id: string) => 'TRUE';
  if (cursor) {
    const k = p.add(cursor.k, relevance ? 'float8' : 'bigint');
    const id = p.add(cursor.id, 'uuid');
    const past = sort.direction === 'DESC' ? '<' : '>';
    keyset = (key, productId) => `(${key} ${past} ${k} OR (${key} = ${k} AND ${productId} > ${id}))`;
  }
  const limit = p.add(n.limit, 'int');
  const facets = facetSql(p);

  let sql: string;
  if (!text && flags.length === 0 && options.keptCounts !== false) {
    // Browsing: the kept counts of the viewer's scopes under the category, and one page off the
    // narrow rows (newest first walks their index).
    const scopes = `ARRAY(SELECT s.scope FROM catalog.search_facet_scopes s${
      audiencesParam ? ` WHERE s.audiences && ${audiencesParam}` : ''
    })`;
    const order =
      n.sort === 'newest' ? 'r.created_at DESC, r.product_id' : `${sort.key} ${sort.direction}, r.product_id`;
    // The index bound lets a deep page start where the previous one ended; the exact key decides.
    const bound =
      cursor && n.sort === 'newest'
        ? ` AND r.created_at <= to_timestamp(${p.add(cursor.k, 'bigint')}::float8 / 1000000) + interval '1 second'`
        : '';
    sql = `
WITH cnt AS (
  SELECT c.facet, c.value, sum(c.n)::int AS n FROM catalog.search_facet_counts c
   WHERE c.node = ${p.add(n.category ?? WHOLE_CATALOG, 'uuid')} AND c.scope = ANY(${scopes})
   GROUP BY c.facet, c.value HAVING sum(c.n) > 0
),${facets.ctes}
SELECT
  (SELECT COALESCE(sum(n), 0)::int FROM cnt WHERE facet = '') AS total,
  NULL::int AS candidates,
  NULL::int AS counted,
  (SELECT ${pageSql(sort.direction, '0::float8')}
     FROM (SELECT r.product_id, ${sort.key} AS sort_key FROM catalog.search_facet_rows r
            WHERE ${[...where, ...(inCategory ? [inCategory] : [])].join(' AND ')}
              AND ${keyset(sort.key, 'r.product_id')}${bound}
            ORDER BY ${order} LIMIT ${limit}) pg
     JOIN catalog.search_documents d ON d.product_id = pg.product_id) AS page,${facets.columns}`;
  } else {
    // Counted over the matches in one pass: g is -1 for a row passing every filter, i for a row
    // failing only filter i (it counts for that filter's own facet), null otherwise.
    const fails = flags.map((_, i) => `(NOT f.f${i})::int`).join(' + ');
    const g = flags.length
      ? `CASE ${fails} WHEN 0 THEN -1 WHEN 1 THEN CASE ${flags.map((_, i) => `WHEN NOT f.f${i} THEN ${i}`).join(' ')} END END`
      : '-1';
    const flagColumns = flags.length
      ? `CROSS JOIN LATERAL (SELECT ${flags.map((flag, i) => `COALESCE(${flag.sql}, FALSE) AS f${i}`).join(', ')} OFFSET 0) f`
      : '';
    const indexOf = (dimension: Flag['dimension']) => flags.findIndex((flag) => flag.dimension === dimension);
    const attributeFlags = flags.flatMap((flag, i) =>
      flag.dimension.startsWith('attr:') ? [`WHEN ${p.add(flag.dimension.slice(5), 'text')} THEN ${i}`] : [],
    );
    const ownFlag = (of: string) =>
      attributeFlags.length ? `CASE ${of} ${attributeFlags.join(' ')} ELSE -1 END` : '-1';
    const exactCounts = p.add(options.exactCounts ?? SEARCH_LIMITS.exactCounts, 'int');
    const childIndex = categoryParam ? `array_position(r.category_path, ${categoryParam})` : '0';
    let from = 'catalog.search_facet_rows r';
    if (text) {
      // The documents that match, scored on the way (ts_rank reads the tsvector the scan just
      // fetched): the document row carries everything filters and counts read (migration 0109),
      // so a match costs one row, not a second probe into the facet rows. The category narrows
      // the documents too: both GIN indexes, one bitmap.
      from = 'catalog.search_documents r';
      where[0] = `r.lifecycle <> 'draft'`;
      where.push(text.where('r'));
    }
    if (inCategory) where.push(inCategory);
    sql = `
WITH m AS MATERIALIZED (
  SELECT x.product_id, x.brand_id, x.child, x.stock, catalog.search_price_band(x.price_min_minor) AS price_band,
         x.facet_values, x.facet_pairs, x.g,
         -- (only the rows that can be listed need a sort key)
         CASE WHEN x.g = -1 THEN ${relevance ? 'x.score' : sort.key.replaceAll('r.', 'x.')} END AS sort_key
    FROM (SELECT r.product_id, r.brand_id, r.category_path[${childIndex} + 1] AS child, r.stock,
                 r.price_min_minor, r.created_at, r.facet_values, r.facet_pairs${
                   text ? `, ${relevance ? text.score('r') : 'NULL::float8'} AS score` : ''
                 },
                 ${g} AS g
            FROM ${from} ${flagColumns}
           WHERE ${where.join('\n             AND ')}
          OFFSET 0) x
),
-- Above exactCounts candidates, a uniform sample of about that many (by a hash of the product id:
-- the same products for the same search) is what the facets count; the answer scales them.
sample AS (
  SELECT count(*)::int AS candidates,
         CASE WHEN count(*) > ${exactCounts} THEN ${exactCounts}::float8 / count(*) * 4294967296 END AS bound
    FROM m WHERE m.g IS NOT NULL
),
ms AS MATERIALIZED (
  SELECT m.* FROM m, sample
   WHERE m.g IS NOT NULL
     AND (sample.bound IS NULL OR hashtext(m.product_id::text)::bigint + 2147483648 < sample.bound)
),
scalars AS (
  SELECT m.g, m.brand_id, m.child, m.stock, m.price_band, count(*)::int AS n,
         GROUPING(m.brand_id, m.child, m.stock, m.price_band) AS gs
    FROM ms m
   GROUP BY GROUPING SETS ((m.g), (m.g, m.brand_id), (m.g, m.child), (m.g, m.stock), (m.g, m.price_band))
),
vals AS (
  SELECT u.g, u.v, count(*)::int AS n
    FROM (SELECT m.g, unnest(m.facet_values) AS v FROM ms m) u GROUP BY u.g, u.v
),
prs AS (
  SELECT u.g, u.x, count(*)::int AS n
    FROM (SELECT m.g, unnest(m.facet_pairs) AS x FROM ms m WHERE cardinality(m.facet_pairs) > 0) u
   GROUP BY u.g, u.x
),
cnt AS (
  SELECT facet, value, sum(n)::int AS n FROM (
    SELECT '' AS facet, '' AS value, n FROM scalars WHERE gs = 15 AND g = -1
    UNION ALL
    SELECT 'brand', brand_id::text, n FROM scalars
     WHERE gs = 7 AND brand_id IS NOT NULL AND g IN (-1, ${indexOf('brand')})
    UNION ALL
    SELECT 'child', child::text, n FROM scalars WHERE gs = 11 AND child IS NOT NULL AND g = -1
    UNION ALL
    SELECT 'stock', COALESCE(stock, 'null'), n FROM scalars WHERE gs = 13 AND g IN (-1, ${indexOf('stock')})
    UNION ALL
    SELECT 'price', price_band::text, n FROM scalars
     WHERE gs = 14 AND price_band IS NOT NULL AND g IN (-1, ${indexOf('price')})
    UNION ALL
    SELECT 'value', fv.attribute_key || E'\\x1f' || CASE WHEN fv.num_value IS NOT NULL
                                                         THEN '#' || fv.num_value::text ELSE '=' || fv.text_value END,
           vals.n
      FROM vals JOIN catalog.search_facet_values fv ON fv.id = vals.v
     WHERE vals.g = -1 OR vals.g = ${ownFlag('fv.attribute_key')}
    UNION ALL
    SELECT 'pair', a.attribute_key || E'\\x1f' || a.num_value::text || E'\\x1f' || b.num_value::text, prs.n
      FROM prs
      JOIN catalog.search_facet_values a ON a.id = (prs.x >> 32)::int
      JOIN catalog.search_facet_values b ON b.id = (prs.x & 4294967295)::int
     WHERE prs.g = -1 OR prs.g = ${ownFlag('a.attribute_key')}
  ) c GROUP BY facet, value
),${facets.ctes}
SELECT
  (SELECT count(*)::int FROM m WHERE m.g = -1) AS total,
  (SELECT candidates FROM sample) AS candidates,
  (SELECT count(*)::int FROM ms) AS counted,
  (SELECT ${pageSql(sort.direction, relevance ? 'pg.sort_key' : text ? text.score('d') : '0::float8')}
     FROM (SELECT m.product_id, m.sort_key FROM m WHERE m.g = -1 AND ${keyset('m.sort_key', 'm.product_id')}
            ORDER BY m.sort_key ${sort.direction}, m.product_id LIMIT ${limit}) pg
     JOIN catalog.search_documents d ON d.product_id = pg.product_id) AS page,${facets.columns}`;
  }
  const fuzzy = Boolean(text && n.parsed?.fuzzyCode);
  // One transaction per search: its settings stay local to it. JIT compilation costs more than
  // these statements run; the matches and their counts stay in memory (the server's default
  // work_mem spills a broad search's candidates to disk); the trigram index prunes by
  // pg_trgm.similarity_threshold, and at the bound search keeps anyway it returns a fraction of
  // the candidates its 0.3 default would.
  const run = async (tx: Queryable) => {
    await tx.query(
      `SELECT set_config('jit', 'off', true), set_config('work_mem', '${SEARCH_WORK_MEM}', true)${
        fuzzy ? `, set_config('pg_trgm.similarity_threshold', $1, true)` : ''
      }`,
      fuzzy ? [String(FUZZY_SIMILARITY)] : [],
    );
    return (await tx.query<Row>(sql, p.values)).rows;
  };
  const rows = 'transaction' in db ? await db.transaction(run) : await run(db);
  return shape(n, rows[0]!, cursor, fingerprint);
}

/**
 * The price bands (`catalog.search_price_band`): [0, 100) minor units, then 1, 2 and 5 times a
 * power of ten times 100, each up to the next edge. Answers the band's (exclusive) end.
 */
export function priceBandEnd(lo: bigint): bigint {
  if (lo < 100n) return 100n;
  const lead = String(lo / 100n)[0];
  return lead === '1' ? lo * 2n : lead === '2' ? (lo * 5n) / 2n : lo * 2n;
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

/**
 * Counts of a sample scaled to all the candidates (README, "Exact counts"): a value seen in the
 * sample counts at least 1.
 */
function scaleCounts(row: Row): Row {
  const { candidates, counted } = row;
  if (candidates === null || counted === null || counted === 0 || counted >= candidates) return row;
  const factor = candidates / counted;
  const scale = <T extends { count: number }>(list: T[]): T[] =>
    list.map((entry) => ({
      ...entry,
      count: entry.count > 0 ? Math.max(1, Math.round(entry.count * factor)) : 0,
    }));
  return {
    ...row,
    brands: scale(row.brands),
    categories: scale(row.categories),
    text_facets: scale(row.text_facets),
    number_stats: scale(row.number_stats),
    number_buckets: scale(row.number_buckets),
    stock: scale(row.stock),
    price_bands: scale(row.price_bands),
  };
}

function shape(n: Normalised, counted: Row, cursor: Cursor | null, fingerprint: string): SearchResult {
  const row = scaleCounts(counted);
  const countsExact = row.candidates === null || row.counted === null || row.counted >= row.candidates;
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
    stock: item.stock,
    matchedSkuCodes: matchedSkus(n.parsed, item.skuCodes),
    score: item.score,
  }));

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
  const bands: PriceBand[] = row.price_bands.map((band) => {
    const lo = BigInt(band.lo);
    return { minMinor: band.lo, maxMinor: String(priceBandEnd(lo) - 1n), count: band.count };
  });

  return {
    query: n.parsed?.text ?? null,
    total: row.total,
    countsExact,
    items,
    facets: {
      brands: row.brands.map((b) => ({ id: b.id, name: b.name ?? '', count: b.count })),
      categories: {
        parentId: n.category,
        values: row.categories.map((c) => ({
          id: c.id,
          nameZh: c.nameZh ?? '',
          nameEn: c.nameEn ?? '',
          count: c.count,
        })),
      },
      attributes,
      price: bands.length ? { count: bands.reduce((sum, b) => sum + b.count, 0), bands } : null,
      stock: row.stock,
    },
    nextCursor: more ? encodeCursor({ h: fingerprint, k: last.k, id: last.id, n: served }) : null,
  };
}
