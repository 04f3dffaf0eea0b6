import type { Queryable } from '../../platform/database/database.ts';
import { Conflict, type FieldError, NotFound, ValidationFailed } from '../../platform/errors/hub-errors.ts';
import { type Viewer, visibilityFilterSql } from '../visibility.ts';
import { type AccessLevel, audienceRows, mediaAccessSql } from './media-access.ts';
import { KIND_RULES, kindTakesType, type MediaKind } from './media-formats.ts';

/**
 * Media assets: the record of each kept file (metadata, sniffed media type, size, SHA-256, the
 * object-store key, version, access rule). Bytes live in the object store; these functions only
 * touch the tables, inside the caller's transaction.
 */
export interface MediaAsset {
  id: string;
  kind: MediaKind;
  titleZh: string;
  titleEn: string;
  descriptionZh: string | null;
  descriptionEn: string | null;
  fileName: string;
  mediaType: string;
  size: number;
  sha256: string;
  language: string | null;
  version: number;
  versionLabel: string | null;
  access: AccessLevel;
  /** The named audiences of a restricted asset (`company:<uuid>`, `tier:<tier>`, `tag:<tag>`); empty otherwise. */
  audiences: string[];
  productCount: number;
  uploadedBy: string;
  createdAt: string;
  updatedAt: string;
}

/** An asset with what only the store and paging need. */
export interface StoredAsset extends MediaAsset {
  storageKey: string;
  seq: string;
}

export interface PreviousVersion {
  version: number;
  fileName: string;
  mediaType: string;
  size: number;
  sha256: string;
  versionLabel: string | null;
  uploadedBy: string;
  uploadedAt: string;
  replacedBy: string;
  replacedAt: string;
}

export interface MediaAssetDetail extends MediaAsset {
  attachments: Array<{ productId: string; role: MediaRole; sort: number }>;
  previousVersions: PreviousVersion[];
}

/** An asset as buyers and guests see it in the download centre and on a product. */
export interface MediaDownload {
  id: string;
  kind: MediaKind;
  titleZh: string;
  titleEn: string;
  descriptionZh: string | null;
  descriptionEn: string | null;
  fileName: string;
  mediaType: string;
  size: number;
  language: string | null;
  versionLabel: string | null;
  updatedAt: string;
  contentUrl: string;
  products: Array<{ id: string; slug: string; nameZh: string; nameEn: string }>;
}

export const MEDIA_ROLES = ['primary_image', 'gallery', 'video', 'document'] as const;
export type MediaRole = (typeof MEDIA_ROLES)[number];

/** Image roles take images, the video role videos, the document role every other kind. */
export function roleFits(role: MediaRole, kind: MediaKind): boolean {
  if (role === 'primary_image' || role === 'gallery') return kind === 'image';
  if (role === 'video') return kind === 'video';
  return kind !== 'image' && kind !== 'video';
}

/** At most this many products are named on one asset in buyer answers. */
const PRODUCTS_SHOWN = 20;

const COLUMNS = `a.id, a.seq::text AS seq, a.kind, a.title_zh, a.title_en, a.description_zh, a.description_en,
  a.file_name, a.media_type, a.size_bytes, a.sha256, a.storage_key, a.language, a.version, a.version_label,
  a.access, a.uploaded_by, a.created_at, a.updated_at,
  CASE WHEN a.access = 'restricted' THEN
    COALESCE((SELECT array_agg(audience ORDER BY audience) FROM catalog.media_audiences WHERE asset_id = a.id), '{}')
  ELSE '{}' END AS audiences,
  (SELECT count(*)::int FROM catalog.product_media WHERE asset_id = a.id) AS product_count`;

function toAsset(row: Record<string, unknown>): StoredAsset {
  return {
    id: row.id as string,
    kind: row.kind as MediaKind,
    titleZh: row.title_zh as string,
    titleEn: row.title_en as string,
    descriptionZh: (row.description_zh as string | null) ?? null,
    descriptionEn: (row.description_en as string | null) ?? null,
    fileName: row.file_name as string,
    mediaType: row.media_type as string,
    size: Number(row.size_bytes),
    sha256: row.sha256 as string,
    language: (row.language as string | null) ?? null,
    version: row.version as number,
    versionLabel: (row.version_label as string | null) ?? null,
    access: row.access as AccessLevel,
    audiences: row.audiences as string[],
    productCount: row.product_count as number,
    uploadedBy: row.uploaded_by as string,
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
    storageKey: row.storage_key as string,
    seq: row.seq as string,
  };
}

