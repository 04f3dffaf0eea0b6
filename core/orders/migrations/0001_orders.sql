-- Orders: the order as placed (priced lines, totals, payment method, PO), its status under an
-- explicit state machine with every transition kept (order_history), and shipments at line level.
-- Amounts are bigint minor units with the order's currency; prices are frozen as placed.

CREATE SCHEMA IF NOT EXISTS orders;

CREATE SEQUENCE orders.order_number_seq;

CREATE TABLE orders.orders (
  id              uuid        PRIMARY KEY,
  number          text        NOT NULL UNIQUE,
  company_id      uuid        NOT NULL,
  placed_by       uuid        NOT NULL,
  -- The placer's unit and its path from the root when placed: `orders.read@unit|unit_tree` scopes.
  unit_id         uuid,
  unit_path       uuid[]      NOT NULL DEFAULT '{}',
  status          text        NOT NULL CHECK (status IN ('placing', 'pending_approval', 'pending_payment',
                    'confirmed', 'partially_shipped', 'shipped', 'completed', 'cancelled', 'on_hold', 'failed')),
  -- The status to go back to when an order on hold is released.
  held_from       text,
  -- Natural idempotency of a checkout: one order per (company, checkout key) while it stands.
  checkout_key    text,
  source          text        NOT NULL CHECK (source IN ('cart', 'lines', 'quote', 'reorder')),
  cart_id         uuid,
  quote_id        text,
  payment_method  text        NOT NULL CHECK (payment_method IN ('credit', 'bank_transfer', 'online')),
  payment_id      text,
  po_number       text        CHECK (length(po_number) <= 64),
  po_document_key text,
  note            text        CHECK (length(note) <= 1000),
  currency        text        NOT NULL,
  net_minor       bigint      NOT NULL,
  tax_minor       bigint      NOT NULL,
  gross_minor     bigint      NOT NULL,
  approval_id     uuid,
  cancel_reason   text,
  placed_at       timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  version         integer     NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX orders_checkout_key_idx ON orders.orders (company_id, checkout_key) WHERE checkout_key IS NOT NULL;
CREATE INDEX orders_company_placed_idx ON orders.orders (company_id, placed_at DESC, id DESC);
CREATE INDEX orders_placed_by_idx ON orders.orders (placed_by, placed_at DESC);
CREATE INDEX orders_unit_path_idx ON orders.orders USING gin (unit_path);
CREATE INDEX orders_status_idx ON orders.orders (status, placed_at DESC);

CREATE TABLE orders.order_lines (
  order_id        uuid        NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
  line_no         integer     NOT NULL CHECK (line_no >= 1),
  sku_id          uuid        NOT NULL,
  sku_code        text        NOT NULL,
  product_id      uuid,
  name            text,
  unit            text,
  quantity        integer     NOT NULL CHECK (quantity >= 1),
  shipped_qty     integer     NOT NULL DEFAULT 0 CHECK (shipped_qty >= 0 AND shipped_qty <= quantity),
  unit_price_minor bigint     NOT NULL,
  vat_rate        integer     NOT NULL,
  prices_include_tax boolean  NOT NULL,
  net_minor       bigint      NOT NULL,
  tax_minor       bigint      NOT NULL,
  gross_minor     bigint      NOT NULL,
  price_list_code text,
  PRIMARY KEY (order_id, line_no)
);

-- Where the reservation put each line (inventory's answer), for shipping from the right warehouse.
CREATE TABLE orders.order_allocations (
  order_id     uuid    NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
  sku_id       uuid    NOT NULL,
  warehouse_id uuid    NOT NULL,
  quantity     integer NOT NULL CHECK (quantity >= 1),
  shipped_qty  integer NOT NULL DEFAULT 0,
  PRIMARY KEY (order_id, sku_id, warehouse_id)
);

-- Every status change: from, to, who, why, when. Append-only by convention of the code paths and
-- by the trigger below.
CREATE TABLE orders.order_history (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id    uuid        NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
  company_id  uuid        NOT NULL,
  from_status text,
  to_status   text        NOT NULL,
  actor_kind  text        NOT NULL CHECK (actor_kind IN ('buyer', 'staff', 'system')),
  actor_id    text        NOT NULL,
  reason      text        CHECK (length(reason) <= 1000),
  at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX order_history_order_idx ON orders.order_history (order_id, id);

CREATE FUNCTION orders.history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'orders.order_history is append-only';
END $$;
CREATE TRIGGER order_history_append_only BEFORE UPDATE OR DELETE ON orders.order_history
  FOR EACH ROW EXECUTE FUNCTION orders.history_is_append_only();

CREATE TABLE orders.shipments (
  id          uuid        PRIMARY KEY,
  order_id    uuid        NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
  company_id  uuid        NOT NULL,
  carrier     text        CHECK (length(carrier) <= 100),
  tracking_no text        CHECK (length(tracking_no) <= 100),
  shipped_by  uuid        NOT NULL,
  shipped_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_order_idx ON orders.shipments (order_id, shipped_at);

CREATE TABLE orders.shipment_lines (
  shipment_id  uuid    NOT NULL REFERENCES orders.shipments (id) ON DELETE CASCADE,
  line_no      integer NOT NULL,
  sku_id       uuid    NOT NULL,
  warehouse_id uuid    NOT NULL,
  quantity     integer NOT NULL CHECK (quantity >= 1),
  PRIMARY KEY (shipment_id, line_no, warehouse_id)
);

-- Per company checkout rules staff configure (PO number required).
CREATE TABLE orders.company_settings (
  company_id         uuid        PRIMARY KEY,
  po_number_required boolean     NOT NULL DEFAULT false,
  updated_at         timestamptz NOT NULL DEFAULT now()
);
