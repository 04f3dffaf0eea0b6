-- Integration: connection instances of installed connectors, links between remote and hub ids,
-- stream cursors of inbound syncs, failed sync items kept for replay, webhook deliveries.
-- Credentials are stored only sealed (AES-256-GCM under HUB_MASTER_KEY, bound to the row id).

CREATE SCHEMA IF NOT EXISTS integration;

CREATE TABLE integration.connections (
  id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  connector_id        text        NOT NULL CHECK (connector_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name                text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  config              jsonb       NOT NULL DEFAULT '{}',
  -- sealed JSON object of the credential fields; never selected into an answer
  credentials_sealed  text        NOT NULL,
  credential_fields   text[]      NOT NULL DEFAULT '{}',
  sync                jsonb       NOT NULL DEFAULT '{}',
  enabled             boolean     NOT NULL DEFAULT true,
  last_check_at       timestamptz,
  last_check_ok       boolean,
  last_check_category text,
  last_check_message  text,
  version             integer     NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- (connection, entity, external id) ↔ canonical id, unique both ways: one remote record is one
-- hub record and the other way round, per connection.
CREATE TABLE integration.links (
  connection_id uuid        NOT NULL REFERENCES integration.connections (id),
  entity        text        NOT NULL CHECK (entity ~ '^[a-z][a-z0-9-]{0,62}$'),
  external_id   text        NOT NULL CHECK (length(external_id) BETWEEN 1 AND 500),
  canonical_id  text        NOT NULL CHECK (length(canonical_id) BETWEEN 1 AND 500),
  -- what the record looked like when last applied (modified time or content hash), for dedupe
  fingerprint   text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, entity, external_id),
  UNIQUE (connection_id, entity, canonical_id)
);

-- The committed position of an inbound stream; moved only in the transaction that applied its page.
CREATE TABLE integration.stream_cursors (
  connection_id uuid        NOT NULL REFERENCES integration.connections (id),
  stream        text        NOT NULL,
  cursor        text,
  records_total bigint      NOT NULL DEFAULT 0,
  last_run_at   timestamptz,
  PRIMARY KEY (connection_id, stream)
);

-- Sync items that failed for good (permanent, mapping, or out of retries): kept with what is
-- needed to replay them.
CREATE TABLE integration.failed_items (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  connection_id   uuid        NOT NULL REFERENCES integration.connections (id),
  direction       text        NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  entity          text        NOT NULL,
  item_key        text        NOT NULL,
  payload         jsonb       NOT NULL,
  error_category  text        NOT NULL,
  error_message   text        NOT NULL,
  attempts        integer     NOT NULL,
  mapping_version text,
  status          text        NOT NULL DEFAULT 'failed' CHECK (status IN ('failed', 'replayed', 'resolved')),
  failed_at       timestamptz NOT NULL DEFAULT now(),
  replayed_at     timestamptz,
  UNIQUE (connection_id, direction, item_key)
);
CREATE INDEX failed_items_open ON integration.failed_items (failed_at DESC) WHERE status = 'failed';

-- Webhook deliveries, stored before the 2xx answer; the sender's event id dedupes.
CREATE TABLE integration.webhook_deliveries (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  connection_id uuid        NOT NULL REFERENCES integration.connections (id),
  event_id      text        NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
  body          bytea       NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  UNIQUE (connection_id, event_id)
);
