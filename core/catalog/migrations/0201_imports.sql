-- Staff bulk import and update of products from XLSX and CSV files (core/catalog/import/): one row
-- per import job with its progress, and its per-row validation report. The file itself lives in
-- the platform object store under `file_key`.

CREATE TABLE catalog.imports (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  status            text        NOT NULL DEFAULT 'queued'
                                CHECK (status IN ('queued', 'running', 'succeeded', 'partially_succeeded', 'failed')),
  format            text        NOT NULL CHECK (format IN ('csv', 'xlsx')),
  mode              text        NOT NULL CHECK (mode IN ('upsert', 'create-only', 'update-only')),
  dry_run           boolean     NOT NULL DEFAULT false,
  -- CSV text encoding asked for ('auto' detects: BOM, else UTF-8 when valid, else GB18030).
  encoding          text        NOT NULL DEFAULT 'auto',
  file_name         text,
  file_key          text        NOT NULL,
  file_size         bigint      NOT NULL CHECK (file_size >= 0),
  sha256            text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_by        text        NOT NULL,
  request_id        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz,
  -- Data rows read from the file (pass 1), and those whose product is settled (pass 2).
  rows_read         integer     NOT NULL DEFAULT 0,
  rows_settled      integer     NOT NULL DEFAULT 0,
  rows_rejected     integer     NOT NULL DEFAULT 0,
  products_created  integer     NOT NULL DEFAULT 0,
  products_updated  integer     NOT NULL DEFAULT 0,
  products_rejected integer     NOT NULL DEFAULT 0,
  -- The last file line whose product is settled (applied or rejected) in a committed batch: a
  -- retried job resumes after it instead of applying the file twice.
  settled_line      integer     NOT NULL DEFAULT 0,
  report_entries    integer     NOT NULL DEFAULT 0,
  -- Entries beyond the report's bound are counted, not stored.
  report_dropped    integer     NOT NULL DEFAULT 0,
  -- Why the whole file was refused ({ code, message, row? }); null unless status = 'failed'.
  failure           jsonb
);
CREATE INDEX imports_created_idx ON catalog.imports (created_at DESC, id DESC);
-- The same file cannot be imported twice at once (409): the second upload is refused while the
-- first is queued or running.
CREATE UNIQUE INDEX imports_in_flight_idx ON catalog.imports (sha256) WHERE status IN ('queued', 'running');

CREATE TABLE catalog.import_report (
  import_id uuid    NOT NULL REFERENCES catalog.imports (id) ON DELETE CASCADE,
  seq       integer NOT NULL,
  -- 1-based line of the file (the header is row 1).
  line      integer NOT NULL,
  -- The column as the file names it, and the product field it maps to.
  "column"  text,
  field     text,
  code      text    NOT NULL,
  message   text    NOT NULL,
  PRIMARY KEY (import_id, seq)
);
