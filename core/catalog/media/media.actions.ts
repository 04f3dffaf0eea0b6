import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ActionSchema, Context } from 'moleculer';
import { schemaRef } from '../../../schemas/index.ts';
import { type AuthContext, type HubMeta, originOf } from '../../platform/auth/auth-context.ts';
import type { Transaction } from '../../platform/database/database.ts';
import { NotFound, ValidationFailed } from '../../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../../platform/http/route-spec.ts';
import { sendFile, uploadOf } from '../../platform/http/uploads.ts';
import {
  audit,
  type CatalogArea,
  type CatalogContext,
  requireCatalogStaff,
  staffGetAction,
  TAG,
} from '../catalog-area.ts';
import { productsUpdated } from '../product-events.ts';
import { lockProduct, productIdOf } from '../products.ts';
import { viewerOf } from '../viewer.ts';
import type { AccessLevel } from './media-access.ts';
import {
  type AssetChanges,
  assetDetail,
  assetForViewer,
  deleteAsset,
  downloadsOf,
  findAsset,
  insertAsset,
  listAssets,
  type MediaFilter,
  type MediaRole,
  productsOfAsset,
  publicAsset,
  recordDownload,
  replaceContent,
  resolveAccess,
  type StoredAsset,
  updateAsset,
} from './media-assets.ts';
import {
  checkDeclared,
  DECLARABLE_TYPES,
  fileNameFor,
  formatOfType,
  MAX_UPLOAD_BYTES,
  MEDIA_KINDS,
  type MediaKind,
  STORED_TYPES,
} from './media-formats.ts';
import { storeUpload, UploadBody } from './media-upload.ts';
import {
  type Attachment,
  attachMedia,
  attachmentsOf,
  detachMedia,
  productMediaFor,
  setProductMedia,
} from './product-media.ts';

interface UploadQuery {
  kind: MediaKind;
  titleZh?: string;
  titleEn?: string;
  descriptionZh?: string;
  descriptionEn?: string;
  language?: string;
  versionLabel?: string;
  access: AccessLevel;
  audiences?: string[];
}

interface ListQuery {
  limit: number;
  cursor?: string;
  kind?: MediaKind[];
  access?: AccessLevel;
  language?: string;
  q?: string;
  productId?: string;
  categoryId?: string;
}

/**
 * An upload action lasts as long as the body takes to arrive: the broker's 30 s request timeout
 * would cut a 500 MB video on an ordinary link (and answer 504 while the client is still sending).
 * 30 minutes takes the largest file (1 GB) at 0.6 MB/s.
 */
const UPLOAD_TIMEOUT_MS = 30 * 60_000;

/** Moleculer's timeout middleware honours an action's own `timeout`, though its types omit it. */
function uploadAction(action: ActionSchema): ActionSchema {
  return Object.assign(action, { timeout: UPLOAD_TIMEOUT_MS });
}

/** The download centre lists every kind but images unless kinds are asked for. */
const DOCUMENT_KINDS = MEDIA_KINDS.filter((kind) => kind !== 'image');

/** The cursor of media lists is the paging position of the last asset of the previous page. */
function seqCursorOf(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  if (!/^[1-9][0-9]{0,17}$/.test(cursor)) {
    throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  }
  return cursor;
}

function seqPage<T>(assets: StoredAsset[], items: T[], limit: number) {
  return { items, nextCursor: assets.length === limit ? assets[assets.length - 1]!.seq : null };
}

/** `report.pdf` → `report`: the default title of an upload. */
function stemOf(fileName: string): string {
  const stem = path.parse(fileName).name.trim();
  return [...(stem || fileName)].slice(0, 200).join('');
}

/**
 * Product media and documents (images, videos, CAD drawings, datasheets, case studies, white
 * papers, software): staff upload, describe, replace, restrict and attach them; buyers and guests
 * get what their access rules and product visibility allow, in the download centre and on products.
 * Bytes go through the platform object store under `catalog/media/<asset id>/<file id>`.
 */
