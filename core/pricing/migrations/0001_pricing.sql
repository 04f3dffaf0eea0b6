-- The pricing engine: price lists (currency, validity window, priority, tax basis), their
-- assignments to buyers (default, customer tier, customer group = company tag, one company), the
-- prices per SKU and unit of measure with quantity tiers, quantity rules (MOQ, maximum,
-- increment) and VAT rates per product or SKU. SKUs, products and companies belong to other
-- domains: their ids are stored here without foreign keys and checked through their actions.

CREATE SCHEMA IF NOT EXISTS pricing;

CREATE TABLE pricing.price_lists (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  code               text        NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  currency           text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- The list's amounts are gross (VAT included) or net; fixed at creation, as every amount depends on it.
  prices_include_tax boolean     NOT NULL,
  -- Higher wins within a level under the `priority` precedence strategy.
  priority           integer     NOT NULL DEFAULT 0,
  -- Half-open window [valid_from, valid_to); NULL = unbounded on that side.
  valid_from         timestamptz,
  valid_to           timestamptz,
  active             boolean     NOT NULL DEFAULT true,
  -- Bumped by every change to the list or its prices: a cheap "did anything change" for caches.
  version            bigint      NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to)
);

-- Who a list applies to. One row per (list, audience); a list may serve several audiences.
CREATE TABLE pricing.price_list_assignments (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  price_list_id uuid        NOT NULL REFERENCES pricing.price_lists (id) ON DELETE CASCADE,
  level         text        NOT NULL CHECK (level IN ('default', 'tier', 'group', 'company')),
  tier          text,
  tag           text,
  company_id    uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (
    (level = 'default' AND num_nonnulls(tier, tag, company_id) = 0)
    OR (level = 'tier' AND tier IS NOT NULL AND num_nonnulls(tag, company_id) = 0)
    OR (level = 'group' AND tag IS NOT NULL AND num_nonnulls(tier, company_id) = 0)
    OR (level = 'company' AND company_id IS NOT NULL AND num_nonnulls(tier, tag) = 0)
  ),
  UNIQUE NULLS NOT DISTINCT (price_list_id, level, tier, tag, company_id)
);
CREATE INDEX price_list_assignments_company_idx ON pricing.price_list_assignments (company_id) WHERE company_id IS NOT NULL;
CREATE INDEX price_list_assignments_tier_idx ON pricing.price_list_assignments (tier) WHERE tier IS NOT NULL;
CREATE INDEX price_list_assignments_tag_idx ON pricing.price_list_assignments (tag) WHERE tag IS NOT NULL;

-- Quantity tiers (阶梯定价): the tier with the largest min_qty not above the line's quantity
-- applies. Each tier is a fixed amount in minor units, or a percentage (basis points) off the same
-- SKU's tier at that quantity in a base list of the same currency and tax basis.
CREATE TABLE pricing.prices (
  price_list_id  uuid    NOT NULL REFERENCES pricing.price_lists (id) ON DELETE CASCADE,
  sku_id         uuid    NOT NULL,
  unit           text    NOT NULL CHECK (length(unit) BETWEEN 1 AND 20),
  min_qty        bigint  NOT NULL CHECK (min_qty >= 1),
  amount_minor   bigint  CHECK (amount_minor >= 0),
  percent_off_bp integer CHECK (percent_off_bp BETWEEN 0 AND 10000),
  base_list_id   uuid    REFERENCES pricing.price_lists (id),
  PRIMARY KEY (price_list_id, sku_id, unit, min_qty),
  CHECK (num_nonnulls(amount_minor, percent_off_bp) = 1),
  CHECK ((percent_off_bp IS NULL) = (base_list_id IS NULL)),
  CHECK (base_list_id IS DISTINCT FROM price_list_id)
);
CREATE INDEX prices_base_list_idx ON pricing.prices (base_list_id) WHERE base_list_id IS NOT NULL;

-- Minimum order quantity, maximum and increment (pack size) per product or SKU, optionally for one
-- company and one unit. The most specific rule applies: company + SKU, company + product, SKU,
-- product.
CREATE TABLE pricing.quantity_rules (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id uuid,
  sku_id     uuid,
  company_id uuid,
  unit       text        CHECK (length(unit) BETWEEN 1 AND 20),
  min_qty    bigint      CHECK (min_qty >= 1),
  max_qty    bigint      CHECK (max_qty >= 1),
  increment  bigint      CHECK (increment >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(product_id, sku_id) = 1),
  CHECK (num_nonnulls(min_qty, max_qty, increment) >= 1),
  CHECK (min_qty IS NULL OR max_qty IS NULL OR min_qty <= max_qty),
  UNIQUE NULLS NOT DISTINCT (product_id, sku_id, company_id, unit)
);
CREATE INDEX quantity_rules_sku_idx ON pricing.quantity_rules (sku_id) WHERE sku_id IS NOT NULL;
CREATE INDEX quantity_rules_product_idx ON pricing.quantity_rules (product_id) WHERE product_id IS NOT NULL;
CREATE INDEX quantity_rules_company_idx ON pricing.quantity_rules (company_id) WHERE company_id IS NOT NULL;

-- VAT rate (增值税税率, percent) per product or SKU; the SKU's own rate wins; without one the
-- deployment default (HUB_PRICING_DEFAULT_VAT_RATE) applies.
CREATE TABLE pricing.vat_rates (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id uuid,
  sku_id     uuid,
  rate       smallint    NOT NULL CHECK (rate IN (13, 9, 6, 0)),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(product_id, sku_id) = 1),
  UNIQUE NULLS NOT DISTINCT (product_id, sku_id)
);
CREATE INDEX vat_rates_sku_idx ON pricing.vat_rates (sku_id) WHERE sku_id IS NOT NULL;
CREATE INDEX vat_rates_product_idx ON pricing.vat_rates (product_id) WHERE product_id IS NOT NULL;
