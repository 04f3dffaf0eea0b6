import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  audit,
  type CatalogArea,
  type CatalogContext,
  cursorOf,
  type PageParams,
  page,
  requireCatalogStaff,
  staffGetAction,
  TAG,
} from './catalog-area.ts';
import { findCategory } from './categories.ts';
import { announce, productsUpdated } from './product-events.ts';
import {
  changeLifecycle,
  deleteProduct,
  insertProduct,
  type Lifecycle,
  listProducts,
  loadProduct,
  lockProduct,
  type Product,
  type ProductChanges,
  type ProductFilter,
  type ProductInput,
  type RelationKind,
  setRelations,
  touchProduct,
  updateProduct,
} from './products.ts';
import {
  checkSkus,
  deleteSku,
  insertSkus,
  type SkuChanges,
  type SkuInput,
  updateSku,
  variantDefinitions,
} from './skus.ts';
import { refreshVisibility } from './visibility.ts';

/** Fields whose change alters who may see the product. */
const VISIBILITY_FIELDS: ReadonlyArray<keyof ProductChanges> = ['isPublic', 'categoryId'];

/**
 * Staff manage products (catalog.manage): create drafts with SKUs and values, edit them, move them
 * along the lifecycle, relate them, and manage their SKUs. Every change is audited and announced
 * (`product.created|updated|lifecycle_changed`) in its transaction, and visibility is rebuilt
 * there when it could change.
 */
