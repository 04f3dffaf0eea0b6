-- What the outbox relay needs beyond 0001.
--
-- next_attempt_at: a row is not claimed before this time. It holds the retry schedule of a row
-- whose publication failed (one bad row is retried with backoff, not on every poll) and, for
-- relays that claim by lease instead of holding a transaction open (the embedded server
-- serialises transactions across connections, see outbox-relay.ts), the end of the lease.
--
-- The trigger wakes relays on insert. NOTIFY is transactional: delivered when the writing
-- transaction commits, never for a rolled-back one. Relays still poll, so a lost notification
-- only costs latency.

ALTER TABLE platform.outbox ADD COLUMN next_attempt_at timestamptz;

CREATE FUNCTION platform.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hub_outbox', '');
  RETURN NULL;
END;
$$;

-- Once per statement, not per row: a multi-row insert wakes relays once.
CREATE TRIGGER outbox_notify AFTER INSERT ON platform.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION platform.notify_outbox();
