-- Credit accounts and their ledger, credit holds, payments with their receipts, receivables
-- (invoices against orders) with payment allocations, bank statement imports and invoice requests
-- (开票申请). Money is integer minor units (bigint) in the account's one currency.
CREATE SCHEMA IF NOT EXISTS credit;

-- One account per company. `held_minor` (active holds) and `owed_minor` (purchases less payments,
-- refunds and adjustments: what the company owes, negative when it paid ahead) are running sums of
-- the ledger below, updated in the same transaction as each entry; exposure = held + owed.
-- An account without `credit_enabled` exists only to carry invoices and payments: it refuses holds.
CREATE TABLE credit.accounts (
  company_id     uuid        PRIMARY KEY,
  currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  credit_enabled boolean     NOT NULL DEFAULT false,
  limit_minor    bigint      NOT NULL DEFAULT 0 CHECK (limit_minor >= 0),
  terms_kind     text        NOT NULL DEFAULT 'net' CHECK (terms_kind IN ('net', 'month_end')),
  terms_days     integer     NOT NULL DEFAULT 30 CHECK (terms_days BETWEEN 0 AND 365),
  grace_days     integer     NOT NULL DEFAULT 0 CHECK (grace_days BETWEEN 0 AND 365),
  on_hold        boolean     NOT NULL DEFAULT false,
  hold_reason    text,
  held_minor     bigint      NOT NULL DEFAULT 0 CHECK (held_minor >= 0),
  owed_minor     bigint      NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Every change of an account's limit, terms, grace or hold by finance staff (old → new); the audit
-- log has the same with the request's origin.
CREATE TABLE credit.account_changes (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id  uuid        NOT NULL,
  before      jsonb,
  after       jsonb       NOT NULL,
  reason      text,
  changed_by  text        NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_changes_company_idx ON credit.account_changes (company_id, id);

-- The ledger: append-only. Each entry moves `held_delta` and/or `owed_delta`; the account's
-- held_minor and owed_minor always equal their sums. `amount_minor` is the entry's magnitude.
CREATE TABLE credit.ledger_entries (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id   uuid        NOT NULL,
  kind         text        NOT NULL CHECK (kind IN
                 ('hold', 'hold_release', 'capture', 'purchase', 'payment', 'refund', 'adjustment')),
  reference    text,
  currency     text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor bigint      NOT NULL CHECK (amount_minor >= 0),
  held_delta   bigint      NOT NULL DEFAULT 0,
  owed_delta   bigint      NOT NULL DEFAULT 0,
  invoice_id   uuid,
  payment_id   uuid,
  note         text,
  actor        text        NOT NULL,
  request_id   text,
  occurred_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_company_idx ON credit.ledger_entries (company_id, id);

CREATE FUNCTION credit.reject_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'credit.ledger_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON credit.ledger_entries
  FOR EACH ROW EXECUTE FUNCTION credit.reject_ledger_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON credit.ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION credit.reject_ledger_change();

-- A credit hold per caller reference (`order:<uuid>`): held → captured (it became a purchase) or
-- released. The reference is the idempotency handle of hold, capture and release.
CREATE TABLE credit.holds (
  reference      text        PRIMARY KEY CHECK (length(reference) BETWEEN 1 AND 200),
  company_id     uuid        NOT NULL,
  currency       text        NOT NULL,
  amount_minor   bigint      NOT NULL CHECK (amount_minor > 0),
  captured_minor bigint      CHECK (captured_minor >= 0 AND captured_minor <= amount_minor),
  status         text        NOT NULL CHECK (status IN ('held', 'released', 'captured')),
  invoice_id     uuid,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX holds_company_idx ON credit.holds (company_id, status);

-- Receivables: an invoice per order reference (idempotent), due on `due_date` (a business date in
-- the hub's time zone). Balance = amount - paid - credited. `overdue` is set by the sweep.
CREATE SEQUENCE credit.invoice_numbers;
CREATE TABLE credit.invoices (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  number         text        NOT NULL UNIQUE,
  company_id     uuid        NOT NULL,
  reference      text        NOT NULL UNIQUE CHECK (length(reference) BETWEEN 1 AND 200),
  currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor   bigint      NOT NULL CHECK (amount_minor > 0),
  paid_minor     bigint      NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
  credited_minor bigint      NOT NULL DEFAULT 0 CHECK (credited_minor >= 0),
  issued_on      date        NOT NULL,
  due_date       date        NOT NULL,
  status         text        NOT NULL CHECK (status IN ('open', 'partially_paid', 'paid', 'overdue')),
  lines          jsonb       NOT NULL DEFAULT '[]',
  placed_by      uuid,
  placed_unit    uuid,
  created_by     text        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (paid_minor + credited_minor <= amount_minor)
);
CREATE INDEX invoices_company_idx ON credit.invoices (company_id, id);
CREATE INDEX invoices_unpaid_idx ON credit.invoices (company_id, due_date) WHERE status <> 'paid';
CREATE INDEX invoices_due_idx ON credit.invoices (due_date) WHERE status IN ('open', 'partially_paid');

-- Payments: an online payment through the payment port, a bank transfer (对公转账) expected with
-- a remittance code, or money received on account (staff record it, no reference).
CREATE TABLE credit.payments (
  id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id          uuid        NOT NULL,
  reference           text        CHECK (length(reference) BETWEEN 1 AND 200),
  method              text        NOT NULL CHECK (method IN ('online', 'bank_transfer', 'on_account')),
  currency            text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor        bigint      NOT NULL CHECK (amount_minor > 0),
  received_minor      bigint      NOT NULL DEFAULT 0 CHECK (received_minor >= 0),
  allocated_minor     bigint      NOT NULL DEFAULT 0 CHECK (allocated_minor >= 0),
  refunded_minor      bigint      NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
  status              text        NOT NULL CHECK (status IN ('pending', 'partially_received', 'confirmed', 'failed')),
  remittance_code     text        UNIQUE,
  provider            text,
  provider_payment_id text,
  instructions        jsonb       NOT NULL DEFAULT '{}',
  failure_reason      text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  confirmed_at        timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (allocated_minor + refunded_minor <= received_minor)
);
-- `payments.internal.start` is idempotent per reference; a failed payment may be started again.
CREATE UNIQUE INDEX payments_reference_idx ON credit.payments (reference) WHERE status <> 'failed';
CREATE INDEX payments_company_idx ON credit.payments (company_id, id);
CREATE INDEX payments_unallocated_idx ON credit.payments (company_id, created_at)
  WHERE allocated_minor + refunded_minor < received_minor;

-- Money received for a payment: a provider callback, a transfer staff confirmed, or a bank statement
-- line. `dedupe_key` (provider transaction id, bank reference) makes each receipt count once.
CREATE TABLE credit.payment_receipts (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id   uuid        NOT NULL REFERENCES credit.payments (id),
  company_id   uuid        NOT NULL,
  source       text        NOT NULL CHECK (source IN ('online', 'manual', 'statement')),
  dedupe_key   text        NOT NULL UNIQUE,
  amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
  received_on  date        NOT NULL,
  actor        text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_receipts_payment_idx ON credit.payment_receipts (payment_id);

-- Which payment paid which invoice, by how much.
CREATE TABLE credit.allocations (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id   uuid        NOT NULL,
  payment_id   uuid        NOT NULL REFERENCES credit.payments (id),
  invoice_id   uuid        NOT NULL REFERENCES credit.invoices (id),
  amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX allocations_invoice_idx ON credit.allocations (invoice_id);
CREATE INDEX allocations_payment_idx ON credit.allocations (payment_id);

-- Each bank statement file imported, with its per-row report.
CREATE TABLE credit.statement_imports (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  file_name   text,
  sha256      text        NOT NULL,
  summary     jsonb       NOT NULL,
  report      jsonb       NOT NULL,
  imported_by text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Invoice requests (开票申请) by buyers against their receivables: requested → issued (the e-invoice
-- PDF kept in the object store) or rejected with a reason.
CREATE TABLE credit.invoice_requests (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id    uuid        NOT NULL,
  invoice_id    uuid        NOT NULL REFERENCES credit.invoices (id),
  type          text        NOT NULL CHECK (type IN ('normal', 'special')),
  title         text        NOT NULL,
  tax_number    text        NOT NULL,
  bank_name     text,
  bank_account  text,
  address       text,
  phone         text,
  email         text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('requested', 'issued', 'rejected')),
  reject_reason text,
  e_invoice_no  text,
  file_key      text,
  file_name     text,
  file_size     bigint,
  requested_by  uuid        NOT NULL,
  decided_by    text,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  decided_at    timestamptz,
  CHECK (type = 'normal' OR (bank_name IS NOT NULL AND bank_account IS NOT NULL AND address IS NOT NULL AND phone IS NOT NULL))
);
CREATE INDEX invoice_requests_company_idx ON credit.invoice_requests (company_id, id);
CREATE INDEX invoice_requests_status_idx ON credit.invoice_requests (status, id);
-- One open (or issued) request per receivable: a rejected one may be requested again.
CREATE UNIQUE INDEX invoice_requests_invoice_idx ON credit.invoice_requests (invoice_id) WHERE status <> 'rejected';