/** The public shape of an asset (no store key, no paging position). */
export function publicAsset(asset: StoredAsset): MediaAsset {
  const { storageKey: _key, seq: _seq, ...rest } = asset;
  return rest;
}

export async function findAsset(
  db: Queryable,
  id: string,
  options: { lock?: boolean } = {},
): Promise<StoredAsset | undefined> {
  if (options.lock) {
    const { rowCount } = await db.query('SELECT 1 FROM catalog.media_assets WHERE id = $1 FOR UPDATE', [id]);
    if (!rowCount) return undefined;
  }
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM catalog.media_assets a WHERE a.id = $1`, [id]);
  return rows[0] ? toAsset(rows[0]) : undefined;
}

export async function findAssetBySha256(db: Queryable, sha256: string): Promise<StoredAsset | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM catalog.media_assets a WHERE a.sha256 = $1`, [
    sha256,
  ]);
  return rows[0] ? toAsset(rows[0]) : undefined;
}

/** Staff's view of one asset: where it is attached and its earlier versions. */
export async function assetDetail(db: Queryable, id: string): Promise<MediaAssetDetail | undefined> {
  const asset = await findAsset(db, id);
  if (!asset) return undefined;
  const attachments = await db.query(
    `SELECT product_id, role, sort FROM catalog.product_media WHERE asset_id = $1
      ORDER BY product_id LIMIT 1000`,
    [id],
  );
  const versions = await db.query(
    `SELECT * FROM catalog.media_versions WHERE asset_id = $1 ORDER BY version DESC LIMIT 100`,
    [id],
  );
  return {
    ...publicAsset(asset),
    attachments: attachments.rows.map((row) => ({
      productId: row.product_id,
      role: row.role,
      sort: row.sort,
    })),
    previousVersions: versions.rows.map((row) => ({
      version: row.version,
      fileName: row.file_name,
      mediaType: row.media_type,
      size: Number(row.size_bytes),
      sha256: row.sha256,
      versionLabel: row.version_label ?? null,
      uploadedBy: row.uploaded_by,
      uploadedAt: new Date(row.uploaded_at).toISOString(),
      replacedBy: row.replaced_by,
      replacedAt: new Date(row.replaced_at).toISOString(),
    })),
  };
}

export interface AccessInput {
  access?: AccessLevel | undefined;
  audiences?: string[] | undefined;
}

/**
 * The access rule after a change: audiences belong to restricted assets only (a restricted asset
 * naming none is for staff only). Problems come back with pointers.
 */
export function resolveAccess(
  current: { access: AccessLevel; audiences: string[] } | undefined,
  input: AccessInput,
): { access: AccessLevel; audiences: string[] } {
  const access = input.access ?? current?.access;
  if (!access) throw new ValidationFailed([{ pointer: '/access', detail: 'is required' }]);
  if (access !== 'restricted' && input.audiences?.length) {
    throw new ValidationFailed(
      [{ pointer: '/audiences', detail: `only a restricted asset names audiences; this one is ${access}` }],
      'The access rule is not valid',
    );
  }
  const audiences =
    access !== 'restricted'
      ? []
      : (input.audiences ?? (current?.access === 'restricted' ? current.audiences : []));
  return { access, audiences: [...new Set(audiences)].sort() };
}

