-- An inbound run in progress: where it continues (committed with each page) and who runs it.
ALTER TABLE integration.stream_cursors
  ADD COLUMN continuation text,
  ADD COLUMN lease_until  timestamptz;
