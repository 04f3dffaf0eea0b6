import type { Database, Queryable } from '../../platform/database/database.ts';
import { buildTsVector, MAX_TERM_LENGTH, normalizeModel, normalizeText } from './tokenize.ts';

/** The attribute kinds of the catalog's attribute definitions. */
export type AttributeType = 'number' | 'enum' | 'text' | 'boolean' | 'range';

/** One typed specification value of a product, as the catalog's product document carries it. */
export interface SearchAttribute {
  key: string;
  type: AttributeType;
  unit?: string | null;
  /** Offered as a facet and as a filter. */
  filterable: boolean;
  /** number: a number (or its decimal text); enum: the option value (or several); text: text; boolean. */
  value?: number | string | boolean | Array<string> | null;
  /** range attributes. */
  min?: number | string | null;
  max?: number | string | null;
  /** The attribute's names (facet labels). */
  nameZh?: string | null;
  nameEn?: string | null;
  /** An enum option's names. */
  label?: { zh: string; en: string } | null;
}

/**
 * One product as search indexes it. The fields follow the catalog's `ProductDocument`
 * (`loadProductDocument`), plus the placeholders pricing and inventory will fill.
 */
export interface SearchDocument {
  id: string;
  nameZh: string;
  nameEn: string;
  descriptionZh?: string | null;
  descriptionEn?: string | null;
  model?: string | null;
  brand?: { id: string; name: string; nameZh?: string | null } | null;
  /** Root first. */
  categoryPath: Array<{ id: string; nameZh: string; nameEn: string }>;
  skuCodes: string[];
  attributes: SearchAttribute[];
  /** The SKUs' variant values (size, material, ...): searchable and filterable like attributes. */
  variants?: SearchAttribute[];
  /** Application scenarios (应用场景) and other keywords. */
  scenarios?: string[];
  lifecycle: 'draft' | 'active' | 'discontinued';
  createdAt: string | Date;
  updatedAt?: string | Date | null;
  thumbnailUrl?: string | null;
  /**
   * Price and stock (README, "Price and stock"): the lowest default list price of the product's
   * SKUs and its stock availability. `undefined` keeps what the index holds (a lookup that could
   * not run), null means none / not known.
   */
  priceMinMinor?: bigint | number | string | null;
  currency?: string | null;
  stock?: StockState | null;
  /** When price and stock were looked up (null: never; set by `indexProducts` for kept ones). */
  offersAt?: string | Date | null;
}

/** Stock availability as search shows and filters it. */
export const STOCK_STATES = ['in_stock', 'low_stock', 'out_of_stock'] as const;
export type StockState = (typeof STOCK_STATES)[number];

const ATTRIBUTE_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_TEXT_VALUE = 200;
const MAX_VALUES_PER_ATTRIBUTE = 50;
const MAX_SKUS = 1_000;

interface AttributeRow {
  key: string;
  num: string | null;
  text: string | null;
}

function numberText(value: unknown): string | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? String(n) : null;
}

function textValue(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = normalizeText(value, MAX_TEXT_VALUE).trim();
  return text || null;
}

/** The narrow rows of the filterable attributes (range attributes are searchable text only). */
export function attributeRows(attributes: SearchAttribute[]): AttributeRow[] {
  const rows: AttributeRow[] = [];
  const seen = new Set<string>();
  const add = (key: string, num: string | null, text: string | null) => {
    const id = `${key}\u0000${num ?? ''}\u0000${text ?? ''}`;
    if ((num === null && text === null) || seen.has(id)) return;
    seen.add(id);
    rows.push({ key, num, text });
  };
  for (const attribute of attributes) {
    if (!attribute.filterable || !ATTRIBUTE_KEY.test(attribute.key)) continue;
    const { key, value } = attribute;
    switch (attribute.type) {
      case 'number':
        add(key, numberText(value), null);
        break;
      case 'boolean':
        if (typeof value === 'boolean') add(key, null, String(value));
        break;
      case 'enum':
      case 'text':
        for (const one of (Array.isArray(value) ? value : [value]).slice(0, MAX_VALUES_PER_ATTRIBUTE)) {
          add(key, null, textValue(one));
        }
        break;
      case 'range':
        break;
    }
  }
  return rows;
}