export function mediaArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;
  const log = platform.logger?.child({ area: 'catalog-media' });

  /**
   * Removes bytes no record points to any more (after commit, before answering, so the answer
   * tells the store's state); a failure only leaves an orphan object and is logged.
   */
  async function discard(key: string, ctx: Context): Promise<void> {
    await platform.storage
      .delete(key)
      .catch((error) =>
        log?.warn({ err: error, key, requestId: originOf(ctx).requestId }, 'media object not removed'),
      );
  }

  function newKey(assetId: string): string {
    return `catalog/media/${assetId}/${randomUUID()}`;
  }

  /** `product.updated` (changes: media) for products whose media changed, their `updated_at` touched. */
  async function mediaChanged(ctx: Context, tx: Transaction, productIds: readonly string[]) {
    if (productIds.length === 0) return;
    await tx.query('UPDATE catalog.products SET updated_at = now() WHERE id = ANY($1::uuid[])', [
      [...productIds],
    ]);
    await productsUpdated(ctx, tx, productIds, ['media']);
  }

  async function staffProductMedia(productId: string) {
    return { productId, items: await productMediaFor(db, { kind: 'staff' }, productId) };
  }

  /** One audited change of a product's media list. */
  async function changeProductMedia(
    ctx: Context,
    productId: string,
    change: (tx: Transaction) => Promise<Attachment[]>,
  ) {
    const auth = requireCatalogStaff(ctx);
    await db.transaction(async (tx) => {
      await lockProduct(tx, productId);
      const before = await attachmentsOf(tx, productId);
      const after = await change(tx);
      await mediaChanged(ctx, tx, [productId]);
      await audit(ctx, tx, auth, {
        action: 'product.media_changed',
        entityType: 'product',
        entityId: productId,
        details: { before, after },
      });
    });
    return staffProductMedia(productId);
  }

  /**
   * Reads an upload: `prepare` checks the request and names the kind, then the body is checked
   * against the kind and kept under a new key of the asset. A refused body is read to its end
   * (bounded) so the client gets the answer rather than a reset connection.
   */
  async function receive(ctx: Context, assetId: string, prepare: () => MediaKind | Promise<MediaKind>) {
    const upload = uploadOf(ctx);
    const body = new UploadBody(upload);
    try {
      const kind = await prepare();
      const length = (ctx.meta as { upload?: { length?: number } }).upload?.length;
      checkDeclared(kind, upload.contentType, length);
      const key = newKey(assetId);
      const { format, stored } = await storeUpload(platform.storage, key, body, upload.contentType, kind);
      return { format, stored, key, filename: upload.filename };
    } catch (error) {
      await body.discard();
      throw error;
    }
  }

  function uploaderOf(auth: AuthContext): string {
    return auth.principalId;
  }

  return {
    actions: {
      'media.upload': uploadAction({
        params: schemaRef('api/catalog/media-upload-query'),
        async handler(ctx: Context<UploadQuery>) {
          const params = ctx.params;
          const id = randomUUID();
          let auth!: AuthContext;
          let access!: ReturnType<typeof resolveAccess>;
          const { format, stored, key, filename } = await receive(ctx, id, () => {
            auth = requireCatalogStaff(ctx);
            access = resolveAccess(undefined, params);
            return params.kind;
          });
          const fileName = fileNameFor(format, filename, `${params.kind}-${id.slice(0, 8)}`);
          let result: { asset: StoredAsset; created: boolean };
          try {
            result = await db.transaction(async (tx) => {
              const kept = await insertAsset(tx, {
                id,
                kind: params.kind,
                titleZh: params.titleZh ?? stemOf(fileName),
                titleEn: params.titleEn ?? params.titleZh ?? stemOf(fileName),
                descriptionZh: params.descriptionZh ?? null,
                descriptionEn: params.descriptionEn ?? null,
                fileName,
                mediaType: format.mediaType,
                size: stored.size,
                sha256: stored.sha256,
                storageKey: key,
                language: params.language ?? null,
                versionLabel: params.versionLabel ?? null,
                access: access.access,
                audiences: access.audiences,
                uploadedBy: uploaderOf(auth),
              });
              if (kept.created) {
                await audit(ctx, tx, auth, {
                  action: 'media.uploaded',
                  entityType: 'media_asset',
                  entityId: id,
                  details: { asset: publicAsset(kept.asset) },
                });
              }
              return kept;
            });
          } catch (error) {
            await discard(key, ctx);
            throw error;
          }
          if (!result.created) {
            // The same bytes are already an asset: answer it (200, not 201) and keep no second copy.
            await discard(key, ctx);
            (ctx.meta as Record<string, unknown>).$statusCode = 200;
          }
          return publicAsset(result.asset);
        },
      }),

      'media.list': {
        params: schemaRef('api/catalog/media-list-query'),
        async handler(ctx: Context<ListQuery>) {
          requireCatalogStaff(ctx, 'read');
          const { limit } = ctx.params;
          const assets = await listAssets(db, { kind: 'staff' }, filterOf(ctx.params));
          return seqPage(assets, assets.map(publicAsset), limit);
        },
      },

      'media.get': staffGetAction('Media asset', (id) => assetDetail(db, id)),

      'media.update': {
        params: schemaRef('api/catalog/media-update-params'),
        async handler(ctx: Context<AssetChanges & { id: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            const { before, after } = await updateAsset(tx, id, changes);
            const fields = Object.keys(changes) as Array<keyof AssetChanges>;
            await mediaChanged(ctx, tx, await productsOfAsset(tx, id));
            await audit(ctx, tx, auth, {
              action: 'media.updated',
              entityType: 'media_asset',
              entityId: id,
              details: {
                fields,
                before: Object.fromEntries(fields.map((field) => [field, before[field]])),
                after: Object.fromEntries(fields.map((field) => [field, after[field]])),
              },
            });
            return publicAsset(after);
          });
        },
      },

      'media.replace': uploadAction({
        params: schemaRef('api/catalog/media-replace-query'),
        async handler(ctx: Context<{ id: string; versionLabel?: string }>) {
          let auth!: AuthContext;
          let current!: StoredAsset;
          const { format, stored, key, filename } = await receive(ctx, ctx.params.id, async () => {
            auth = requireCatalogStaff(ctx);
            const found = await findAsset(db, ctx.params.id);
            if (!found) throw new NotFound('Media asset');
            current = found;
            return found.kind;
          });
          const fileName = fileNameFor(format, filename, stemOf(current.fileName));
          let outcome: Awaited<ReturnType<typeof replaceContent>>;
          try {
            outcome = await db.transaction(async (tx) => {
              const replaced = await replaceContent(tx, current.id, {
                fileName,
                mediaType: format.mediaType,
                size: stored.size,
                sha256: stored.sha256,
                storageKey: key,
                versionLabel: ctx.params.versionLabel,
                by: uploaderOf(auth),
              });
              if (replaced.replaced) {
                await mediaChanged(ctx, tx, await productsOfAsset(tx, current.id));
                await audit(ctx, tx, auth, {
                  action: 'media.replaced',
                  entityType: 'media_asset',
                  entityId: current.id,
                  details: {
                    before: pickVersion(replaced.before),
                    after: pickVersion(replaced.after),
                  },
                });
              }
              return replaced;
            });
          } catch (error) {
            await discard(key, ctx);
            throw error;
          }
          // Downloads already streaming the old version may fail once its bytes are gone; new ones get the new.
          await discard(outcome.replaced ? outcome.before.storageKey : key, ctx);
          return publicAsset(outcome.after);
        },
      }),

      'media.delete': {
        params: schemaRef('api/catalog/media-delete-query'),
        async handler(ctx: Context<{ id: string; detach: boolean }>) {
          const auth = requireCatalogStaff(ctx);
          const { asset, detachedFrom } = await db.transaction(async (tx) => {
            const deleted = await deleteAsset(tx, ctx.params.id, { detach: ctx.params.detach });
            await mediaChanged(ctx, tx, deleted.detachedFrom);
            await audit(ctx, tx, auth, {
              action: 'media.deleted',
              entityType: 'media_asset',
              entityId: deleted.asset.id,
              details: { asset: publicAsset(deleted.asset), detachedFrom: deleted.detachedFrom },
            });
            return deleted;
          });
          await discard(asset.storageKey, ctx);
          return { id: asset.id, deleted: true, detachedFrom };
        },
      },

      'media.setProductMedia': {
        params: schemaRef('api/catalog/media-product-params'),
        async handler(ctx: Context<{ id: string; items: Attachment[] }>) {
          return changeProductMedia(ctx, ctx.params.id, async (tx) => {
            await setProductMedia(tx, ctx.params.id, ctx.params.items);
            return ctx.params.items;
          });
        },
      },

      'media.attach': {
        params: schemaRef('api/catalog/media-attach-params'),
        async handler(ctx: Context<{ id: string; assetId: string; role: MediaRole; position?: number }>) {
          const { id, ...attachment } = ctx.params;
          return changeProductMedia(ctx, id, (tx) => attachMedia(tx, id, attachment));
        },
      },

      'media.detach': {
        params: schemaRef('api/catalog/media-detach-params'),
        async handler(ctx: Context<{ id: string; assetId: string }>) {
          return changeProductMedia(ctx, ctx.params.id, (tx) =>
            detachMedia(tx, ctx.params.id, ctx.params.assetId),
          );
        },
      },

      'media.productMedia': {
        params: schemaRef('api/catalog/product-ref-params'),
        async handler(ctx: Context<{ idOrSlug: string }>) {
          const viewer = await viewerOf(ctx);
          const productId = await productIdOf(db, ctx.params.idOrSlug);
          if (!productId) throw new NotFound('Product');
          return { productId, items: await productMediaFor(db, viewer, productId) };
        },
      },

      'media.downloads': {
        params: schemaRef('api/catalog/document-list-query'),
        async handler(ctx: Context<ListQuery>) {
          const viewer = await viewerOf(ctx);
          const filter = filterOf(ctx.params);
          const assets = await listAssets(db, viewer, {
            ...filter,
            kinds: filter.kinds ?? [...DOCUMENT_KINDS],
          });
          return seqPage(assets, await downloadsOf(db, viewer, assets), ctx.params.limit);
        },
      },

      'media.content': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const viewer = await viewerOf(ctx);
          let asset = await assetForViewer(db, viewer, ctx.params.id);
          if (!asset) throw new NotFound('Media asset');
          let body: NodeJS.ReadableStream;
          try {
            body = await platform.storage.get(asset.storageKey);
          } catch (error) {
            // A replace may have just removed the version this request read: take the current one.
            if (!(error instanceof NotFound)) throw error;
            asset = await assetForViewer(db, viewer, ctx.params.id);
            if (!asset) throw new NotFound('Media asset');
            body = await platform.storage.get(asset.storageKey);
          }
          const auth = (ctx.meta as HubMeta).auth;
          // An analytics hook: losing one download record is better than failing the download.
          await recordDownload(db, {
            assetId: asset.id,
            version: asset.version,
            viewer,
            principalId: auth?.principalId ?? null,
          }).catch((error) =>
            log?.warn({ err: error, requestId: originOf(ctx).requestId }, 'media download not recorded'),
          );
          return sendFile(
            ctx,
            {
              contentType: asset.mediaType,
              filename: asset.fileName,
              disposition: formatOfType(asset.mediaType)?.inline ? 'inline' : 'attachment',
              size: asset.size,
            },
            body,
          );
        },
      },
    },
    routes: ROUTES,
  };
}