export function productsArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;

  async function reload(tx: Transaction, id: string): Promise<Product> {
    const product = await loadProduct(tx, id);
    if (!product) throw new NotFound('Product');
    return product;
  }

  /** Audit row and `product.updated` of a change to one product. */
  async function changed(
    ctx: Context,
    tx: Transaction,
    auth: AuthContext,
    productId: string,
    action: string,
    changes: string[],
    details: Record<string, unknown>,
  ) {
    await touchProduct(tx, productId);
    await productsUpdated(ctx, tx, [productId], changes);
    await audit(ctx, tx, auth, { action, entityType: 'product', entityId: productId, details });
  }

  return {
    actions: {
      'products.list': {
        params: schemaRef('api/catalog/product-list-query'),
        async handler(ctx: Context<Omit<ProductFilter, 'after'> & PageParams>) {
          requireCatalogStaff(ctx, 'read');
          const { cursor: _c, ...filter } = ctx.params;
          return page(await listProducts(db, { ...filter, after: cursorOf(ctx.params) }), ctx.params.limit);
        },
      },

      'products.get': staffGetAction('Product', (id) => loadProduct(db, id)),

      'products.create': {
        params: schemaRef('api/catalog/create-product-request'),
        async handler(ctx: Context<ProductInput>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const id = await insertProduct(tx, ctx.params);
            const product = await reload(tx, id);
            await announce(ctx, tx, 'product.created', [
              { productId: id, slug: product.slug, lifecycle: product.lifecycle },
            ]);
            await audit(ctx, tx, auth, {
              action: 'product.created',
              entityType: 'product',
              entityId: id,
              details: {
                slug: product.slug,
                nameZh: product.nameZh,
                nameEn: product.nameEn,
                skus: product.skus.map((s) => s.code),
              },
            });
            return product;
          });
        },
      },

      'products.update': {
        params: schemaRef('api/catalog/update-product-params'),
        async handler(ctx: Context<ProductChanges & { id: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            await lockProduct(tx, id);
            const before = await reload(tx, id);
            await updateProduct(tx, before, changes);
            const fields = Object.keys(changes) as Array<keyof ProductChanges>;
            if (fields.some((field) => VISIBILITY_FIELDS.includes(field))) await refreshVisibility(tx, [id]);
            const after = await reload(tx, id);
            await productsUpdated(ctx, tx, [id], fields);
            await audit(ctx, tx, auth, {
              action: 'product.updated',
              entityType: 'product',
              entityId: id,
              details: {
                fields,
                before: Object.fromEntries(fields.map((field) => [field, fieldValue(before, field)])),
                after: Object.fromEntries(fields.map((field) => [field, fieldValue(after, field)])),
              },
            });
            return after;
          });
        },
      },

      'products.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const product = await reload(tx, ctx.params.id);
            await deleteProduct(tx, product.id);
            await productsUpdated(ctx, tx, [product.id], ['deleted']);
            await audit(ctx, tx, auth, {
              action: 'product.deleted',
              entityType: 'product',
              entityId: product.id,
              details: { slug: product.slug, nameEn: product.nameEn },
            });
            return { id: product.id, deleted: true };
          });
        },
      },

      'products.lifecycle': {
        params: schemaRef('api/catalog/product-lifecycle-params'),
        async handler(ctx: Context<{ id: string; lifecycle: Lifecycle; reason?: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, lifecycle: to, reason } = ctx.params;
          return db.transaction(async (tx) => {
            const from = await changeLifecycle(tx, id, to);
            await refreshVisibility(tx, [id]);
            await announce(ctx, tx, 'product.lifecycle_changed', [
              { productId: id, from, to, reason: reason ?? null },
            ]);
            await audit(ctx, tx, auth, {
              action: 'product.lifecycle_changed',
              entityType: 'product',
              entityId: id,
              details: { from, to, reason: reason ?? null },
            });
            return reload(tx, id);
          });
        },
      },

      'products.relations': {
        params: schemaRef('api/catalog/product-relations-params'),
        async handler(
          ctx: Context<{ id: string; relations: Array<{ kind: RelationKind; productId: string }> }>,
        ) {
          const auth = requireCatalogStaff(ctx);
          const { id, relations } = ctx.params;
          return db.transaction(async (tx) => {
            await lockProduct(tx, id);
            const before = (await reload(tx, id)).relations.map((r) => ({
              kind: r.kind,
              productId: r.product.id,
            }));
            await setRelations(tx, id, relations);
            await changed(ctx, tx, auth, id, 'product.relations_changed', ['relations'], {
              before,
              after: relations,
            });
            return reload(tx, id);
          });
        },
      },

      'products.skus.create': {
        params: schemaRef('api/catalog/create-sku-params'),
        async handler(ctx: Context<SkuInput & { id: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, ...sku } = ctx.params;
          return db.transaction(async (tx) => {
            const product = await lockProduct(tx, id);
            const category = await findCategory(tx, product.categoryId);
            const checked = checkSkus(await variantDefinitions(tx, [sku]), [sku], category!.path, '');
            if (checked.errors.length) {
              throw new ValidationFailed(
                checked.errors.map((error) => ({ ...error, pointer: error.pointer.replace(/^\/0/, '') })),
                'The SKU is not valid',
              );
            }
            const [created] = await insertSkus(tx, id, product.unitOfMeasure, [sku], checked.variants, '');
            await changed(ctx, tx, auth, id, 'product.sku_added', ['skus'], {
              sku: { id: created!.id, code: created!.code },
            });
            return reload(tx, id);
          });
        },
      },

      'products.skus.update': {
        params: schemaRef('api/catalog/update-sku-params'),
        async handler(ctx: Context<SkuChanges & { id: string; skuId: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, skuId, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            const product = await lockProduct(tx, id);
            const category = await findCategory(tx, product.categoryId);
            const { before, after } = await updateSku(tx, id, skuId, changes, category!.path);
            await changed(ctx, tx, auth, id, 'product.sku_updated', ['skus'], { before, after });
            return reload(tx, id);
          });
        },
      },

      'products.skus.delete': {
        params: schemaRef('api/catalog/sku-item-params'),
        async handler(ctx: Context<{ id: string; skuId: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, skuId } = ctx.params;
          return db.transaction(async (tx) => {
            await lockProduct(tx, id);
            const sku = await deleteSku(tx, id, skuId);
            await changed(ctx, tx, auth, id, 'product.sku_removed', ['skus'], { sku });
            return reload(tx, id);
          });
        },
      },
    },
    routes: ROUTES,
  };
}

