-- Product media and documents (core/catalog/media/): one row per asset (an image, video, CAD
-- drawing, datasheet, case study, white paper, software package), its bytes in the platform object
-- store under `storage_key` (built from the asset id, never from client text). Assets are attached
-- to products with a role and an order, carry an access rule, and every download is recorded.

CREATE TABLE catalog.media_assets (
  id             uuid        PRIMARY KEY,
  -- Newest-first keyset paging of the download centre and the staff list.
  seq            bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
  kind           text        NOT NULL CHECK (kind IN ('image', 'video', 'cad', 'datasheet', 'case_study',
                                                      'white_paper', 'software', 'other')),
  title_zh       text        NOT NULL CHECK (length(title_zh) BETWEEN 1 AND 200),
  title_en       text        NOT NULL CHECK (length(title_en) BETWEEN 1 AND 200),
  description_zh text,
  description_en text,
  file_name      text        NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
  -- The type the bytes were found to be (sniffed), not merely what the client declared.
  media_type     text        NOT NULL,
  size_bytes     bigint      NOT NULL CHECK (size_bytes >= 0),
  -- One asset per content: the same bytes uploaded again answer the existing asset.
  sha256         text        NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  storage_key    text        NOT NULL UNIQUE,
  language       text,
  version        integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  version_label  text,
  -- public: anyone; buyers: any buyer of an active company; restricted: the audiences named in
  -- catalog.media_audiences (none named = staff only). Staff always see everything.
  access         text        NOT NULL CHECK (access IN ('public', 'buyers', 'restricted')),
  uploaded_by    text        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_assets_kind_idx ON catalog.media_assets (kind, seq);
-- Substring search on titles and file names (download centre `q`).
CREATE INDEX media_assets_text_idx ON catalog.media_assets
  USING gin ((title_zh || ' ' || title_en || ' ' || file_name) public.gin_trgm_ops);

-- Who may get an asset, materialised from its access rule in the same transaction as every change
-- of it: 'public', 'buyers', or the named audiences of a restricted asset ('company:<uuid>',
-- 'tier:<tier>', 'tag:<tag>': the vocabulary of catalog.product_visibility).
CREATE TABLE catalog.media_audiences (
  asset_id uuid NOT NULL REFERENCES catalog.media_assets (id) ON DELETE CASCADE,
  audience text NOT NULL,
  PRIMARY KEY (asset_id, audience)
);
CREATE INDEX media_audiences_audience_idx ON catalog.media_audiences (audience, asset_id);

-- Earlier versions of an asset's file (metadata only: replaced bytes are removed from the store).
CREATE TABLE catalog.media_versions (
  asset_id      uuid        NOT NULL REFERENCES catalog.media_assets (id) ON DELETE CASCADE,
  version       integer     NOT NULL,
  file_name     text        NOT NULL,
  media_type    text        NOT NULL,
  size_bytes    bigint      NOT NULL,
  sha256        text        NOT NULL,
  version_label text,
  uploaded_by   text        NOT NULL,
  uploaded_at   timestamptz NOT NULL,
  replaced_by   text        NOT NULL,
  replaced_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (asset_id, version)
);

-- Assets attached to products, in order, with a role. At most one primary image per product.
CREATE TABLE catalog.product_media (
  product_id uuid    NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
  asset_id   uuid    NOT NULL REFERENCES catalog.media_assets (id),
  role       text    NOT NULL CHECK (role IN ('primary_image', 'gallery', 'video', 'document')),
  sort       integer NOT NULL,
  PRIMARY KEY (product_id, asset_id)
);
CREATE INDEX product_media_asset_idx ON catalog.product_media (asset_id);
CREATE UNIQUE INDEX product_media_primary_idx ON catalog.product_media (product_id) WHERE role = 'primary_image';

-- Downloads started, append-only (analytics): who (guest, buyer of a company, staff), which asset
-- and version, when. Kept after the asset is deleted.
CREATE TABLE catalog.media_downloads (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  asset_id      uuid        NOT NULL,
  version       integer     NOT NULL,
  viewer_kind   text        NOT NULL CHECK (viewer_kind IN ('guest', 'buyer', 'staff')),
  company_id    uuid,
  principal_id  text,
  downloaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_downloads_asset_idx ON catalog.media_downloads (asset_id, downloaded_at);
CREATE TRIGGER media_downloads_append_only BEFORE UPDATE OR DELETE ON catalog.media_downloads
  FOR EACH ROW EXECUTE FUNCTION catalog.reject_analytics_change();
