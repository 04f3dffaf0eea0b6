-- Catalog search (core/catalog/search/): a denormalised index, one row per product, kept by the
-- catalog-search service from the catalog's product events. Rebuildable at any time from the
-- catalog tables (nothing here is a source of truth); visibility is not copied: search filters
-- through catalog.product_visibility at query time.

CREATE SCHEMA IF NOT EXISTS catalog;

-- Trigram similarity for typo-tolerant model numbers (needs CREATE privilege on the database: the
-- hub's migration user has it; PGlite loads the extension from its contrib bundle).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE catalog.search_documents (
  product_id      uuid        PRIMARY KEY,
  -- Lexemes built by the search tokenizer (CJK bigrams, normalised codes, lower-cased words),
  -- weighted A name, B model / SKU / brand, C attributes / category / scenarios, D description.
  terms           tsvector    NOT NULL,
  name_zh         text        NOT NULL,
  name_en         text        NOT NULL,
  model           text,
  -- Upper-case letters and digits only: DIN933-M8x30-A2 → DIN933M8X30A2.
  model_norm      text,
  sku_codes       text[]      NOT NULL DEFAULT '{}',
  sku_norms       text[]      NOT NULL DEFAULT '{}',
  brand_id        uuid,
  brand_name      text,
  -- Category ids from the root down to the product's category, and their names in the same order
  -- ([{ "id", "nameZh", "nameEn" }]).
  category_path   uuid[]      NOT NULL DEFAULT '{}',
  category_names  jsonb       NOT NULL DEFAULT '[]',
  -- Every typed attribute value ({ key: value | { min, max } }), for display.
  attributes      jsonb       NOT NULL DEFAULT '{}',
  thumbnail_url   text,
  -- Placeholders filled by pricing and inventory later; null = unknown.
  price_min_minor bigint,
  currency        text,
  in_stock        boolean,
  lifecycle       text        NOT NULL CHECK (lifecycle IN ('draft', 'active', 'discontinued')),
  created_at      timestamptz NOT NULL,
  source_updated_at timestamptz,
  indexed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_documents_terms_idx ON catalog.search_documents USING gin (terms);
CREATE INDEX search_documents_model_trgm_idx ON catalog.search_documents USING gin (model_norm gin_trgm_ops);
CREATE INDEX search_documents_category_idx ON catalog.search_documents USING gin (category_path);
CREATE INDEX search_documents_brand_idx ON catalog.search_documents (brand_id);
CREATE INDEX search_documents_created_idx ON catalog.search_documents (created_at DESC, product_id);

-- Filterable attribute values, one row per product, attribute and value: range filters and
-- facet counts read this narrow table instead of unpacking jsonb.
CREATE TABLE catalog.search_attribute_values (
  product_id    uuid    NOT NULL REFERENCES catalog.search_documents (product_id) ON DELETE CASCADE,
  attribute_key text    NOT NULL,
  num_value     numeric,
  text_value    text,
  CHECK ((num_value IS NULL) <> (text_value IS NULL))
);
CREATE INDEX search_attribute_values_product_idx
  ON catalog.search_attribute_values (product_id, attribute_key);
CREATE INDEX search_attribute_values_num_idx
  ON catalog.search_attribute_values (attribute_key, num_value, product_id) WHERE num_value IS NOT NULL;
CREATE INDEX search_attribute_values_text_idx
  ON catalog.search_attribute_values (attribute_key, text_value, product_id) WHERE text_value IS NOT NULL;

-- The attributes search knows, as the last indexed product described them: which are facets.
CREATE TABLE catalog.search_facet_attributes (
  attribute_key text        PRIMARY KEY,
  type          text        NOT NULL CHECK (type IN ('number', 'enum', 'text', 'boolean', 'range')),
  unit          text,
  filterable    boolean     NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
