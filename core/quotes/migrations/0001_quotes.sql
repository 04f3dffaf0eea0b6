-- Quotes (一键询价 and negotiation). A quote is a buyer company's request for prices; each round
-- (the buyer's request, a staff quote, a buyer counter) is an immutable version with its lines;
-- every state change is a row of history. Amounts are bigint minor units of the quote's currency.

CREATE SCHEMA IF NOT EXISTS quotes;

CREATE TABLE quotes.quotes (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id         uuid        NOT NULL,
  requested_by       uuid        NOT NULL,
  state              text        NOT NULL CHECK (state IN ('requested', 'in_review', 'quoted', 'countered',
                                   'accepted', 'rejected', 'expired', 'cancelled')),
  currency           text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  title              text        CHECK (length(title) BETWEEN 1 AND 200),
  needed_by          date,
  target_total_minor bigint      CHECK (target_total_minor >= 0),
  source_cart_id     uuid,
  -- The latest version of any kind, and the latest staff version the buyer may see.
  latest_version     integer     NOT NULL DEFAULT 1,
  quoted_version     integer,
  valid_until        timestamptz,
  -- The staff version waiting for margin approval (not shown to the buyer until approved).
  pending_version    integer,
  approval_id        uuid,
  accepted_version   integer,
  accepted_by        uuid,
  -- The accepting buyer's auth context: the order is placed on their behalf, with their grants then.
  accepted_auth      jsonb,
  payment_method     text CHECK (payment_method IN ('credit', 'bank_transfer', 'online')),
  -- Conversion into an order after acceptance: pending until orders answers, then placed.
  order_status       text        CHECK (order_status IN ('pending', 'placed', 'failed')),
  order_id           uuid,
  order_error        text        CHECK (length(order_error) <= 1000),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quotes_company_idx ON quotes.quotes (company_id, created_at DESC);
CREATE INDEX quotes_state_idx ON quotes.quotes (state, created_at DESC);
CREATE INDEX quotes_expiry_idx ON quotes.quotes (valid_until) WHERE state = 'quoted';

CREATE TABLE quotes.quote_versions (
  quote_id        uuid        NOT NULL REFERENCES quotes.quotes (id) ON DELETE CASCADE,
  number          integer     NOT NULL CHECK (number >= 1),
  kind            text        NOT NULL CHECK (kind IN ('request', 'quote', 'counter')),
  author_kind     text        NOT NULL CHECK (author_kind IN ('buyer', 'staff')),
  author_id       uuid        NOT NULL,
  valid_until     timestamptz,
  note            text        CHECK (length(note) <= 2000),
  total_minor     bigint,
  list_total_minor bigint,
  -- Margin approval of a staff version: not_required, pending, approved, rejected.
  approval        text        NOT NULL DEFAULT 'not_required'
                  CHECK (approval IN ('not_required', 'pending', 'approved', 'rejected')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (quote_id, number)
);

CREATE TABLE quotes.quote_version_lines (
  quote_id           uuid    NOT NULL,
  version            integer NOT NULL,
  line_no            integer NOT NULL CHECK (line_no >= 1),
  sku_id             uuid,
  sku_code           text    CHECK (length(sku_code) BETWEEN 1 AND 64),
  description        text    CHECK (length(description) BETWEEN 1 AND 500),
  quantity           integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
  unit               text    CHECK (length(unit) BETWEEN 1 AND 20),
  -- The buyer's list price when the quote was requested (reference; null for free-text lines).
  list_unit_minor    bigint,
  vat_rate           integer CHECK (vat_rate IN (13, 9, 6, 0)),
  target_unit_minor  bigint  CHECK (target_unit_minor >= 0),
  unit_price_minor   bigint  CHECK (unit_price_minor >= 0),
  discount_bp        integer CHECK (discount_bp BETWEEN 0 AND 10000),
  discount_minor     bigint  CHECK (discount_minor >= 0),
  line_total_minor   bigint  CHECK (line_total_minor >= 0),
  note               text    CHECK (length(note) <= 500),
  PRIMARY KEY (quote_id, version, line_no),
  FOREIGN KEY (quote_id, version) REFERENCES quotes.quote_versions (quote_id, number) ON DELETE CASCADE,
  CHECK (sku_id IS NOT NULL OR description IS NOT NULL)
);

-- Versions are immutable: a new round is a new version, never an edit.
CREATE FUNCTION quotes.refuse_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'quote_versions'
     AND (to_jsonb(NEW) - 'approval') = (to_jsonb(OLD) - 'approval') THEN
    -- The one mutable field: the margin approval outcome of a staff version.
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'quote versions are immutable' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER quote_versions_immutable BEFORE UPDATE ON quotes.quote_versions
  FOR EACH ROW EXECUTE FUNCTION quotes.refuse_version_change();
CREATE TRIGGER quote_version_lines_immutable BEFORE UPDATE ON quotes.quote_version_lines
  FOR EACH ROW EXECUTE FUNCTION quotes.refuse_version_change();

CREATE TABLE quotes.quote_history (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  quote_id    uuid        NOT NULL REFERENCES quotes.quotes (id) ON DELETE CASCADE,
  from_state  text,
  to_state    text        NOT NULL,
  action      text        NOT NULL,
  actor_kind  text        NOT NULL CHECK (actor_kind IN ('buyer', 'staff', 'system')),
  actor_id    uuid,
  version     integer,
  reason      text        CHECK (length(reason) <= 1000),
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quote_history_quote_idx ON quotes.quote_history (quote_id, id);

CREATE TABLE quotes.quote_attachments (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  quote_id     uuid        NOT NULL REFERENCES quotes.quotes (id) ON DELETE CASCADE,
  company_id   uuid        NOT NULL,
  file_name    text        NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
  content_type text        NOT NULL,
  size_bytes   integer     NOT NULL CHECK (size_bytes > 0),
  sha256       text        NOT NULL,
  storage_key  text        NOT NULL,
  uploaded_by  uuid        NOT NULL,
  uploader_kind text       NOT NULL CHECK (uploader_kind IN ('buyer', 'staff')),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quote_attachments_quote_idx ON quotes.quote_attachments (quote_id, created_at);