function filterOf(params: ListQuery): MediaFilter {
  return {
    kinds: params.kind,
    access: params.access,
    language: params.language,
    q: params.q,
    productId: params.productId,
    categoryId: params.categoryId,
    beforeSeq: seqCursorOf(params.cursor),
    limit: params.limit,
  };
}

function pickVersion(asset: StoredAsset) {
  const { version, versionLabel, fileName, mediaType, size, sha256 } = asset;
  return { version, versionLabel, fileName, mediaType, size, sha256 };
}

const STAFF = '/api/staff/catalog/media';
const PRODUCT_MEDIA = '/api/staff/catalog/products/:id/media';

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: STAFF,
    action: 'catalog.media.upload',
    operationId: 'uploadMediaAsset',
    tag: TAG,
    summary:
      'Upload an image, video, CAD drawing or document as the raw body; metadata in the query. The bytes must be what Content-Type says (422 otherwise); the same bytes again answer the existing asset with 200 (staff, catalog.manage)',
    audience: 'staff',
    querySchema: 'api/catalog/media-upload-query',
    responseSchema: 'entities/catalog-media-asset',
    successStatus: 201,
    location: `${STAFF}/{id}`,
    upload: { contentTypes: [...DECLARABLE_TYPES], maxBytes: MAX_UPLOAD_BYTES },
  },
  {
    method: 'GET',
    path: STAFF,
    action: 'catalog.media.list',
    operationId: 'listMediaAssets',
    tag: TAG,
    summary: 'Media assets, newest first, with kind, access, language, text and product filters (staff)',
    audience: 'staff',
    querySchema: 'api/catalog/media-list-query',
    responseSchema: 'api/catalog/media-list-response',
  },
  {
    method: 'GET',
    path: `${STAFF}/:id`,
    action: 'catalog.media.get',
    operationId: 'getMediaAsset',
    tag: TAG,
    summary: 'One media asset with its attachments and earlier versions (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/catalog-media-asset',
  },
  {
    method: 'PATCH',
    path: `${STAFF}/:id`,
    action: 'catalog.media.update',
    operationId: 'updateMediaAsset',
    tag: TAG,
    summary: "Change a media asset's metadata or access rule (staff, catalog.manage)",
    audience: 'staff',
    paramsSchema: 'api/catalog/media-update-params',
    requestSchema: 'api/catalog/media-update-params',
    responseSchema: 'entities/catalog-media-asset',
  },
  {
    method: 'PUT',
    path: `${STAFF}/:id/content`,
    action: 'catalog.media.replace',
    operationId: 'replaceMediaContent',
    tag: TAG,
    summary:
      "Replace a media asset's file with a new version (raw body; same kind rules as an upload); the old version's record is kept (staff, catalog.manage)",
    audience: 'staff',
    querySchema: 'api/catalog/media-replace-query',
    responseSchema: 'entities/catalog-media-asset',
    upload: { contentTypes: [...DECLARABLE_TYPES], maxBytes: MAX_UPLOAD_BYTES },
  },
  {
    method: 'DELETE',
    path: `${STAFF}/:id`,
    action: 'catalog.media.delete',
    operationId: 'deleteMediaAsset',
    tag: TAG,
    summary:
      'Delete a media asset and its file; refused while attached unless detach=true (staff, catalog.manage)',
    audience: 'staff',
    querySchema: 'api/catalog/media-delete-query',
  },
  {
    method: 'PUT',
    path: PRODUCT_MEDIA,
    action: 'catalog.media.setProductMedia',
    operationId: 'setProductMedia',
    tag: TAG,
    summary: "Replace a product's ordered media list (attach, detach, reorder) (staff, catalog.manage)",
    audience: 'staff',
    paramsSchema: 'api/catalog/media-product-params',
    requestSchema: 'api/catalog/media-product-params',
    responseSchema: 'api/catalog/media-product-response',
  },
  {
    method: 'POST',
    path: PRODUCT_MEDIA,
    action: 'catalog.media.attach',
    operationId: 'attachProductMedia',
    tag: TAG,
    summary: 'Attach one media asset to a product in a role and position (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/media-attach-params',
    requestSchema: 'api/catalog/media-attach-params',
    responseSchema: 'api/catalog/media-product-response',
  },
  {
    method: 'DELETE',
    path: `${PRODUCT_MEDIA}/:assetId`,
    action: 'catalog.media.detach',
    operationId: 'detachProductMedia',
    tag: TAG,
    summary: 'Take one media asset off a product (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/media-detach-params',
    responseSchema: 'api/catalog/media-product-response',
  },
  {
    method: 'GET',
    path: '/api/catalog/products/:idOrSlug/media',
    action: 'catalog.media.productMedia',
    operationId: 'getProductMedia',
    tag: TAG,
    summary:
      "A product's images, videos and documents in order, as the caller may get them (404 for a product they may not see)",
    audience: 'public',
    paramsSchema: 'api/catalog/product-ref-params',
    responseSchema: 'api/catalog/media-product-response',
  },
  {
    method: 'GET',
    path: '/api/catalog/downloads',
    action: 'catalog.media.downloads',
    operationId: 'listDownloads',
    tag: TAG,
    summary:
      'Download centre (资料下载中心): documents the caller may get, with kind, product, category, language and text filters',
    audience: 'public',
    querySchema: 'api/catalog/document-list-query',
    responseSchema: 'api/catalog/document-list-response',
  },
  {
    method: 'GET',
    path: '/api/catalog/media/:id/content',
    action: 'catalog.media.content',
    operationId: 'getMediaContent',
    tag: TAG,
    summary:
      "A media asset's file (images, videos, PDFs inline, the rest as attachments); 404 when the caller may not get it. Records the download.",
    audience: 'public',
    paramsSchema: 'api/common/id-params',
    download: { contentTypes: [...STORED_TYPES] },
  },
];
