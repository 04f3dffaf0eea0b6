-- Enterprise accounts: company profile, addresses and contacts, the org tree, custom roles,
-- invitations and password resets.

ALTER TABLE accounts.companies
  ADD COLUMN legal_name         text,
  -- 统一社会信用代码 (unified social credit code): 18 characters
  ADD COLUMN tax_id             text CHECK (tax_id ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
  ADD COLUMN invoice_title      text,
  ADD COLUMN phone              text,
  ADD COLUMN website            text,
  ADD COLUMN industry           text,
  ADD COLUMN tier               text,
  ADD COLUMN tags               text[] NOT NULL DEFAULT '{}',
  ADD COLUMN account_manager_id uuid REFERENCES accounts.users (id),
  ADD COLUMN status_reason      text;
CREATE INDEX companies_tags_idx ON accounts.companies USING gin (tags);
CREATE INDEX companies_manager_idx ON accounts.companies (account_manager_id);

CREATE TABLE accounts.company_addresses (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id  uuid        NOT NULL REFERENCES accounts.companies (id),
  kind        text        NOT NULL CHECK (kind IN ('registered', 'billing', 'shipping')),
  label       text,
  recipient   text,
  phone       text,
  country     text        NOT NULL DEFAULT 'CN',
  province    text,
  city        text,
  district    text,
  street      text        NOT NULL,
  postal_code text,
  is_default  boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX company_addresses_company_idx ON accounts.company_addresses (company_id);
-- at most one default address per company and kind
CREATE UNIQUE INDEX company_addresses_default_idx ON accounts.company_addresses (company_id, kind) WHERE is_default;

CREATE TABLE accounts.company_contacts (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid        NOT NULL REFERENCES accounts.companies (id),
  name       text        NOT NULL,
  title      text,
  email      text,
  phone      text,
  is_primary boolean     NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX company_contacts_company_idx ON accounts.company_contacts (company_id);

-- The org tree. `path` holds the ids from the root down to the unit itself, so a subtree is
-- `path @> ARRAY[unit]` (GIN-indexed) and moving a unit rewrites the paths of its subtree in one
-- statement. Each company has one root unit (the master account), created with the company.
CREATE TABLE accounts.units (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id      uuid        NOT NULL REFERENCES accounts.companies (id),
  parent_id       uuid        REFERENCES accounts.units (id),
  name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  code            text,
  manager_user_id uuid        REFERENCES accounts.users (id),
  path            uuid[]      NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (path[array_length(path, 1)] = id)
);
CREATE INDEX units_company_idx ON accounts.units (company_id);
CREATE INDEX units_path_idx ON accounts.units USING gin (path);
CREATE UNIQUE INDEX units_one_root_idx ON accounts.units (company_id) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX units_code_idx ON accounts.units (company_id, code) WHERE code IS NOT NULL;

ALTER TABLE accounts.users
  ADD COLUMN unit_id            uuid REFERENCES accounts.units (id),
  ADD COLUMN invite_token_hash  text,
  ADD COLUMN invite_expires_at  timestamptz,
  ADD COLUMN reset_token_hash   text,
  ADD COLUMN reset_expires_at   timestamptz,
  ADD COLUMN last_login_at      timestamptz,
  ADD COLUMN created_by         uuid;
ALTER TABLE accounts.users DROP CONSTRAINT users_status_check;
ALTER TABLE accounts.users ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'invited', 'disabled'));
-- invited users have no usable password yet
ALTER TABLE accounts.users ALTER COLUMN password_hash DROP NOT NULL;
CREATE INDEX users_unit_idx ON accounts.users (unit_id);
CREATE UNIQUE INDEX users_invite_token_idx ON accounts.users (invite_token_hash) WHERE invite_token_hash IS NOT NULL;
CREATE UNIQUE INDEX users_reset_token_idx ON accounts.users (reset_token_hash) WHERE reset_token_hash IS NOT NULL;

-- Roles a company admin defines; preset roles live in code (core/accounts/roles.ts).
CREATE TABLE accounts.custom_roles (
  company_id  uuid        NOT NULL REFERENCES accounts.companies (id),
  key         text        NOT NULL CHECK (key ~ '^[a-z][a-z0-9-]{1,39}$'),
  name        text        NOT NULL,
  description text,
  -- [{ "permission": "orders.read", "scope": "unit_tree" }, ...]
  grants      jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (company_id, key)
);

-- Every existing company gets its root unit, and its users are placed in it.
INSERT INTO accounts.units (id, company_id, name, path)
SELECT id, company_id, name, ARRAY[id]
  FROM (SELECT gen_random_uuid() AS id, c.id AS company_id, c.name FROM accounts.companies c) AS roots;
UPDATE accounts.users usr SET unit_id = un.id
  FROM accounts.units un WHERE un.company_id = usr.company_id AND un.parent_id IS NULL;
