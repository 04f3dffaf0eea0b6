-- An attachment belongs to one version of its quote: the buyer's request or counter it came with,
-- or the staff version it explains. The table had no upload route before, so it holds no rows.
ALTER TABLE quotes.quote_attachments
  ADD COLUMN version integer NOT NULL,
  ADD FOREIGN KEY (quote_id, version) REFERENCES quotes.quote_versions (quote_id, number) ON DELETE CASCADE;
-- The same bytes attached to the same version again are the same attachment (uploads are not
-- idempotent by key; they are by content).
CREATE UNIQUE INDEX quote_attachments_content_idx ON quotes.quote_attachments (quote_id, version, sha256);
