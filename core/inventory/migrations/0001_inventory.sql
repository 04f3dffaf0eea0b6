-- Multi-warehouse inventory: warehouses, stock per (SKU, warehouse) with on hand and reserved,
-- reservations made for orders, an append-only movement ledger, low-stock thresholds and a
-- company's preferred warehouse. SKUs and companies belong to other domains: their ids are stored
-- without foreign keys and checked through their actions.

CREATE SCHEMA IF NOT EXISTS inventory;

CREATE TABLE inventory.warehouses (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  code              text        NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
  name              text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  region            text        CHECK (length(region) BETWEEN 1 AND 100),
  address           text        CHECK (length(address) BETWEEN 1 AND 500),
  -- Inactive warehouses keep their stock and history but are never allocated from nor shown.
  active            boolean     NOT NULL DEFAULT true,
  -- Reservations take from higher priority first (after the company's preferred warehouse).
  priority          integer     NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000000 AND 1000000),
  -- Whether buyers see this warehouse's quantity by name (多仓库存); its stock counts in totals anyway.
  visible_to_buyers boolean     NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Stock of one SKU in one warehouse. The database itself refuses negative stock and
-- over-reservation: available = on_hand - reserved is never below zero, whatever the code does.
-- Rows change only together with a movement row carrying the same deltas (stock-ledger.ts).
CREATE TABLE inventory.stock_levels (
  sku_id       uuid        NOT NULL,
  warehouse_id uuid        NOT NULL REFERENCES inventory.warehouses (id),
  on_hand      bigint      NOT NULL DEFAULT 0,
  reserved     bigint      NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sku_id, warehouse_id),
  CONSTRAINT stock_reserved_not_negative CHECK (reserved >= 0),
  CONSTRAINT stock_on_hand_covers_reserved CHECK (on_hand >= reserved)
);
CREATE INDEX stock_levels_warehouse_idx ON inventory.stock_levels (warehouse_id, sku_id);

-- The movement ledger: every change of on_hand or reserved, with its signed deltas. The sum of a
-- (SKU, warehouse)'s deltas is its stock level. Append-only, enforced by triggers.
CREATE TABLE inventory.movements (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku_id         uuid        NOT NULL,
  warehouse_id   uuid        NOT NULL REFERENCES inventory.warehouses (id),
  kind           text        NOT NULL CHECK (kind IN ('in', 'out', 'transfer_out', 'transfer_in', 'adjust', 'reserve', 'release')),
  -- The magnitude moved (always positive); the deltas say which column moved which way.
  quantity       bigint      NOT NULL CHECK (quantity > 0),
  on_hand_delta  bigint      NOT NULL,
  reserved_delta bigint      NOT NULL,
  -- The caller's handle: `order:<uuid>` for reservations, a receipt or transfer number, ...
  reference      text        CHECK (length(reference) BETWEEN 1 AND 200),
  reason         text        CHECK (length(reason) BETWEEN 1 AND 500),
  -- Both halves of a transfer share it.
  transfer_id    uuid,
  actor_kind     text        NOT NULL CHECK (actor_kind IN ('staff', 'buyer', 'system')),
  actor_id       uuid,
  at             timestamptz NOT NULL DEFAULT now(),
  CHECK (
    (kind = 'in' AND on_hand_delta = quantity AND reserved_delta = 0)
    OR (kind = 'out' AND on_hand_delta = -quantity AND reserved_delta = -quantity)
    OR (kind = 'transfer_out' AND on_hand_delta = -quantity AND reserved_delta = 0 AND transfer_id IS NOT NULL)
    OR (kind = 'transfer_in' AND on_hand_delta = quantity AND reserved_delta = 0 AND transfer_id IS NOT NULL)
    OR (kind = 'adjust' AND abs(on_hand_delta) = quantity AND reserved_delta = 0 AND reason IS NOT NULL)
    OR (kind = 'reserve' AND on_hand_delta = 0 AND reserved_delta = quantity)
    OR (kind = 'release' AND on_hand_delta = 0 AND reserved_delta = -quantity)
  )
);
CREATE INDEX movements_sku_idx ON inventory.movements (sku_id, warehouse_id, id DESC);
CREATE INDEX movements_warehouse_idx ON inventory.movements (warehouse_id, id DESC);
CREATE INDEX movements_reference_idx ON inventory.movements (reference, id DESC) WHERE reference IS NOT NULL;

CREATE FUNCTION inventory.reject_movement_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'inventory.movements is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER movements_append_only BEFORE UPDATE OR DELETE ON inventory.movements
  FOR EACH ROW EXECUTE FUNCTION inventory.reject_movement_change();
CREATE TRIGGER movements_no_truncate BEFORE TRUNCATE ON inventory.movements
  FOR EACH STATEMENT EXECUTE FUNCTION inventory.reject_movement_change();

-- Stock held for an order (or a quote) until it is confirmed, shipped, released or expires.
-- `reference` is the caller's idempotency handle: one reservation per reference, ever.
CREATE TABLE inventory.reservations (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  reference   text        NOT NULL UNIQUE CHECK (length(reference) BETWEEN 1 AND 200),
  company_id  uuid        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('reserved', 'confirmed', 'released', 'expired', 'shipped')),
  -- Only unconfirmed reservations expire; the sweep releases them after this instant.
  expires_at  timestamptz,
  -- What was asked for (lines merged per SKU, sorted): a repeat with other lines is refused.
  request     jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'reserved') = (expires_at IS NOT NULL))
);
CREATE INDEX reservations_expiry_idx ON inventory.reservations (expires_at) WHERE status = 'reserved';
CREATE INDEX reservations_company_idx ON inventory.reservations (company_id, id);
CREATE INDEX reservations_status_idx ON inventory.reservations (status, id);

-- What a reservation holds in each warehouse. Open = quantity - released - shipped.
CREATE TABLE inventory.reservation_lines (
  reservation_id uuid   NOT NULL REFERENCES inventory.reservations (id),
  sku_id         uuid   NOT NULL,
  warehouse_id   uuid   NOT NULL REFERENCES inventory.warehouses (id),
  quantity       bigint NOT NULL CHECK (quantity > 0),
  released       bigint NOT NULL DEFAULT 0 CHECK (released >= 0),
  shipped        bigint NOT NULL DEFAULT 0 CHECK (shipped >= 0),
  PRIMARY KEY (reservation_id, sku_id, warehouse_id),
  CHECK (released + shipped <= quantity)
);

-- Shipments and partial releases already applied, so a repeat does nothing twice.
CREATE TABLE inventory.reservation_events (
  reservation_id uuid        NOT NULL REFERENCES inventory.reservations (id),
  kind           text        NOT NULL CHECK (kind IN ('ship', 'release')),
  key            text        NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  lines          jsonb       NOT NULL,
  at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, key)
);

-- Low-stock thresholds per SKU, in one warehouse or (warehouse_id NULL) over all active ones.
-- `below` remembers the side of the threshold available was last seen on, so `stock.low` is
-- emitted once per crossing, not on every movement while below.
CREATE TABLE inventory.thresholds (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  sku_id       uuid        NOT NULL,
  warehouse_id uuid        REFERENCES inventory.warehouses (id) ON DELETE CASCADE,
  threshold    bigint      NOT NULL CHECK (threshold >= 0),
  below        boolean     NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (sku_id, warehouse_id)
);

-- The warehouse a company's reservations take from first (e.g. the one nearest its plant).
CREATE TABLE inventory.company_preferences (
  company_id   uuid        PRIMARY KEY,
  warehouse_id uuid        NOT NULL REFERENCES inventory.warehouses (id),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
