-- Files taken in over SFTP (or any file drop), by content: the same bytes are never imported
-- twice on one connection, whatever their name (connectors/sdk/files/file-intake.ts).
CREATE SCHEMA IF NOT EXISTS file_intake;

CREATE TABLE file_intake.imported_files (
  connection text NOT NULL,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  file_name text NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  rows integer NOT NULL CHECK (rows >= 0),
  imported_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection, sha256)
);
