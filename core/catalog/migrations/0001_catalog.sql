-- The product catalog: categories (a tree), brands, attribute definitions, products (SPU) with
-- SKUs and typed attribute values, relations, shared catalogs and the materialised visibility
-- they produce, buyer product lists, and append-only analytics (views, search queries).

CREATE SCHEMA IF NOT EXISTS catalog;

-- The category tree. `path` holds the ids from the root down to the category itself, so a subtree
-- is `path @> ARRAY[id]` (GIN-indexed) and a move rewrites the subtree's paths in one statement.
CREATE TABLE catalog.categories (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  parent_id        uuid        REFERENCES catalog.categories (id),
  path             uuid[]      NOT NULL,
  slug             text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name_zh          text        NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 200),
  name_en          text        NOT NULL CHECK (length(name_en) BETWEEN 1 AND 200),
  sort             integer     NOT NULL DEFAULT 0,
  meta_title       text,
  meta_description text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (path[array_length(path, 1)] = id)
);
CREATE INDEX categories_path_idx ON catalog.categories USING gin (path);
CREATE INDEX categories_parent_idx ON catalog.categories (parent_id);

CREATE TABLE catalog.brands (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  slug       text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  name_zh    text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Specification attributes. number and range carry a unit (mm, N·m, °C); enum carries its options
-- as [{ value, nameZh, nameEn }]. No categories = applicable to every product.
CREATE TABLE catalog.attribute_definitions (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  key        text        NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{0,63}$'),
  name_zh    text        NOT NULL,
  name_en    text        NOT NULL,
  type       text        NOT NULL CHECK (type IN ('number', 'enum', 'text', 'boolean', 'range')),
  unit       text        CHECK (unit IS NULL OR type IN ('number', 'range')),
  options    jsonb       NOT NULL DEFAULT '[]',
  filterable boolean     NOT NULL DEFAULT false,
  sort       integer     NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog.attribute_categories (
  attribute_id uuid NOT NULL REFERENCES catalog.attribute_definitions (id) ON DELETE CASCADE,
  category_id  uuid NOT NULL REFERENCES catalog.categories (id),
  PRIMARY KEY (attribute_id, category_id)
);
CREATE INDEX attribute_categories_category_idx ON catalog.attribute_categories (category_id);

CREATE TABLE catalog.products (
  id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  slug                 text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name_zh              text        NOT NULL,
  name_en              text        NOT NULL,
  description_zh       text,
  description_en       text,
  brand_id             uuid        REFERENCES catalog.brands (id),
  category_id          uuid        NOT NULL REFERENCES catalog.categories (id),
  model                text,
  lifecycle            text        NOT NULL DEFAULT 'draft' CHECK (lifecycle IN ('draft', 'active', 'discontinued')),
  scenarios            text[]      NOT NULL DEFAULT '{}',
  unit_of_measure      text        NOT NULL,
  pack_sizes           integer[]   NOT NULL DEFAULT '{}',
  is_public            boolean     NOT NULL DEFAULT false,
  meta_title           text,
  meta_description     text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  lifecycle_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category_idx ON catalog.products (category_id);
CREATE INDEX products_brand_idx ON catalog.products (brand_id);
CREATE INDEX products_model_idx ON catalog.products (model);

CREATE TABLE catalog.skus (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id      uuid        NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
  code            text        NOT NULL UNIQUE,
  unit_of_measure text        NOT NULL,
  pack_size       integer     NOT NULL DEFAULT 1 CHECK (pack_size > 0),
  weight_grams    integer     CHECK (weight_grams >= 0),
  sort            integer     NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX skus_product_idx ON catalog.skus (product_id);

-- Typed attribute values: one column per kind, so search can range-filter numbers.
CREATE TABLE catalog.product_attribute_values (
  product_id   uuid    NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
  attribute_id uuid    NOT NULL REFERENCES catalog.attribute_definitions (id),
  num          numeric,
  min          numeric,
  max          numeric,
  text         text,
  bool         boolean,
  PRIMARY KEY (product_id, attribute_id),
  CHECK (min IS NULL OR max IS NULL OR min <= max)
);
CREATE INDEX product_attribute_values_attribute_idx ON catalog.product_attribute_values (attribute_id, num);

-- The variant axes of a SKU (size, material, ...), typed like product values.
CREATE TABLE catalog.sku_attribute_values (
  sku_id       uuid    NOT NULL REFERENCES catalog.skus (id) ON DELETE CASCADE,
  attribute_id uuid    NOT NULL REFERENCES catalog.attribute_definitions (id),
  num          numeric,
  min          numeric,
  max          numeric,
  text         text,
  bool         boolean,
  PRIMARY KEY (sku_id, attribute_id),
  CHECK (min IS NULL OR max IS NULL OR min <= max)
);
CREATE INDEX sku_attribute_values_attribute_idx ON catalog.sku_attribute_values (attribute_id);

CREATE TABLE catalog.product_relations (
  product_id uuid    NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
  related_id uuid    NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
  kind       text    NOT NULL CHECK (kind IN ('alternative', 'accessory', 'related')),
  sort       integer NOT NULL DEFAULT 0,
  PRIMARY KEY (product_id, kind, related_id),
  CHECK (product_id <> related_id)
);

-- Shared catalogs: a named set of categories (with their subtrees) and products, assigned to
-- companies, tiers or tags.
CREATE TABLE catalog.shared_catalogs (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text        NOT NULL UNIQUE,
  description text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE catalog.shared_catalog_categories (
  catalog_id  uuid NOT NULL REFERENCES catalog.shared_catalogs (id) ON DELETE CASCADE,
  category_id uuid NOT NULL REFERENCES catalog.categories (id),
  PRIMARY KEY (catalog_id, category_id)
);
CREATE TABLE catalog.shared_catalog_products (
  catalog_id uuid NOT NULL REFERENCES catalog.shared_catalogs (id) ON DELETE CASCADE,
  product_id uuid NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
  PRIMARY KEY (catalog_id, product_id)
);
CREATE INDEX shared_catalog_products_product_idx ON catalog.shared_catalog_products (product_id);
CREATE TABLE catalog.shared_catalog_assignments (
  catalog_id uuid NOT NULL REFERENCES catalog.shared_catalogs (id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('company', 'tier', 'tag')),
  value      text NOT NULL,
  PRIMARY KEY (catalog_id, kind, value)
);

-- Who may see each listed product: 'public', 'company:<uuid>', 'tier:<tier>', 'tag:<tag>'.
-- Rebuilt in the transaction of every change that can alter it; drafts have no rows.
CREATE TABLE catalog.product_visibility (
  product_id uuid NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
  audience   text NOT NULL,
  PRIMARY KEY (product_id, audience)
);
CREATE INDEX product_visibility_audience_idx ON catalog.product_visibility (audience, product_id);

-- Buyers' own product lists (favourites and named lists); private to the user.
CREATE TABLE catalog.product_lists (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid        NOT NULL,
  user_id    uuid        NOT NULL,
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  is_default boolean     NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name)
);
CREATE UNIQUE INDEX product_lists_default_idx ON catalog.product_lists (user_id) WHERE is_default;
CREATE TABLE catalog.product_list_items (
  list_id  uuid        NOT NULL REFERENCES catalog.product_lists (id) ON DELETE CASCADE,
  sku_id   uuid        NOT NULL REFERENCES catalog.skus (id) ON DELETE CASCADE,
  quantity integer     NOT NULL CHECK (quantity > 0),
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (list_id, sku_id)
);

-- Analytics hooks, append-only.
CREATE TABLE catalog.product_views (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  product_id uuid        NOT NULL,
  company_id uuid,
  user_id    uuid,
  viewed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_views_product_idx ON catalog.product_views (product_id, viewed_at);
CREATE TABLE catalog.search_queries (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id   uuid,
  user_id      uuid,
  query        text        NOT NULL,
  result_count integer     NOT NULL CHECK (result_count >= 0),
  searched_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_queries_zero_idx ON catalog.search_queries (searched_at) WHERE result_count = 0;

CREATE FUNCTION catalog.reject_analytics_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER product_views_append_only BEFORE UPDATE OR DELETE ON catalog.product_views
  FOR EACH ROW EXECUTE FUNCTION catalog.reject_analytics_change();
CREATE TRIGGER search_queries_append_only BEFORE UPDATE OR DELETE ON catalog.search_queries
  FOR EACH ROW EXECUTE FUNCTION catalog.reject_analytics_change();
