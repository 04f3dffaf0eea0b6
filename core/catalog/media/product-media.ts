import type { Queryable } from '../../platform/database/database.ts';
import { type FieldError, NotFound, ValidationFailed } from '../../platform/errors/hub-errors.ts';
import { isVisible, type Viewer } from '../visibility.ts';
import { mediaAccessSql } from './media-access.ts';
import {
  downloadsOf,
  listAssetsByIds,
  type MediaDownload,
  type MediaRole,
  roleFits,
} from './media-assets.ts';
import type { MediaKind } from './media-formats.ts';

/**
 * Assets attached to products: an ordered list per product, each with a role (primary image,
 * gallery image, video, document). An asset can be on many products; a product has at most one
 * primary image. Every change rewrites the product's list with positions 0..n-1.
 */
export interface Attachment {
  assetId: string;
  role: MediaRole;
}

export interface ProductMediaItem {
  role: MediaRole;
  sort: number;
  asset: MediaDownload;
}

/** The product's attachments in order. */
export async function attachmentsOf(db: Queryable, productId: string): Promise<Attachment[]> {
  const { rows } = await db.query(
    'SELECT asset_id, role FROM catalog.product_media WHERE product_id = $1 ORDER BY sort, asset_id',
    [productId],
  );
  return rows.map((row) => ({ assetId: row.asset_id, role: row.role }));
}

/**
 * Replaces the product's attachments with `items`, in this order (the caller has locked the
 * product). Unknown assets, an asset twice, a role its kind cannot take and a second primary image
 * come back together, each with its pointer (`/items/2/role`).
 */
export async function setProductMedia(
  db: Queryable,
  productId: string,
  items: readonly Attachment[],
  pointerBase = '/items',
): Promise<void> {
  const { rows } = await db.query('SELECT id, kind FROM catalog.media_assets WHERE id = ANY($1::uuid[])', [
    items.map((item) => item.assetId),
  ]);
  const kinds = new Map(rows.map((row) => [row.id as string, row.kind as MediaKind]));
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  let primary = false;
  items.forEach((item, index) => {
    const kind = kinds.get(item.assetId);
    const fits = kind !== undefined && roleFits(item.role, kind);
    if (!kind) errors.push({ pointer: `${pointerBase}/${index}/assetId`, detail: 'is not a media asset' });
    else if (!fits) {
      errors.push({
        pointer: `${pointerBase}/${index}/role`,
        detail: `kind ${kind} cannot be attached as ${item.role}`,
      });
    }
    if (seen.has(item.assetId)) {
      errors.push({ pointer: `${pointerBase}/${index}/assetId`, detail: 'is attached once only' });
    }
    seen.add(item.assetId);
    if (item.role === 'primary_image' && fits) {
      if (primary) {
        errors.push({ pointer: `${pointerBase}/${index}/role`, detail: 'a product has one primary image' });
      }
      primary = true;
    }
  });
  if (errors.length) throw new ValidationFailed(errors, "The product's media are not valid");
  await db.query('DELETE FROM catalog.product_media WHERE product_id = $1', [productId]);
  await db.query(
    `INSERT INTO catalog.product_media (product_id, asset_id, role, sort)
     SELECT $1, asset_id, role, sort - 1
       FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS t(asset_id, role, sort)`,
    [productId, items.map((item) => item.assetId), items.map((item) => item.role)],
  );
}

/**
 * Puts one asset on the product in this role at `position` (default: last); an asset already there
 * moves and takes the new role. A new primary image turns the previous one into a gallery image.
 */
export async function attachMedia(
  db: Queryable,
  productId: string,
  attachment: Attachment & { position?: number | undefined },
): Promise<Attachment[]> {
  const { rows } = await db.query('SELECT kind FROM catalog.media_assets WHERE id = $1', [
    attachment.assetId,
  ]);
  const kind = rows[0]?.kind as MediaKind | undefined;
  if (!kind) throw new ValidationFailed([{ pointer: '/assetId', detail: 'is not a media asset' }]);
  if (!roleFits(attachment.role, kind)) {
    throw new ValidationFailed([
      { pointer: '/role', detail: `kind ${kind} cannot be attached as ${attachment.role}` },
    ]);
  }
  const items = (await attachmentsOf(db, productId))
    .filter((item) => item.assetId !== attachment.assetId)
    .map((item) =>
      attachment.role === 'primary_image' && item.role === 'primary_image'
        ? { ...item, role: 'gallery' as const }
        : item,
    );
  const at = Math.min(attachment.position ?? items.length, items.length);
  items.splice(at, 0, { assetId: attachment.assetId, role: attachment.role });
  await setProductMedia(db, productId, items);
  return items;
}

/** Takes one asset off the product; 404 when it is not there. */
export async function detachMedia(db: Queryable, productId: string, assetId: string): Promise<Attachment[]> {
  const current = await attachmentsOf(db, productId);
  const items = current.filter((item) => item.assetId !== assetId);
  if (items.length === current.length) throw new NotFound('Attachment');
  await setProductMedia(db, productId, items);
  return items;
}

/**
 * A product's media as the viewer may get them, in order: 404 when the product is not visible to
 * them; assets whose own rule does not admit them are left out.
 */
export async function productMediaFor(
  db: Queryable,
  viewer: Viewer,
  productId: string,
): Promise<ProductMediaItem[]> {
  if (!(await isVisible(db, viewer, productId))) throw new NotFound('Product');
  const values: unknown[] = [productId];
  const { rows } = await db.query(
    `SELECT pm.asset_id, pm.role, pm.sort FROM catalog.product_media pm
       JOIN catalog.media_assets a ON a.id = pm.asset_id
      WHERE pm.product_id = $1 AND ${mediaAccessSql('a', viewer, values)}
      ORDER BY pm.sort`,
    values,
  );
  const assets = await listAssetsByIds(
    db,
    rows.map((row) => row.asset_id as string),
  );
  const downloads = new Map(
    (await downloadsOf(db, viewer, assets)).map((download) => [download.id, download]),
  );
  return rows.map((row) => ({ role: row.role, sort: row.sort, asset: downloads.get(row.asset_id)! }));
}