async function writeAudiences(db: Queryable, assetId: string, access: AccessLevel, audiences: string[]) {
  await db.query('DELETE FROM catalog.media_audiences WHERE asset_id = $1', [assetId]);
  await db.query(
    `INSERT INTO catalog.media_audiences (asset_id, audience) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
    [assetId, audienceRows(access, audiences)],
  );
}

export interface NewAsset {
  id: string;
  kind: MediaKind;
  titleZh: string;
  titleEn: string;
  descriptionZh: string | null;
  descriptionEn: string | null;
  fileName: string;
  mediaType: string;
  size: number;
  sha256: string;
  storageKey: string;
  language: string | null;
  versionLabel: string | null;
  access: AccessLevel;
  audiences: string[];
  uploadedBy: string;
}

/**
 * Keeps a new asset, or answers the one that already holds these bytes (`created: false`; the new
 * record is not written, so the caller removes the bytes it stored).
 */
export async function insertAsset(
  db: Queryable,
  input: NewAsset,
): Promise<{ asset: StoredAsset; created: boolean }> {
  const { rowCount } = await db.query(
    `INSERT INTO catalog.media_assets (id, kind, title_zh, title_en, description_zh, description_en, file_name,
       media_type, size_bytes, sha256, storage_key, language, version_label, access, uploaded_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (sha256) DO NOTHING`,
    [
      input.id,
      input.kind,
      input.titleZh,
      input.titleEn,
      input.descriptionZh,
      input.descriptionEn,
      input.fileName,
      input.mediaType,
      input.size,
      input.sha256,
      input.storageKey,
      input.language,
      input.versionLabel,
      input.access,
      input.uploadedBy,
    ],
  );
  if (!rowCount) return { asset: (await findAssetBySha256(db, input.sha256))!, created: false };
  await writeAudiences(db, input.id, input.access, input.audiences);
  return { asset: (await findAsset(db, input.id))!, created: true };
}

export interface AssetChanges extends AccessInput {
  kind?: MediaKind;
  titleZh?: string;
  titleEn?: string;
  descriptionZh?: string | null;
  descriptionEn?: string | null;
  language?: string | null;
  versionLabel?: string | null;
}

/** The ids of the products an asset is attached to. */
export async function productsOfAsset(db: Queryable, assetId: string): Promise<string[]> {
  const { rows } = await db.query('SELECT product_id FROM catalog.product_media WHERE asset_id = $1', [
    assetId,
  ]);
  return rows.map((row) => row.product_id as string);
}

/** Changes an asset's metadata or access rule (its file stays). A new kind must take its format and fit its roles. */
export async function updateAsset(
  db: Queryable,
  id: string,
  changes: AssetChanges,
): Promise<{ before: StoredAsset; after: StoredAsset }> {
  const before = await findAsset(db, id, { lock: true });
  if (!before) throw new NotFound('Media asset');
  const errors: FieldError[] = [];
  if (changes.kind && changes.kind !== before.kind) {
    const rule = KIND_RULES[changes.kind];
    if (!kindTakesType(changes.kind, before.mediaType)) {
      errors.push({ pointer: '/kind', detail: `kind ${changes.kind} does not take ${before.mediaType}` });
    } else if (before.size > rule.maxBytes) {
      errors.push({ pointer: '/kind', detail: `kind ${changes.kind} takes at most ${rule.maxBytes} bytes` });
    }
    const { rows } = await db.query('SELECT DISTINCT role FROM catalog.product_media WHERE asset_id = $1', [
      id,
    ]);
    const misfit = rows.map((row) => row.role as MediaRole).find((role) => !roleFits(role, changes.kind!));
    if (misfit)
      errors.push({
        pointer: '/kind',
        detail: `the asset is attached as ${misfit}, which kind ${changes.kind} cannot fill`,
      });
  }
  if (errors.length) throw new ValidationFailed(errors, 'The change does not fit the asset');
  const { access, audiences } = resolveAccess(before, changes);
  const pick = <K extends keyof AssetChanges>(key: K, fallback: unknown) =>
    changes[key] !== undefined ? changes[key] : fallback;
  await db.query(
    `UPDATE catalog.media_assets
        SET kind = $2, title_zh = $3, title_en = $4, description_zh = $5, description_en = $6, language = $7,
            version_label = $8, access = $9, updated_at = now()
      WHERE id = $1`,
    [
      id,
      pick('kind', before.kind),
      pick('titleZh', before.titleZh),
      pick('titleEn', before.titleEn),
      pick('descriptionZh', before.descriptionZh),
      pick('descriptionEn', before.descriptionEn),
      pick('language', before.language),
      pick('versionLabel', before.versionLabel),
      access,
    ],
  );
  await writeAudiences(db, id, access, audiences);
  return { before, after: (await findAsset(db, id))! };
}

export interface NewContent {
  fileName: string;
  mediaType: string;
  size: number;
  sha256: string;
  storageKey: string;
  versionLabel: string | null | undefined;
  by: string;
}

/**
 * Makes new bytes the asset's current version: the old version's record moves to
 * `catalog.media_versions` (its bytes are for the caller to remove after commit), the version
 * number goes up. The same bytes as now change nothing (`replaced: false`); bytes another asset
 * already holds are refused with 409.
 */
export async function replaceContent(
  db: Queryable,
  id: string,
  content: NewContent,
): Promise<{ before: StoredAsset; after: StoredAsset; replaced: boolean }> {
  const before = await findAsset(db, id, { lock: true });
  if (!before) throw new NotFound('Media asset');
  if (before.sha256 === content.sha256) return { before, after: before, replaced: false };
  const holder = await findAssetBySha256(db, content.sha256);
  if (holder) {
    throw new Conflict(`Another asset already holds this file: ${holder.id}`, {
      errors: [{ pointer: '', detail: `the same bytes are asset ${holder.id}` }],
    });
  }
  await db.query(
    `INSERT INTO catalog.media_versions (asset_id, version, file_name, media_type, size_bytes, sha256,
       version_label, uploaded_by, uploaded_at, replaced_by)
     SELECT id, version, file_name, media_type, size_bytes, sha256, version_label, uploaded_by, updated_at, $2
       FROM catalog.media_assets WHERE id = $1`,
    [id, content.by],
  );
  await db.query(
    `UPDATE catalog.media_assets
        SET file_name = $2, media_type = $3, size_bytes = $4, sha256 = $5, storage_key = $6,
            version = version + 1, version_label = $7, uploaded_by = $8, updated_at = now()
      WHERE id = $1`,
    [
      id,
      content.fileName,
      content.mediaType,
      content.size,
      content.sha256,
      content.storageKey,
      content.versionLabel !== undefined ? content.versionLabel : null,
      content.by,
    ],
  );
  return { before, after: (await findAsset(db, id))!, replaced: true };
}

/**
 * Deletes an asset's record (the caller removes its bytes after commit). While it is attached to
 * products it is refused with 409 naming them, unless `detach` takes it off every product first.
 */
export async function deleteAsset(
  db: Queryable,
  id: string,
  options: { detach: boolean },
): Promise<{ asset: StoredAsset; detachedFrom: string[] }> {
  const asset = await findAsset(db, id, { lock: true });
  if (!asset) throw new NotFound('Media asset');
  const productIds = await productsOfAsset(db, id);
  if (productIds.length && !options.detach) {
    throw new Conflict(
      `The asset is attached to ${productIds.length} product(s): detach it first, or pass detach=true`,
      {
        errors: productIds.slice(0, 20).map((productId) => ({
          pointer: '/detach',
          detail: `attached to product ${productId}`,
        })),
      },
    );
  }
  await db.query('DELETE FROM catalog.product_media WHERE asset_id = $1', [id]);
  await db.query('DELETE FROM catalog.media_assets WHERE id = $1', [id]);
  return { asset, detachedFrom: productIds };
}

export interface MediaFilter {
  kinds?: MediaKind[] | undefined;
  access?: AccessLevel | undefined;
  language?: string | undefined;
  q?: string | undefined;
  productId?: string | undefined;
  categoryId?: string | undefined;
  /** The `seq` of the last asset of the previous page. */
  beforeSeq?: string | undefined;
  limit: number;
}

/** Text for `ILIKE` matching itself literally. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Assets the viewer may get, newest first, one keyset page. `productId` and `categoryId` (its
 * subtree) go through products the viewer may see, so naming a hidden product finds nothing.
 */
export async function listAssets(db: Queryable, viewer: Viewer, filter: MediaFilter): Promise<StoredAsset[]> {
  const values: unknown[] = [];
  const where = [mediaAccessSql('a', viewer, values)];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.kinds?.length) where.push(`a.kind = ANY(${param(filter.kinds)}::text[])`);
  if (filter.access) where.push(`a.access = ${param(filter.access)}`);
  if (filter.language) where.push(`a.language = ${param(filter.language)}`);
  if (filter.q) {
    where.push(
      `(a.title_zh || ' ' || a.title_en || ' ' || a.file_name) ILIKE '%' || ${param(likeLiteral(filter.q))} || '%'`,
    );
  }
  if (filter.productId || filter.categoryId) {
    const through = [`f.asset_id = a.id`];
    if (filter.productId) through.push(`f.product_id = ${param(filter.productId)}::uuid`);
    if (filter.categoryId) {
      through.push(
        `EXISTS (SELECT 1 FROM catalog.categories c WHERE c.id = p.category_id AND c.path @> ARRAY[${param(filter.categoryId)}::uuid])`,
      );
    }
    through.push(visibilityFilterSql('p', viewer, values));
    where.push(`EXISTS (SELECT 1 FROM catalog.product_media f JOIN catalog.products p ON p.id = f.product_id
                         WHERE ${through.join(' AND ')})`);
  }
  if (filter.beforeSeq) where.push(`a.seq < ${param(filter.beforeSeq)}::bigint`);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.media_assets a WHERE ${where.join(' AND ')} ORDER BY a.seq DESC LIMIT ${param(filter.limit)}`,
    values,
  );
  return rows.map(toAsset);
}

/** Whether the viewer may get this asset; the record when they may. */
export async function assetForViewer(
  db: Queryable,
  viewer: Viewer,
  id: string,
): Promise<StoredAsset | undefined> {
  const values: unknown[] = [id];
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.media_assets a WHERE a.id = $1 AND ${mediaAccessSql('a', viewer, values)}`,
    values,
  );
  return rows[0] ? toAsset(rows[0]) : undefined;
}

/** Where an asset's bytes are served. */
export function contentUrlOf(assetId: string): string {
  return `/api/catalog/media/${assetId}/content`;
}

/** The buyer-facing shape of assets, with the (at most 20) products the viewer may see each one on. */
export async function downloadsOf(
  db: Queryable,
  viewer: Viewer,
  assets: readonly StoredAsset[],
): Promise<MediaDownload[]> {
  if (assets.length === 0) return [];
  const values: unknown[] = [assets.map((asset) => asset.id)];
  const visible = visibilityFilterSql('p', viewer, values);
  const { rows } = await db.query(
    `SELECT pm.asset_id, p.id, p.slug, p.name_zh, p.name_en
       FROM (SELECT unnest($1::uuid[]) AS asset_id) ids
       CROSS JOIN LATERAL (
         SELECT pm.asset_id, pm.product_id FROM catalog.product_media pm
           JOIN catalog.products p ON p.id = pm.product_id
          WHERE pm.asset_id = ids.asset_id AND ${visible}
          ORDER BY p.slug LIMIT ${PRODUCTS_SHOWN}) pm
       JOIN catalog.products p ON p.id = pm.product_id
      ORDER BY p.slug`,
    values,
  );
  const products = new Map<string, MediaDownload['products']>();
  for (const row of rows) {
    const list = products.get(row.asset_id) ?? [];
    list.push({ id: row.id, slug: row.slug, nameZh: row.name_zh, nameEn: row.name_en });
    products.set(row.asset_id, list);
  }
  return assets.map((asset) => ({
    id: asset.id,
    kind: asset.kind,
    titleZh: asset.titleZh,
    titleEn: asset.titleEn,
    descriptionZh: asset.descriptionZh,
    descriptionEn: asset.descriptionEn,
    fileName: asset.fileName,
    mediaType: asset.mediaType,
    size: asset.size,
    language: asset.language,
    versionLabel: asset.versionLabel,
    updatedAt: asset.updatedAt,
    contentUrl: contentUrlOf(asset.id),
    products: products.get(asset.id) ?? [],
  }));
}

/** Appends one download (analytics); who is the viewer, never request input. */
export async function recordDownload(
  db: Queryable,
  download: { assetId: string; version: number; viewer: Viewer; principalId: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO catalog.media_downloads (asset_id, version, viewer_kind, company_id, principal_id)
     VALUES ($1, $2, $3, $4, $5)`,
    [
      download.assetId,
      download.version,
      download.viewer.kind,
      download.viewer.kind === 'buyer' ? download.viewer.companyId : null,
      download.principalId,
    ],
  );
}

/** Assets by id, in the order asked (unknown ids left out). */
export async function listAssetsByIds(db: Queryable, ids: readonly string[]): Promise<StoredAsset[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.media_assets a WHERE a.id = ANY($1::uuid[])`,
    [[...ids]],
  );
  const byId = new Map(rows.map((row) => [row.id as string, toAsset(row)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
