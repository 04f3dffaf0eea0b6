-- Platform tables shared by every domain through platform functions (never queried by domains
-- directly): the transactional outbox, idempotency keys and the audit log.

CREATE TABLE platform.outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind         text        NOT NULL CHECK (kind IN ('event', 'job')),
  -- event name (`company.created`) or queue name (`erp-push`)
  topic        text        NOT NULL,
  payload      jsonb       NOT NULL,
  company_id   uuid,
  request_id   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  attempts     integer     NOT NULL DEFAULT 0,
  last_error   text
);
CREATE INDEX outbox_unpublished_idx ON platform.outbox (id) WHERE published_at IS NULL;

-- Subscribers that must act once per event remember what they consumed.
CREATE TABLE platform.consumed_events (
  consumer    text        NOT NULL,
  event_id    bigint      NOT NULL,
  consumed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

CREATE TABLE platform.idempotency_keys (
  -- keys are per caller: two callers may use the same key for different requests
  principal        text        NOT NULL,
  key              text        NOT NULL,
  method           text        NOT NULL,
  path             text        NOT NULL,
  request_hash     text        NOT NULL,
  state            text        NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'completed')),
  status_code      integer,
  response_body    jsonb,
  response_headers jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON platform.idempotency_keys (created_at);

CREATE TABLE platform.audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor_kind  text        NOT NULL CHECK (actor_kind IN ('staff', 'buyer', 'system', 'anonymous')),
  actor_id    text,
  -- a staff member acting on behalf of a buyer is recorded as both
  on_behalf_of text,
  company_id  uuid,
  action      text        NOT NULL,
  entity_type text,
  entity_id   text,
  request_id  text,
  source_ip   text,
  user_agent  text,
  details     jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_company_idx ON platform.audit_log (company_id, occurred_at DESC);
CREATE INDEX audit_log_entity_idx ON platform.audit_log (entity_type, entity_id);

CREATE FUNCTION platform.reject_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'platform.audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON platform.audit_log
  FOR EACH ROW EXECUTE FUNCTION platform.reject_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON platform.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION platform.reject_audit_change();
