-- Search reads a product's attribute values once per candidate row (range and value filters as
-- per-row probes, facet counts as a join from the candidates): one index covering the values
-- answers both from the index alone. The per-attribute value indexes of 0101 were never chosen
-- (filters never drive the scan: facet counts need the rows each filter rejects) and only cost
-- write time. The foreign key to the documents goes too: every write replaces a product's values
-- in the transaction that writes its document (search-index.ts), and its per-row check was a
-- third of the cost of indexing.
ALTER TABLE catalog.search_attribute_values DROP CONSTRAINT search_attribute_values_product_id_fkey;
DROP INDEX catalog.search_attribute_values_product_idx;
DROP INDEX catalog.search_attribute_values_num_idx;
DROP INDEX catalog.search_attribute_values_text_idx;
CREATE INDEX search_attribute_values_product_idx
  ON catalog.search_attribute_values (product_id, attribute_key) INCLUDE (num_value, text_value);
