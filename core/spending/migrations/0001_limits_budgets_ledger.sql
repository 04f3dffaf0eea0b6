-- Spending limits, budgets and the spend ledger. Money is integer minor units (bigint) plus an
-- ISO 4217 currency; a limit or budget only ever counts spend in its own currency.
CREATE SCHEMA IF NOT EXISTS spending;

-- A limit on one user, or on one unit (covering the users of that unit and of every unit below
-- it), either per order (`per = 'order'`: the most one purchase may be) or per calendar period in
-- the limit's time zone (`month`, `quarter`).
CREATE TABLE spending.limits (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id   uuid        NOT NULL,
  subject_type text        NOT NULL CHECK (subject_type IN ('user', 'unit')),
  subject_id   uuid        NOT NULL,
  per          text        NOT NULL CHECK (per IN ('order', 'month', 'quarter')),
  currency     text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor bigint      NOT NULL CHECK (amount_minor >= 0),
  mode         text        NOT NULL CHECK (mode IN ('block', 'warn')),
  time_zone    text        NOT NULL DEFAULT 'Asia/Shanghai',
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- One limit per subject, window and currency: two "monthly CNY" limits on one user would be ambiguous.
CREATE UNIQUE INDEX limits_subject_window_idx
  ON spending.limits (company_id, subject_type, subject_id, per, currency);

-- A budget of one cost centre (a company-defined code such as RD-01) for one period starting at
-- `period_start` (first day of a month) in `time_zone`; `starts_at`/`ends_at` are that period as
-- instants, computed when the budget is written. `unit_id` optionally names the unit owning the
-- cost centre, so unit managers (`spending.manage@unit_tree`) can manage it.
CREATE TABLE spending.budgets (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id   uuid        NOT NULL,
  cost_centre  text        NOT NULL CHECK (cost_centre ~ '^[A-Z0-9][A-Z0-9._/-]{0,63}$'),
  period       text        NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
  period_start date        NOT NULL CHECK (extract(day FROM period_start) = 1),
  time_zone    text        NOT NULL DEFAULT 'Asia/Shanghai',
  starts_at    timestamptz NOT NULL,
  ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at),
  currency     text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor bigint      NOT NULL CHECK (amount_minor >= 0),
  mode         text        NOT NULL CHECK (mode IN ('block', 'warn')),
  unit_id      uuid,
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX budgets_centre_period_idx
  ON spending.budgets (company_id, cost_centre, period, period_start, currency);
CREATE INDEX budgets_lookup_idx ON spending.budgets (company_id, cost_centre, starts_at, ends_at);

-- The spend ledger: append-only. A purchase is committed once per reference (`commit`), may later
-- be settled (`settle`: moves the amount from committed to spent) and may be reversed (`release`:
-- a negative entry). Spend figures are sums over these rows, never a mutable counter.
-- `occurred_at` is the purchase time that decides the period; a settle or release repeats the
-- commit's, so it corrects the same period. `unit_path` is the requester's unit path (root first)
-- at commit time, so unit limits count the spend of their whole subtree.
CREATE TABLE spending.entries (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id      uuid        NOT NULL,
  reference_type  text        NOT NULL,
  reference_id    text        NOT NULL,
  kind            text        NOT NULL CHECK (kind IN ('commit', 'settle', 'release')),
  user_id         uuid        NOT NULL,
  unit_path       uuid[]      NOT NULL DEFAULT '{}',
  cost_centre     text,
  currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor    bigint      NOT NULL CHECK (amount_minor >= 0),
  committed_minor bigint      NOT NULL,
  spent_minor     bigint      NOT NULL,
  occurred_at     timestamptz NOT NULL,
  warnings        jsonb       NOT NULL DEFAULT '[]',
  actor_id        text        NOT NULL,
  request_id      text,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  -- Retrying a commit, settle or release never writes it twice.
  UNIQUE (company_id, reference_type, reference_id, kind)
);
CREATE INDEX entries_user_idx ON spending.entries (company_id, user_id, currency, occurred_at);
CREATE INDEX entries_unit_path_idx ON spending.entries USING gin (unit_path);
CREATE INDEX entries_cost_centre_idx ON spending.entries (company_id, cost_centre, currency, occurred_at)
  WHERE cost_centre IS NOT NULL;

CREATE FUNCTION spending.reject_entry_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'spending.entries is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON spending.entries
  FOR EACH ROW EXECUTE FUNCTION spending.reject_entry_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON spending.entries
  FOR EACH STATEMENT EXECUTE FUNCTION spending.reject_entry_change();