/** A changed field as the audit log shows it (ids for brand and category). */
function fieldValue(product: Product, field: keyof ProductChanges): unknown {
  if (field === 'brandId') return product.brand?.id ?? null;
  if (field === 'categoryId') return product.category.id;
  return product[field];
}

const PRODUCT = '/api/staff/catalog/products';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: PRODUCT,
    action: 'catalog.products.list',
    operationId: 'listCatalogProducts',
    tag: TAG,
    summary: 'Products in every lifecycle, filtered by lifecycle, category subtree or brand (staff)',
    audience: 'staff',
    querySchema: 'api/catalog/product-list-query',
    responseSchema: 'api/catalog/product-list-response',
  },
  {
    method: 'POST',
    path: PRODUCT,
    action: 'catalog.products.create',
    operationId: 'createCatalogProduct',
    tag: TAG,
    summary: 'Create a draft product with its SKUs and specification values (staff, catalog.manage)',
    audience: 'staff',
    requestSchema: 'api/catalog/create-product-request',
    responseSchema: 'entities/product',
    successStatus: 201,
    location: `${PRODUCT}/{id}`,
  },
  {
    method: 'GET',
    path: `${PRODUCT}/:id`,
    action: 'catalog.products.get',
    operationId: 'getCatalogProduct',
    tag: TAG,
    summary: 'One product in any lifecycle, relations unfiltered (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/product',
  },
  {
    method: 'PATCH',
    path: `${PRODUCT}/:id`,
    action: 'catalog.products.update',
    operationId: 'updateCatalogProduct',
    tag: TAG,
    summary:
      'Edit a product: names, descriptions, brand, category, model, SEO, values (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/update-product-params',
    requestSchema: 'api/catalog/update-product-params',
    responseSchema: 'entities/product',
  },
  {
    method: 'DELETE',
    path: `${PRODUCT}/:id`,
    action: 'catalog.products.delete',
    operationId: 'deleteCatalogProduct',
    tag: TAG,
    summary: 'Delete a draft; products that were active can only be discontinued (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
  {
    method: 'POST',
    path: `${PRODUCT}/:id/lifecycle`,
    action: 'catalog.products.lifecycle',
    operationId: 'changeCatalogProductLifecycle',
    tag: TAG,
    summary: 'Activate, discontinue or reactivate a product (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/product-lifecycle-params',
    requestSchema: 'api/catalog/product-lifecycle-params',
    responseSchema: 'entities/product',
  },
  {
    method: 'PUT',
    path: `${PRODUCT}/:id/relations`,
    action: 'catalog.products.relations',
    operationId: 'setCatalogProductRelations',
    tag: TAG,
    summary:
      'Replace the alternatives, accessories and related products of a product (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/product-relations-params',
    requestSchema: 'api/catalog/product-relations-params',
    responseSchema: 'entities/product',
  },
  {
    method: 'POST',
    path: `${PRODUCT}/:id/skus`,
    action: 'catalog.products.skus.create',
    operationId: 'createCatalogSku',
    tag: TAG,
    summary: 'Add a SKU (variant) to a product; answers the product (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/create-sku-params',
    requestSchema: 'api/catalog/create-sku-params',
    responseSchema: 'entities/product',
    successStatus: 201,
    location: `${PRODUCT}/{id}`,
  },
  {
    method: 'PATCH',
    path: `${PRODUCT}/:id/skus/:skuId`,
    action: 'catalog.products.skus.update',
    operationId: 'updateCatalogSku',
    tag: TAG,
    summary: 'Change a SKU: code, unit, pack size, weight, variant values (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/update-sku-params',
    requestSchema: 'api/catalog/update-sku-params',
    responseSchema: 'entities/product',
  },
  {
    method: 'DELETE',
    path: `${PRODUCT}/:id/skus/:skuId`,
    action: 'catalog.products.skus.delete',
    operationId: 'deleteCatalogSku',
    tag: TAG,
    summary: 'Remove a SKU; a product keeps at least one (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/sku-item-params',
    responseSchema: 'entities/product',
  },
];
