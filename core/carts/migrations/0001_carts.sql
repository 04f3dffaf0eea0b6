-- Carts: several named carts per buyer user, kept across sessions, shared with colleagues of the
-- same company to view or edit. Lines keep the SKU and quantity plus the unit price the buyer last
-- saw (the "seen" snapshot), so a read can warn when the current price differs. Amounts are never
-- stored otherwise: every read reprices through pricing.

CREATE SCHEMA IF NOT EXISTS carts;

CREATE TABLE carts.carts (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid        NOT NULL,
  owner_id   uuid        NOT NULL,
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  is_default boolean     NOT NULL DEFAULT false,
  -- Optimistic concurrency: bumped by every change of the name or the lines.
  version    integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner_id, name)
);
CREATE UNIQUE INDEX carts_default_idx ON carts.carts (owner_id) WHERE is_default;
CREATE INDEX carts_company_idx ON carts.carts (company_id);

CREATE TABLE carts.cart_lines (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Insertion order, for a stable line order across reads.
  seq                bigint      GENERATED ALWAYS AS IDENTITY,
  cart_id            uuid        NOT NULL REFERENCES carts.carts (id) ON DELETE CASCADE,
  company_id         uuid        NOT NULL,
  sku_id             uuid        NOT NULL,
  -- The code when the line was added: still shown once the SKU is no longer visible.
  sku_code           text        NOT NULL CHECK (length(sku_code) BETWEEN 1 AND 64),
  -- NULL: the SKU's own unit of measure.
  unit               text        CHECK (length(unit) BETWEEN 1 AND 20),
  quantity           integer     NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
  note               text        CHECK (length(note) <= 500),
  seen_unit_minor    bigint,
  seen_currency      text        CHECK (seen_currency ~ '^[A-Z]{3}$'),
  seen_at            timestamptz,
  added_by           uuid        NOT NULL,
  added_at           timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((seen_unit_minor IS NULL) = (seen_currency IS NULL))
);
-- One line per SKU and unit: adding the same SKU again adds up the quantities.
CREATE UNIQUE INDEX cart_lines_sku_idx ON carts.cart_lines (cart_id, sku_id, coalesce(unit, ''));
CREATE INDEX cart_lines_cart_idx ON carts.cart_lines (cart_id, seq);

CREATE TABLE carts.cart_shares (
  cart_id    uuid        NOT NULL REFERENCES carts.carts (id) ON DELETE CASCADE,
  company_id uuid        NOT NULL,
  user_id    uuid        NOT NULL,
  role       text        NOT NULL CHECK (role IN ('view', 'edit')),
  shared_by  uuid        NOT NULL,
  shared_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cart_id, user_id)
);
CREATE INDEX cart_shares_user_idx ON carts.cart_shares (user_id);
