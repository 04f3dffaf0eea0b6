import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';

/**
 * The catalog end to end through the gateway: staff build it over REST with the demo admin, the
 * demo buyer and guests read it, and a buyer of another company gets 404 for what is not theirs.
 */
/** The demo logins `startTestHub` seeds (README); a domain does not import accounts' demo data. */
const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };

let t: TestHub;
let staff: string;
let buyer: string;
let intruder: string;
// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;
let product: Any;
let hidden: Any;

beforeAll(async () => {
  t = await startTestHub();
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  buyer = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  const other = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name: 'Intruder Co',
      status: 'active',
      admin: { email: 'admin@intruder.example', displayName: 'Intruder', password: 'intruder-pass-1' },
    },
  });
  expect(other.status).toBe(201);
  intruder = await logInAs(t.baseUrl, 'admin@intruder.example', 'intruder-pass-1');
  const { body: company } = await http(t.baseUrl, 'GET', '/api/company', { token: buyer });
  await http(t.baseUrl, 'PATCH', `/api/staff/companies/${company.id}`, {
    token: staff,
    body: { tier: 'gold' },
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('catalog over HTTP', () => {
  it('staff build a product with a 201 and Location; buyers of the assigned tier read it by slug', async () => {
    const category = await http(t.baseUrl, 'POST', '/api/staff/catalog/categories', {
      token: staff,
      body: { slug: 'valves', nameZh: '阀门', nameEn: 'Valves' },
    });
    expect(category.status).toBe(201);
    expect(category.headers.get('location')).toBe(`/api/staff/catalog/categories/${category.body.id}`);
    const attribute = await http(t.baseUrl, 'POST', '/api/staff/catalog/attributes', {
      token: staff,
      body: { key: 'pressure', nameZh: '公称压力', nameEn: 'Nominal pressure', type: 'number', unit: 'bar' },
    });
    expect(attribute.status).toBe(201);
    const created = await http(t.baseUrl, 'POST', '/api/staff/catalog/products', {
      token: staff,
      body: {
        slug: 'ball-valve-dn25',
        nameZh: 'DN25不锈钢球阀',
        nameEn: 'Ball valve DN25 stainless',
        categoryId: category.body.id,
        model: 'Q41F-16P-DN25',
        unitOfMeasure: 'pcs',
        attributes: [{ key: 'pressure', value: 16, unit: 'bar' }],
        skus: [{ code: 'Q41F-16P-DN25' }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/staff/catalog/products/${created.body.id}`);
    product = created.body;
    const activated = await http(t.baseUrl, 'POST', `/api/staff/catalog/products/${product.id}/lifecycle`, {
      token: staff,
      body: { lifecycle: 'active' },
    });
    expect(activated.body).toMatchObject({ lifecycle: 'active', orderable: true });
    const shared = await http(t.baseUrl, 'POST', '/api/staff/catalog/catalogs', {
      token: staff,
      body: {
        name: 'Gold valves',
        categoryIds: [category.body.id],
        assignments: [{ kind: 'tier', value: 'gold' }],
      },
    });
    expect(shared.status).toBe(201);

    const read = await http(t.baseUrl, 'GET', '/api/catalog/products/ball-valve-dn25', { token: buyer });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: product.id, model: 'Q41F-16P-DN25' });
    const tree = await http(t.baseUrl, 'GET', '/api/catalog/categories', { token: buyer });
    expect(tree.body.items.map((c: Any) => c.slug)).toEqual(['valves']);

    hidden = (
      await http(t.baseUrl, 'POST', '/api/staff/catalog/products', {
        token: staff,
        body: {
          slug: 'draft-valve',
          nameZh: '草稿阀',
          nameEn: 'Draft valve',
          categoryId: category.body.id,
          unitOfMeasure: 'pcs',
          skus: [{ code: 'DRAFT-VALVE' }],
        },
      })
    ).body;
  });

  it('answer 404 to guests, other companies and for drafts; staff routes refuse buyers', async () => {
    expect((await http(t.baseUrl, 'GET', '/api/catalog/products/ball-valve-dn25')).status).toBe(404);
    expect(
      (await http(t.baseUrl, 'GET', `/api/catalog/products/${product.id}`, { token: intruder })).status,
    ).toBe(404);
    expect((await http(t.baseUrl, 'GET', '/api/catalog/products/draft-valve', { token: buyer })).status).toBe(
      404,
    );
    expect(
      (
        await http(t.baseUrl, 'POST', '/api/catalog/compare', {
          token: intruder,
          body: { productIds: [product.id] },
        })
      ).status,
    ).toBe(404);
    expect((await http(t.baseUrl, 'GET', '/api/catalog/categories', { token: intruder })).body.items).toEqual(
      [],
    );
    expect((await http(t.baseUrl, 'GET', '/api/staff/catalog/products', { token: buyer })).status).toBe(403);
    expect(hidden.lifecycle).toBe('draft');
  });

  it('keeps product lists private: another buyer gets 404 for a list id', async () => {
    const lists = await http(t.baseUrl, 'GET', '/api/catalog/lists', { token: buyer });
    const favourites = lists.body.items[0];
    const put = await http(t.baseUrl, 'POST', `/api/catalog/lists/${favourites.id}/items`, {
      token: buyer,
      body: { skuId: product.skus[0].id, quantity: 3 },
    });
    expect(put.status).toBe(200);
    const created = await http(t.baseUrl, 'POST', '/api/catalog/lists', {
      token: buyer,
      body: { name: '常购' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/catalog/lists/${created.body.id}`);
    for (const [method, path, body] of [
      ['GET', `/api/catalog/lists/${favourites.id}`, undefined],
      ['PATCH', `/api/catalog/lists/${created.body.id}`, { name: 'mine' }],
      ['DELETE', `/api/catalog/lists/${created.body.id}`, undefined],
      ['POST', `/api/catalog/lists/${favourites.id}/items`, { skuId: product.skus[0].id, quantity: 1 }],
      ['DELETE', `/api/catalog/lists/${favourites.id}/items/${product.skus[0].id}`, undefined],
    ] as const) {
      const answer = await http(t.baseUrl, method, path, { token: intruder, ...(body ? { body } : {}) });
      expect([method, path, answer.status]).toEqual([method, path, 404]);
    }
    expect((await http(t.baseUrl, 'GET', '/api/catalog/lists')).status).toBe(401);
  });

  it('serves sitemap.xml as XML to anyone', async () => {
    await http(t.baseUrl, 'PATCH', `/api/staff/catalog/products/${product.id}`, {
      token: staff,
      body: { isPublic: true },
    });
    const answer = await fetch(`${t.baseUrl}/sitemap.xml`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/xml/);
    const xml = await answer.text();
    expect(xml).toContain('/products/ball-valve-dn25</loc>');
    expect(xml).not.toContain('draft-valve');
  });

  it('documents every catalog route in the OpenAPI document', async () => {
    const { body } = await http(t.baseUrl, 'GET', '/api/openapi.json');
    expect(body.paths['/api/catalog/products/{idOrSlug}'].get.operationId).toBe('getStorefrontProduct');
    expect(body.paths['/api/staff/catalog/products'].post.operationId).toBe('createCatalogProduct');
    expect(body.paths['/sitemap.xml'].get.operationId).toBe('getSitemap');
  });
});
