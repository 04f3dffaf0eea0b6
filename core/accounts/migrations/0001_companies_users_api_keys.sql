CREATE SCHEMA IF NOT EXISTS accounts;

CREATE TABLE accounts.companies (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status     text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'suspended', 'closed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Staff and buyers share one table: one login endpoint, one email namespace. A buyer always
-- belongs to exactly one company; staff never do.
CREATE TABLE accounts.users (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  kind          text        NOT NULL CHECK (kind IN ('staff', 'buyer')),
  company_id    uuid        REFERENCES accounts.companies (id),
  email         text        NOT NULL CHECK (email = lower(email)),
  display_name  text        NOT NULL,
  password_hash text        NOT NULL,
  roles         text[]      NOT NULL DEFAULT '{}',
  status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT buyer_has_company CHECK ((kind = 'buyer') = (company_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email_idx ON accounts.users (email);
CREATE INDEX users_company_idx ON accounts.users (company_id);

CREATE TABLE accounts.api_keys (
  id          uuid        PRIMARY KEY,
  name        text        NOT NULL,
  company_id  uuid        REFERENCES accounts.companies (id),
  permissions text[]      NOT NULL,
  secret_hash text        NOT NULL,
  created_by  uuid        NOT NULL REFERENCES accounts.users (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at  timestamptz
);
