-- Facet labels: the attribute's names and its enum options' names ({ "<value>": { "zh", "en" } }),
-- as the indexed products carry them.
ALTER TABLE catalog.search_facet_attributes
  ADD COLUMN name_zh text,
  ADD COLUMN name_en text,
  ADD COLUMN labels  jsonb NOT NULL DEFAULT '{}';
