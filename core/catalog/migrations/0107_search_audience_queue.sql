-- Catalog search: visibility writes of products search has not indexed yet cost (almost) nothing.
--
-- 0104 kept a product's audiences with a deferred trigger per row of catalog.product_visibility,
-- which an import of new products (not in the index yet) paid for every row at commit. Now one
-- statement trigger per visibility statement queues the products that have a facet row, and a
-- deferred trigger per queued product brings its audiences up to date at commit (only the final
-- set matters: refreshVisibility deletes and re-inserts a product's rows).

DROP TRIGGER search_facet_audiences ON catalog.product_visibility;
DROP FUNCTION catalog.search_facet_audiences();

-- Rows live inside one transaction: queued by its statements, removed by its commit-time trigger.
CREATE TABLE catalog.search_audience_queue (
  product_id uuid NOT NULL
);
CREATE INDEX search_audience_queue_product_idx ON catalog.search_audience_queue (product_id);

CREATE FUNCTION catalog.search_audience_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO catalog.search_audience_queue (product_id)
    SELECT DISTINCT n.product_id FROM new_rows n
     WHERE EXISTS (SELECT 1 FROM catalog.search_facet_rows r WHERE r.product_id = n.product_id);
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    INSERT INTO catalog.search_audience_queue (product_id)
    SELECT DISTINCT o.product_id FROM old_rows o
     WHERE EXISTS (SELECT 1 FROM catalog.search_facet_rows r WHERE r.product_id = o.product_id);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER search_audiences_inserted AFTER INSERT ON catalog.product_visibility
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.search_audience_enqueue();
CREATE TRIGGER search_audiences_updated AFTER UPDATE ON catalog.product_visibility
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog.search_audience_enqueue();
CREATE TRIGGER search_audiences_deleted AFTER DELETE ON catalog.product_visibility
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.search_audience_enqueue();

CREATE FUNCTION catalog.search_audience_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER search_audience_apply AFTER INSERT ON catalog.search_audience_queue
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog.search_audience_apply();