/** The product's own values, then its SKUs' variant values. */
function allAttributes(doc: SearchDocument): SearchAttribute[] {
  return doc.variants?.length ? [...doc.attributes, ...doc.variants] : doc.attributes;
}

/** The text of an attribute value that goes into the index (weight C). */
function attributeText(attribute: SearchAttribute): string {
  const parts: string[] = [];
  const push = (value: unknown) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) for (const one of value) push(one);
    else if (typeof value === 'string' || typeof value === 'number') parts.push(String(value));
  };
  // Numbers are found through range filters, not words: `123.4 g` as terms would only be noise.
  if (attribute.type === 'boolean' || attribute.type === 'number' || attribute.type === 'range') return '';
  push(attribute.value);
  push(attribute.label?.zh);
  push(attribute.label?.en);
  return parts.join(' ');
}

/**
 * A PostgreSQL array literal (`{"a","b \"c\""}`) of text values: one bind parameter per row
 * carries a whole array through `unnest`, parsed by the server's array input, never as SQL.
 */
function arrayLiteral(values: string[]): string {
  return `{${values.map((value) => `"${value.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

/** The row values of one document, in the column order of the INSERT below. */
function documentRow(doc: SearchDocument): unknown[] {
  const skus = doc.skuCodes.slice(0, MAX_SKUS);
  const terms = buildTsVector([
    { weight: 'A', text: doc.nameZh },
    { weight: 'A', text: doc.nameEn },
    { weight: 'B', text: doc.model ?? '' },
    { weight: 'B', text: skus.join(' ') },
    { weight: 'B', text: [doc.brand?.name, doc.brand?.nameZh].filter(Boolean).join(' ') },
    { weight: 'C', text: allAttributes(doc).map(attributeText).join(' ') },
    { weight: 'C', text: doc.categoryPath.map((c) => `${c.nameZh} ${c.nameEn}`).join(' ') },
    { weight: 'C', text: (doc.scenarios ?? []).join(' ') },
    { weight: 'D', text: doc.descriptionZh ?? '' },
    { weight: 'D', text: doc.descriptionEn ?? '' },
  ]);
  const price =
    doc.priceMinMinor === null || doc.priceMinMinor === undefined ? null : String(doc.priceMinMinor);
  return [
    doc.id,
    terms,
    doc.nameZh,
    doc.nameEn,
    doc.model ?? null,
    doc.model ? normalizeModel(doc.model) || null : null,
    arrayLiteral(skus),
    arrayLiteral(skus.map(normalizeModel).filter(Boolean)),
    doc.brand?.id ?? null,
    doc.brand ? brandName(doc.brand) : null,
    arrayLiteral(doc.categoryPath.map((c) => c.id)),
    doc.thumbnailUrl ?? null,
    price,
    doc.currency ?? null,
    doc.stock ?? null,
    doc.lifecycle,
    new Date(doc.createdAt).toISOString(),
    doc.updatedAt ? new Date(doc.updatedAt).toISOString() : null,
    doc.offersAt === undefined
      ? new Date().toISOString()
      : doc.offersAt
        ? new Date(doc.offersAt).toISOString()
        : null,
  ];
}

/**
 * Upserts many documents with one statement per table: every column travels as one array
 * parameter (`unnest`), so a batch of 1,000 products is three round trips, fully parameterised.
 */
async function writeDocuments(db: Queryable, docs: SearchDocument[]): Promise<void> {
  if (docs.length === 0) return;
  const facets = await facetArrays(db, docs);
  const table = docs.map(documentRow);
  const columns = [
    ...table[0]!.map((_, index) => table.map((row) => row[index])),
    docs.map((doc) => facets.get(doc.id)!.values),
    docs.map((doc) => facets.get(doc.id)!.pairs),
  ];
  const { rows } = await db.query(
    `INSERT INTO catalog.search_documents AS d (
       product_id, terms, name_zh, name_en, model, model_norm, sku_codes, sku_norms, brand_id,
       brand_name, category_path, thumbnail_url, price_min_minor, currency, stock, in_stock, lifecycle,
       created_at, source_updated_at, indexed_at, offers_at, audiences, facet_values, facet_pairs)
     SELECT u.id, u.terms::tsvector, u.name_zh, u.name_en, u.model, u.model_norm,
            u.skus::text[], u.sku_norms::text[], u.brand_id, u.brand_name, u.path::uuid[],
            u.thumbnail, u.price::bigint, u.currency, u.stock, u.stock IN ('in_stock', 'low_stock'),
            u.lifecycle, u.created_at, u.updated_at, now(), u.offers_at,
            ARRAY(SELECT v.audience FROM catalog.product_visibility v
                   WHERE v.product_id = u.id ORDER BY v.audience COLLATE "C"),
            u.vals::integer[], u.pairs::bigint[]
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                   $7::text[], $8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[],
                   $13::text[], $14::text[], $15::text[], $16::text[], $17::timestamptz[],
                   $18::timestamptz[], $19::timestamptz[], $20::text[], $21::text[])
         AS u(id, terms, name_zh, name_en, model, model_norm, skus, sku_norms, brand_id,
              brand_name, path, thumbnail, price, currency, stock, lifecycle, created_at,
              updated_at, offers_at, vals, pairs)
     ON CONFLICT (product_id) DO UPDATE SET
       terms = EXCLUDED.terms, name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
       model = EXCLUDED.model, model_norm = EXCLUDED.model_norm, sku_codes = EXCLUDED.sku_codes,
       sku_norms = EXCLUDED.sku_norms, brand_id = EXCLUDED.brand_id, brand_name = EXCLUDED.brand_name,
       category_path = EXCLUDED.category_path, thumbnail_url = EXCLUDED.thumbnail_url,
       price_min_minor = EXCLUDED.price_min_minor, currency = EXCLUDED.currency,
       stock = EXCLUDED.stock, in_stock = EXCLUDED.in_stock, offers_at = EXCLUDED.offers_at,
       audiences = EXCLUDED.audiences, facet_values = EXCLUDED.facet_values, facet_pairs = EXCLUDED.facet_pairs, lifecycle = EXCLUDED.lifecycle, created_at = EXCLUDED.created_at,
       source_updated_at = EXCLUDED.source_updated_at, indexed_at = now()
     -- A document older than the indexed one (two re-indexes racing) never overwrites it.
     WHERE d.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL
        OR EXCLUDED.source_updated_at >= d.source_updated_at
     RETURNING d.product_id`,
    columns,
  );
  const written = new Set(rows.map((row) => row.product_id as string));
  const fresh = docs.filter((doc) => written.has(doc.id));
  if (fresh.length === 0) return;
  await writeFacetRows(db, fresh, facets);
  await registerAttributes(db, fresh);
  await registerNames(db, fresh);
}

/** Each distinct attribute value of the documents in the value dictionary; answers their ids. */
async function facetValueIds(db: Queryable, values: AttributeRow[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (values.length === 0) return ids;
  const numbers = values.filter((v) => v.num !== null);
  const texts = values.filter((v) => v.text !== null);
  // Sorted, so concurrent writers insert dictionary rows in one order.
  await db.query(
    `INSERT INTO catalog.search_facet_values (attribute_key, num_value, text_value)
     SELECT * FROM unnest($1::text[], $2::numeric[], $3::text[]) ORDER BY 1, 2, 3
     ON CONFLICT (attribute_key, num_value, text_value) DO NOTHING`,
    [values.map((v) => v.key), values.map((v) => v.num), values.map((v) => v.text)],
  );
  const { rows } = await db.query<{ i: string; id: number }>(
    `SELECT u.i::text AS i, f.id FROM unnest($1::text[], $2::numeric[]) WITH ORDINALITY AS u(key, num, i)
       JOIN catalog.search_facet_values f ON f.attribute_key = u.key AND f.num_value = u.num
     UNION ALL
     SELECT 't' || u.i, f.id FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS u(key, txt, i)
       JOIN catalog.search_facet_values f
         ON f.attribute_key = u.key AND f.num_value IS NULL AND f.text_value = u.txt`,
    [numbers.map((v) => v.key), numbers.map((v) => v.num), texts.map((v) => v.key), texts.map((v) => v.text)],
  );
  for (const row of rows) {
    const value = row.i.startsWith('t') ? texts[Number(row.i.slice(1)) - 1]! : numbers[Number(row.i) - 1]!;
    ids.set(valueKey(value), row.id);
  }
  return ids;
}

function valueKey(value: AttributeRow): string {
  return `${value.key}\u0000${value.num ?? ''}\u0000${value.text ?? ''}`;
}

/**
 * Each document's filterable attribute values as ascending ids of the value dictionary, and the
 * neighbouring number pairs of its multi-valued attributes, as array literals.
 */
async function facetArrays(
  db: Queryable,
  docs: SearchDocument[],
): Promise<Map<string, { values: string; pairs: string }>> {
  const perDoc = docs.map((doc) => attributeRows(allAttributes(doc)));
  const distinct = new Map<string, AttributeRow>();
  for (const rows of perDoc) for (const row of rows) distinct.set(valueKey(row), row);
  const ids = await facetValueIds(db, [...distinct.values()]);
  const valueIds = perDoc.map((rows) =>
    [...new Set(rows.map((row) => ids.get(valueKey(row))!))].sort((a, b) => a - b),
  );
  const pairs = perDoc.map((rows) => {
    const byKey = new Map<string, Array<{ value: number; id: number }>>();
    for (const row of rows) {
      if (row.num === null) continue;
      const list = byKey.get(row.key) ?? [];
      list.push({ value: Number(row.num), id: ids.get(valueKey(row))! });
      byKey.set(row.key, list);
    }
    const out: bigint[] = [];
    for (const list of byKey.values()) {
      list.sort((a, b) => a.value - b.value);
      for (let i = 1; i < list.length; i++) out.push((BigInt(list[i - 1]!.id) << 32n) + BigInt(list[i]!.id));
    }
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  });
  return new Map(
    docs.map((doc, i) => [
      doc.id,
      { values: `{${valueIds[i]!.join(',')}}`, pairs: `{${pairs[i]!.join(',')}}` },
    ]),
  );
}

/**
 * The narrow rows filters and facet counts read (the documents carry the same values: a search
 * with words reads only documents): lifecycle, audiences (from the catalog's visibility, as of
 * now: the caller holds the visibility lock), brand, category path, sort keys, attribute values as
 * dictionary ids, and neighbouring number pairs of multi-valued attributes.
 */
async function writeFacetRows(
  db: Queryable,
  docs: SearchDocument[],
  facets: Map<string, { values: string; pairs: string }>,
): Promise<void> {
  const price = (doc: SearchDocument) =>
    doc.priceMinMinor === null || doc.priceMinMinor === undefined ? null : String(doc.priceMinMinor);
  await db.query(
    `INSERT INTO catalog.search_facet_rows AS r (product_id, listed, audiences, brand_id, category_path,
       created_at, price_min_minor, stock, facet_values, facet_pairs)
     SELECT u.id, u.listed,
            ARRAY(SELECT v.audience FROM catalog.product_visibility v
                   WHERE v.product_id = u.id ORDER BY v.audience COLLATE "C"),
            u.brand_id, u.path::uuid[], u.created_at, u.price::bigint, u.stock, u.vals::integer[],
            u.pairs::bigint[]
       FROM unnest($1::uuid[], $2::boolean[], $3::uuid[], $4::text[], $5::timestamptz[], $6::text[],
                   $7::text[], $8::text[], $9::text[])
         AS u(id, listed, brand_id, path, created_at, price, stock, vals, pairs)
      ORDER BY u.id
     ON CONFLICT (product_id) DO UPDATE SET
       listed = EXCLUDED.listed, audiences = EXCLUDED.audiences, brand_id = EXCLUDED.brand_id,
       category_path = EXCLUDED.category_path, created_at = EXCLUDED.created_at,
       price_min_minor = EXCLUDED.price_min_minor, stock = EXCLUDED.stock,
       facet_values = EXCLUDED.facet_values, facet_pairs = EXCLUDED.facet_pairs
     WHERE (r.listed, r.audiences, r.brand_id, r.category_path, r.created_at, r.price_min_minor, r.stock,
            r.facet_values, r.facet_pairs)
           IS DISTINCT FROM (EXCLUDED.listed, EXCLUDED.audiences, EXCLUDED.brand_id, EXCLUDED.category_path,
                             EXCLUDED.created_at, EXCLUDED.price_min_minor, EXCLUDED.stock,
                             EXCLUDED.facet_values, EXCLUDED.facet_pairs)`,
    [
      docs.map((doc) => doc.id),
      docs.map((doc) => doc.lifecycle !== 'draft'),
      docs.map((doc) => doc.brand?.id ?? null),
      docs.map((doc) => arrayLiteral(doc.categoryPath.map((c) => c.id))),
      docs.map((doc) => new Date(doc.createdAt).toISOString()),
      docs.map(price),
      docs.map((doc) => doc.stock ?? null),
      docs.map((doc) => facets.get(doc.id)!.values),
      docs.map((doc) => facets.get(doc.id)!.pairs),
    ],
  );
}

/** Brand and category names for facet labels, as these documents carry them. */
async function registerNames(db: Queryable, docs: SearchDocument[]): Promise<void> {
  const names = new Map<string, [string, string, string | null, string | null, string | null]>();
  for (const doc of docs) {
    if (doc.brand)
      names.set(`brand:${doc.brand.id}`, ['brand', doc.brand.id, brandName(doc.brand), null, null]);
    for (const c of doc.categoryPath) {
      names.set(`category:${c.id}`, ['category', c.id, null, c.nameZh, c.nameEn]);
    }
  }
  const list = [...names.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row);
  if (list.length === 0) return;
  await db.query(
    `INSERT INTO catalog.search_facet_names AS n (facet, id, name, name_zh, name_en)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[])
     ON CONFLICT (facet, id) DO UPDATE SET name = EXCLUDED.name, name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en
     WHERE (n.name, n.name_zh, n.name_en) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.name_zh, EXCLUDED.name_en)`,
    [0, 1, 2, 3, 4].map((i) => list.map((row) => row[i])),
  );
}

function brandName(brand: NonNullable<SearchDocument['brand']>): string {
  return brand.nameZh ? `${brand.name} ${brand.nameZh}` : brand.name;
}

/** Records (and updates when they changed) the attribute definitions the documents carry. */
async function registerAttributes(db: Queryable, docs: SearchDocument[]): Promise<void> {
  const byKey = new Map<
    string,
    { attribute: SearchAttribute; labels: Record<string, { zh: string; en: string }> }
  >();
  for (const doc of docs) {
    for (const attribute of allAttributes(doc)) {
      if (!ATTRIBUTE_KEY.test(attribute.key)) continue;
      const entry = byKey.get(attribute.key) ?? { attribute, labels: {} };
      entry.attribute = attribute;
      const value = textValue(attribute.value);
      if (attribute.type === 'enum' && attribute.label && value !== null) {
        entry.labels[value] = {
          zh: normalizeText(attribute.label.zh, MAX_TEXT_VALUE),
          en: normalizeText(attribute.label.en, MAX_TEXT_VALUE),
        };
      }
      byKey.set(attribute.key, entry);
    }
  }
  if (byKey.size === 0) return;
  // Sorted keys: concurrent indexers lock registry rows in one order.
  const list = [...byKey.values()].sort((a, b) => (a.attribute.key < b.attribute.key ? -1 : 1));
  const name = (text: string | null | undefined) => (text ? normalizeText(text, MAX_TEXT_VALUE) : null);
  await db.query(
    `INSERT INTO catalog.search_facet_attributes AS f (attribute_key, type, unit, filterable, name_zh, name_en, labels)
     SELECT k, t, u, fl, nz, ne, l::jsonb
       FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[])
         AS x(k, t, u, fl, nz, ne, l)
     ON CONFLICT (attribute_key) DO UPDATE SET
       type = EXCLUDED.type, unit = EXCLUDED.unit, filterable = EXCLUDED.filterable,
       name_zh = COALESCE(EXCLUDED.name_zh, f.name_zh), name_en = COALESCE(EXCLUDED.name_en, f.name_en),
       labels = f.labels || EXCLUDED.labels, updated_at = now()
     WHERE (f.type, f.unit, f.filterable) IS DISTINCT FROM (EXCLUDED.type, EXCLUDED.unit, EXCLUDED.filterable)
        OR (EXCLUDED.name_zh IS NOT NULL AND EXCLUDED.name_zh IS DISTINCT FROM f.name_zh)
        OR (EXCLUDED.name_en IS NOT NULL AND EXCLUDED.name_en IS DISTINCT FROM f.name_en)
        OR NOT f.labels @> EXCLUDED.labels`,
    [
      list.map((e) => e.attribute.key),
      list.map((e) => e.attribute.type),
      list.map((e) => (e.attribute.unit ? e.attribute.unit.slice(0, MAX_TERM_LENGTH) : null)),
      list.map((e) => e.attribute.filterable),
      list.map((e) => name(e.attribute.nameZh)),
      list.map((e) => name(e.attribute.nameEn)),
      list.map((e) => JSON.stringify(e.labels)),
    ],
  );
}

function isDatabase(db: Queryable | Database): db is Database {
  return typeof (db as Database).transaction === 'function';
}

/**
 * Index writes take the catalog's visibility lock first (the lock `refreshVisibility` takes): the
 * audiences a facet row copies from `catalog.product_visibility` are then current until commit,
 * and a visibility change committed later finds the row and updates it (migration 0104).
 */
async function lockIndexWrites(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('catalog.product_visibility'))`);
}

/**
 * (Re-)indexes one product: its document row, its facet row (and the facet counts, by trigger),
 * the attribute and name registries, atomically. Given the pool it opens its own transaction;
 * given a transaction client it writes inside it.
 */
export async function indexProduct(db: Queryable | Database, doc: SearchDocument): Promise<void> {
  await indexProducts(db, [doc]);
}

/**
 * Documents without a price or stock of their own (`undefined`: the lookup could not run) keep
 * what the index holds (in place: `docs` are the caller's copies from `indexProducts`).
 */
async function keepIndexedOffers(tx: Queryable, docs: SearchDocument[]): Promise<void> {
  const unknown = docs.filter((doc) => doc.priceMinMinor === undefined || doc.stock === undefined);
  if (unknown.length === 0) return;
  const { rows } = await tx.query<{
    product_id: string;
    price: string | null;
    currency: string | null;
    stock: StockState | null;
    offers_at: Date | null;
  }>(
    `SELECT product_id, price_min_minor::text AS price, currency, stock, offers_at
       FROM catalog.search_documents WHERE product_id = ANY($1::uuid[])`,
    [unknown.map((doc) => doc.id)],
  );
  const indexed = new Map(rows.map((row) => [row.product_id, row]));
  for (const doc of unknown) {
    const row = indexed.get(doc.id);
    if (doc.priceMinMinor === undefined) {
      doc.priceMinMinor = row?.price ?? null;
      doc.currency = row?.currency ?? null;
    }
    if (doc.stock === undefined) doc.stock = row?.stock ?? null;
    doc.offersAt = row?.offers_at ?? null;
  }
}

/** Indexes many products (batches of up to 1,000 per statement). */
export async function indexProducts(db: Queryable | Database, docs: SearchDocument[]): Promise<void> {
  // One row per product in a statement: the last document of an id wins.
  const unique = [...new Map(docs.map((doc) => [doc.id, { ...doc }])).values()];
  const write = async (tx: Queryable) => {
    if (unique.length) await lockIndexWrites(tx);
    await keepIndexedOffers(tx, unique);
    for (let start = 0; start < unique.length; start += 1_000) {
      await writeDocuments(tx, unique.slice(start, start + 1_000));
    }
  };
  if (isDatabase(db)) await db.transaction(write);
  else await write(db);
}

/** Drops a product from the index with its facet row. */
export async function removeProduct(db: Queryable | Database, productId: string): Promise<void> {
  const remove = async (tx: Queryable) => {
    await lockIndexWrites(tx);
    await tx.query('DELETE FROM catalog.search_facet_rows WHERE product_id = $1', [productId]);
    await tx.query('DELETE FROM catalog.search_documents WHERE product_id = $1', [productId]);
  };
  if (isDatabase(db)) await db.transaction(remove);
  else await remove(db);
}

/**
 * A product's price and stock as search keeps them (README, "Price and stock"); `undefined` keeps
 * the indexed value.
 */
export interface ProductOffer {
  priceMinMinor: bigint | null;
  currency: string | null;
  stock: StockState | null;
}

export interface OfferUpdate {
  price?: Pick<ProductOffer, 'priceMinMinor' | 'currency'> | undefined;
  stock?: StockState | null | undefined;
}

/**
 * Writes new prices and stock of indexed products (documents and facet rows; the facet counts
 * follow by trigger), without re-indexing anything else. Products not in the index are skipped.
 */
export async function updateOffers(
  db: Queryable | Database,
  offers: ReadonlyMap<string, OfferUpdate>,
): Promise<void> {
  const entries = [...offers.entries()]
    .filter(([, o]) => o.price !== undefined || o.stock !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return;
  const params = [
    entries.map(([id]) => id),
    entries.map(([, o]) => o.price !== undefined),
    entries.map(([, o]) => (o.price?.priceMinMinor == null ? null : String(o.price.priceMinMinor))),
    entries.map(([, o]) => o.price?.currency ?? null),
    entries.map(([, o]) => o.stock !== undefined),
    entries.map(([, o]) => o.stock ?? null),
  ];
  const offer = `unnest($1::uuid[], $2::boolean[], $3::text[], $4::text[], $5::boolean[], $6::text[])
                 AS u(id, new_price, price, currency, new_stock, stock)`;
  const write = async (tx: Queryable) => {
    await lockIndexWrites(tx);
    await tx.query(
      `UPDATE catalog.search_documents d
          SET price_min_minor = CASE WHEN u.new_price THEN u.price::bigint ELSE d.price_min_minor END,
              currency = CASE WHEN u.new_price THEN u.currency ELSE d.currency END,
              stock = CASE WHEN u.new_stock THEN u.stock ELSE d.stock END,
              in_stock = CASE WHEN u.new_stock THEN u.stock IN ('in_stock', 'low_stock') ELSE d.in_stock END,
              offers_at = now()
         FROM ${offer}
        WHERE d.product_id = u.id`,
      params,
    );
    // One statement, rows in id order (concurrent writers lock them in one order); unchanged rows
    // are not written, so their counts are not touched.
    await tx.query(
      `UPDATE catalog.search_facet_rows r
          SET price_min_minor = CASE WHEN u.new_price THEN u.price::bigint ELSE r.price_min_minor END,
              stock = CASE WHEN u.new_stock THEN u.stock ELSE r.stock END
         FROM ${offer}
        WHERE r.product_id = u.id
          AND (r.price_min_minor, r.stock) IS DISTINCT FROM
              (CASE WHEN u.new_price THEN u.price::bigint ELSE r.price_min_minor END,
               CASE WHEN u.new_stock THEN u.stock ELSE r.stock END)`,
      params,
    );
  };
  if (isDatabase(db)) await db.transaction(write);
  else await write(db);
}
