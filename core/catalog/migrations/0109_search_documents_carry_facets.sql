-- Catalog search: a search with words reads only the documents it matches (README, "Broad
-- queries"). The document row carries what filters and counts read besides what it already had
-- (brand, category path, price, stock, lifecycle): the product's audiences and its attribute value
-- ids and number pairs, the same values as its facet row. Joining every match to its facet row
-- was most of a broad query's time (a probe or a hashed scan per match).
--
-- Written together with the facet row (search-index.ts); the audiences follow
-- catalog.product_visibility by the same commit-time trigger as the facet row's.

ALTER TABLE catalog.search_documents
  ADD COLUMN audiences    text[]    NOT NULL DEFAULT '{}',
  ADD COLUMN facet_values integer[] NOT NULL DEFAULT '{}',
  ADD COLUMN facet_pairs  bigint[]  NOT NULL DEFAULT '{}';

UPDATE catalog.search_documents d
   SET audiences = r.audiences, facet_values = r.facet_values, facet_pairs = r.facet_pairs
  FROM catalog.search_facet_rows r
 WHERE r.product_id = d.product_id;

-- As 0107, and the document's copy too.
CREATE OR REPLACE FUNCTION catalog.search_audience_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  current text[];
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('catalog.product_visibility'));
  DELETE FROM catalog.search_audience_queue WHERE product_id = NEW.product_id;
  current := ARRAY(SELECT v.audience FROM catalog.product_visibility v
                    WHERE v.product_id = NEW.product_id ORDER BY v.audience COLLATE "C");
  IF EXISTS (SELECT 1 FROM catalog.search_facet_rows r
              WHERE r.product_id = NEW.product_id AND r.audiences IS DISTINCT FROM current) THEN
    UPDATE catalog.search_facet_rows SET audiences = current WHERE product_id = NEW.product_id;
  END IF;
  UPDATE catalog.search_documents SET audiences = current
   WHERE product_id = NEW.product_id AND audiences IS DISTINCT FROM current;
  RETURN NULL;
END $$;
