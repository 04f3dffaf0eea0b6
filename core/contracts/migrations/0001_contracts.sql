-- Contracts (合同): staff-managed templates, contracts generated from them for an order or an
-- accepted quote, sent for e-signature through the signature port, the signed file kept in the
-- object store. Every status change is a history row (append-only); callbacks are remembered so a
-- repeated one has no second effect.

CREATE SCHEMA IF NOT EXISTS contracts;

CREATE TABLE contracts.templates (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  code        text        NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  title       text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  -- Bumped on every change; a contract records the version it was made from.
  version     integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  active      boolean     NOT NULL DEFAULT true,
  created_by  uuid        NOT NULL,
  updated_by  uuid        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE contracts.contract_number_seq;

CREATE TABLE contracts.contracts (
  id               uuid        PRIMARY KEY,
  number           text        NOT NULL UNIQUE,
  company_id       uuid        NOT NULL,
  template_id      uuid        NOT NULL REFERENCES contracts.templates (id),
  template_version integer     NOT NULL,
  subject_type     text        NOT NULL CHECK (subject_type IN ('order', 'quote')),
  subject_id       uuid        NOT NULL,
  subject_number   text        NOT NULL CHECK (length(subject_number) <= 60),
  title            text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  currency         text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  total_minor      bigint      NOT NULL,
  status           text        NOT NULL CHECK (status IN ('draft', 'sent', 'signed', 'rejected', 'expired', 'cancelled')),
  signer_name      text        NOT NULL CHECK (length(signer_name) BETWEEN 1 AND 100),
  signer_mobile    text        CHECK (signer_mobile ~ '^\+?[0-9]{6,20}$'),
  sign_deadline    timestamptz NOT NULL,
  -- The generated document (draft) and, once signed, the provider's signed file; bytes in the object store.
  draft_key        text        NOT NULL,
  draft_sha256     text        NOT NULL CHECK (draft_sha256 ~ '^[0-9a-f]{64}$'),
  draft_size       integer     NOT NULL,
  signed_key       text,
  signed_sha256    text        CHECK (signed_sha256 ~ '^[0-9a-f]{64}$'),
  signed_size      integer,
  signed_at        timestamptz,
  -- The signature provider's task, once sent.
  provider         text,
  sign_task_id     text        CHECK (length(sign_task_id) <= 100),
  sign_url         text        CHECK (length(sign_url) <= 2000),
  created_by       uuid        NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT signed_has_file CHECK (status <> 'signed' OR (signed_key IS NOT NULL AND signed_sha256 IS NOT NULL)),
  CONSTRAINT sent_has_task CHECK (status = 'draft' OR status = 'cancelled' OR sign_task_id IS NOT NULL)
);
CREATE INDEX contracts_company_idx ON contracts.contracts (company_id, created_at DESC, id);
CREATE INDEX contracts_status_idx ON contracts.contracts (status, created_at DESC, id);
CREATE UNIQUE INDEX contracts_task_idx ON contracts.contracts (provider, sign_task_id) WHERE sign_task_id IS NOT NULL;
-- One live contract per order or quote: another may be made once the last was cancelled, rejected or expired.
CREATE UNIQUE INDEX contracts_live_subject_idx ON contracts.contracts (subject_type, subject_id)
  WHERE status IN ('draft', 'sent', 'signed');

CREATE TABLE contracts.contract_history (
  id          bigserial   PRIMARY KEY,
  contract_id uuid        NOT NULL REFERENCES contracts.contracts (id),
  from_status text,
  to_status   text        NOT NULL,
  actor_kind  text        NOT NULL CHECK (actor_kind IN ('staff', 'buyer', 'system', 'provider')),
  actor_id    text        NOT NULL CHECK (length(actor_id) <= 100),
  reason      text        CHECK (length(reason) <= 1000),
  at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX contract_history_contract_idx ON contracts.contract_history (contract_id, id);

CREATE FUNCTION contracts.history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'contracts.contract_history is append-only';
END;
$$;
CREATE TRIGGER contract_history_append_only BEFORE UPDATE OR DELETE ON contracts.contract_history
  FOR EACH ROW EXECUTE FUNCTION contracts.history_is_append_only();

-- Signature callbacks seen, by the provider's nonce: a callback delivered again is answered but not applied again.
CREATE TABLE contracts.esign_callbacks (
  provider    text        NOT NULL,
  nonce       text        NOT NULL,
  event       text        NOT NULL,
  task_id     text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, nonce)
);
