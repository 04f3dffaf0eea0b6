-- Catalog search: price bands and stock availability from pricing and inventory
-- (core/catalog/search/README.md, "Price and stock").
--
-- 1. Stock is three-valued (in_stock, low_stock, out_of_stock; null = not known) instead of a
--    boolean: documents and facet rows hold `stock`; documents keep `in_stock` (in or low) for
--    the result items.
-- 2. Price facets count coarse bands, not prices: the kept counts hold one row per band per
--    scope and category node (a 1-2-5 series: 0–0.99, 1–1.99, 2–4.99, 5–9.99, 10–19.99 … in
--    major units), so browsing reads a few rows however many distinct prices the catalog has.
-- 3. `offers_at`: when price and stock were last looked up, so a rolling refresh can find the
--    oldest ones.

-- The lower edge of a price's band, in minor units: 0 below 100, else 1, 2 or 5 times a power of
-- ten times 100 (integers only: exact at every edge); null for null. Not STRICT, so the planner
-- inlines it into the statements that count.
CREATE FUNCTION catalog.search_price_band(price bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN price < 100 THEN 0::bigint
              ELSE (10::numeric ^ (length((price / 100)::text) - 1))::bigint * 100
                   * CASE WHEN left((price / 100)::text, 1)::int >= 5 THEN 5
                          WHEN left((price / 100)::text, 1)::int >= 2 THEN 2 ELSE 1 END
         END
$$;

ALTER TABLE catalog.search_documents
  ADD COLUMN stock text CHECK (stock IN ('in_stock', 'low_stock', 'out_of_stock')),
  ADD COLUMN offers_at timestamptz;
-- The rolling refresh reads the oldest first.
CREATE INDEX search_documents_offers_idx ON catalog.search_documents (offers_at NULLS FIRST);
UPDATE catalog.search_documents
   SET stock = CASE in_stock WHEN TRUE THEN 'in_stock' WHEN FALSE THEN 'out_of_stock' END
 WHERE in_stock IS NOT NULL;

-- The facet rows' copy moves without counting (the counts are recounted below in the new form).
ALTER TABLE catalog.search_facet_rows
  ADD COLUMN stock text CHECK (stock IN ('in_stock', 'low_stock', 'out_of_stock'));
ALTER TABLE catalog.search_facet_rows DISABLE TRIGGER search_facet_rows_updated;
UPDATE catalog.search_facet_rows
   SET stock = CASE in_stock WHEN TRUE THEN 'in_stock' WHEN FALSE THEN 'out_of_stock' END
 WHERE in_stock IS NOT NULL;
ALTER TABLE catalog.search_facet_rows ENABLE TRIGGER search_facet_rows_updated;
ALTER TABLE catalog.search_facet_rows DROP COLUMN in_stock;

-- As 0106, with 'stock' the three-valued stock ('null' when not known) and 'price' the band.
CREATE OR REPLACE FUNCTION catalog.search_facet_apply(added catalog.search_facet_rows[], removed catalog.search_facet_rows[])
RETURNS void LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  d_scope text[];
  d_node  uuid[];
  d_facet text[];
  d_value text[];
  d_n     integer[];
BEGIN
  IF cardinality(added) = 0 AND cardinality(removed) = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('catalog.search_facet_counts'));
  INSERT INTO catalog.search_facet_scopes (scope, audiences)
  SELECT DISTINCT CASE WHEN 'public' = ANY (r.audiences) THEN 'public' ELSE r.audiences::text END,
         CASE WHEN 'public' = ANY (r.audiences) THEN ARRAY['public'] ELSE r.audiences END
    FROM unnest(added) r WHERE r.listed
   ORDER BY 1
  ON CONFLICT DO NOTHING;
  WITH changed AS (
    SELECT 1 AS sign, r.* FROM unnest(added) r WHERE r.listed
    UNION ALL
    SELECT -1, r.* FROM unnest(removed) r WHERE r.listed
  ), scoped AS (
    SELECT c.*, CASE WHEN 'public' = ANY (c.audiences) THEN 'public' ELSE c.audiences::text END AS scope
      FROM changed c
  ), noded AS (
    SELECT s.*, n.level, n.node
      FROM scoped s
     CROSS JOIN LATERAL (SELECT 0 AS level, '00000000-0000-0000-0000-000000000000'::uuid AS node
                         UNION ALL
                         SELECT i, s.category_path[i] FROM generate_subscripts(s.category_path, 1) i) n
  ), keys AS (
    SELECT sign, scope, node, '' AS facet, '' AS value FROM noded
    UNION ALL
    SELECT sign, scope, node, 'brand', brand_id::text FROM noded WHERE brand_id IS NOT NULL
    UNION ALL
    SELECT sign, scope, node, 'child', category_path[level + 1]::text FROM noded
     WHERE cardinality(category_path) > level
    UNION ALL
    SELECT sign, scope, node, 'stock', COALESCE(stock, 'null') FROM noded
    UNION ALL
    SELECT sign, scope, node, 'price', catalog.search_price_band(price_min_minor)::text FROM noded
     WHERE price_min_minor IS NOT NULL
    UNION ALL
    SELECT n.sign, n.scope, n.node, 'value',
           f.attribute_key || E'\x1f' || CASE WHEN f.num_value IS NOT NULL THEN '#' || f.num_value::text
                                               ELSE '=' || f.text_value END
      FROM noded n CROSS JOIN LATERAL unnest(n.facet_values) v
      JOIN catalog.search_facet_values f ON f.id = v
    UNION ALL
    SELECT n.sign, n.scope, n.node, 'pair',
           a.attribute_key || E'\x1f' || a.num_value::text || E'\x1f' || b.num_value::text
      FROM noded n CROSS JOIN LATERAL unnest(n.facet_pairs) p
      JOIN catalog.search_facet_values a ON a.id = (p >> 32)::int
      JOIN catalog.search_facet_values b ON b.id = (p & 4294967295)::int
  )
  -- In key order (from the sorted subquery), so concurrent writers lock count rows in one order.
  SELECT array_agg(scope), array_agg(node), array_agg(facet), array_agg(value), array_agg(n)
    INTO d_scope, d_node, d_facet, d_value, d_n
    FROM (SELECT scope, node, facet, value, sum(sign)::integer AS n FROM keys
           GROUP BY scope, node, facet, value HAVING sum(sign) <> 0
           ORDER BY scope, node, facet, value) delta;
  IF d_n IS NULL THEN
    RETURN;
  END IF;
  INSERT INTO catalog.search_facet_counts AS c (scope, node, facet, value, n)
  SELECT * FROM unnest(d_scope, d_node, d_facet, d_value, d_n)
  ON CONFLICT (scope, node, facet, value) DO UPDATE SET n = c.n + EXCLUDED.n;
  -- A count taken down to zero goes: reads never wade through values nobody has any more.
  DELETE FROM catalog.search_facet_counts c
   USING unnest(d_scope, d_node, d_facet, d_value, d_n) AS k(scope, node, facet, value, n)
   WHERE k.n < 0 AND c.scope = k.scope AND c.node = k.node AND c.facet = k.facet AND c.value = k.value
     AND c.n = 0;
END $$;

-- Every count again, in the new form.
DELETE FROM catalog.search_facet_counts;
SELECT catalog.search_facet_apply(ARRAY(SELECT r FROM catalog.search_facet_rows r), '{}');
