import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseContentDisposition } from 'content-disposition';
import { http, logInAs, startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';
import { seedDemoCatalog } from '../demo-data.ts';
import { assertMatchesSchema } from '../testing/catalog-hub.ts';
import { DXF, dxf, exe, pdf, png, xlsx } from './testing/media-fixtures.ts';

/**
 * Product media end to end through the gateway on the demo catalog, files on the local disk store:
 * staff upload real files, buyers of different companies and tiers and guests get what their
 * access rules and product visibility allow. The demo's gold-tier shared catalog holds fasteners
 * and bearings; a few fasteners are public.
 */
const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };
const MB = 1024 * 1024;

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

let t: TestHub;
let dataDir: string;
let staff: string;
let acme: string;
let beta: string;
let gold: string;
let acmeId: string;
let betaId: string;
/** Public product (everyone sees it) and a gold-only product (tier gold). */
let publicProduct: Any;
let goldProduct: Any;

function upload(
  query: string,
  body: Buffer | ReadableStream,
  options: { type: string; name?: string; token?: string },
) {
  const headers: Record<string, string> = {
    'content-type': options.type,
    authorization: `Bearer ${options.token ?? staff}`,
  };
  if (options.name)
    headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(options.name)}`;
  return fetch(`${t.baseUrl}/api/staff/catalog/media?${query}`, {
    method: 'POST',
    headers,
    body,
    duplex: 'half',
  } as RequestInit);
}

/**
 * A large upload on a connection of its own (node:http, no agent). On a loaded machine a reused
 * keep-alive socket can reach the server's idle timeout just as a long upload starts on it, which
 * resets it; that is the pool's race, not the route's answer under test.
 */
function uploadOnNewConnection(
  query: string,
  chunks: Buffer[],
  options: { type: string; declareLength: boolean },
): Promise<{ status: number; body: Any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${t.baseUrl}/api/staff/catalog/media?${query}`);
    const headers: Record<string, string | number> = {
      authorization: `Bearer ${staff}`,
      'content-type': options.type,
    };
    if (options.declareLength)
      headers['content-length'] = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const request = httpRequest(url, { method: 'POST', headers, agent: false }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString('utf8')),
        }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    (async () => {
      for (const chunk of chunks) {
        if (!request.write(chunk)) await new Promise((resume) => request.once('drain', resume));
      }
      request.end();
    })().catch(reject);
  });
}

async function uploaded(query: string, body: Buffer, type: string, name?: string): Promise<Any> {
  const answer = await upload(query, body, { type, ...(name ? { name } : {}) });
  const json = await answer.json();
  if (answer.status !== 201) throw new Error(`upload failed: ${answer.status} ${JSON.stringify(json)}`);
  return json;
}

async function download(id: string, token?: string) {
  const response = await fetch(`${t.baseUrl}/api/catalog/media/${id}/content`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

async function downloadIds(query: string, token?: string): Promise<string[]> {
  const answer = await http(t.baseUrl, 'GET', `/api/catalog/downloads?${query}`, token ? { token } : {});
  expect(answer.status).toBe(200);
  return answer.body.items.map((item: Any) => item.id);
}

function storedObjects(): string[] {
  const root = path.join(dataDir, 'storage', 'catalog', 'media');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((asset) =>
    readdirSync(path.join(root, asset)).map((file) => `${asset}/${file}`),
  );
}

async function newCompany(
  name: string,
  email: string,
  tier?: string,
): Promise<{ id: string; token: string }> {
  const created = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name,
      status: 'active',
      ...(tier ? { tier } : {}),
      admin: { email, displayName: name, password: 'company-pass-1' },
    },
  });
  expect(created.status).toBe(201);
  return { id: created.body.id, token: await logInAs(t.baseUrl, email, 'company-pass-1') };
}

async function product(slug: string): Promise<Any> {
  return (await http(t.baseUrl, 'GET', `/api/catalog/products/${slug}`, { token: staff })).body;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'hub-media-'));
  t = await startTestHub({ env: { HUB_DATA_DIR: dataDir } });
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  acme = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  acmeId = (await http(t.baseUrl, 'GET', '/api/company', { token: acme })).body.id;
  const b = await newCompany('Beta Trading 贝塔贸易', 'admin@beta.example');
  betaId = b.id;
  beta = b.token;
  gold = (await newCompany('Gold Works 金牌制造', 'admin@gold.example', 'gold')).token;
  await seedDemoCatalog(t.hub.platform.db);
  publicProduct = await product('hex-bolt-din933-m8x30-a2');
  goldProduct = await product('hex-bolt-din933-m10x40-a4');
}, 90_000);

afterAll(async () => {
  await t?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('upload and download', () => {
  it('a datasheet goes up as the raw body and comes back byte for byte under its Chinese name, and the download is recorded', async () => {
    const content = await pdf('M8 hex bolt datasheet, 2026 edition');
    const answer = await upload(
      'kind=datasheet&titleEn=M8%20hex%20bolt%20datasheet&language=zh&versionLabel=2026版&access=public',
      content,
      {
        type: 'application/pdf',
        name: 'M8 六角螺栓 数据表.pdf',
      },
    );
    expect(answer.status).toBe(201);
    const asset = (await answer.json()) as Any;
    expect(answer.headers.get('location')).toBe(`/api/staff/catalog/media/${asset.id}`);
    assertMatchesSchema('entities/catalog-media-asset', asset);
    expect(asset).toMatchObject({
      kind: 'datasheet',
      titleZh: 'M8 六角螺栓 数据表',
      titleEn: 'M8 hex bolt datasheet',
      fileName: 'M8 六角螺栓 数据表.pdf',
      mediaType: 'application/pdf',
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      language: 'zh',
      version: 1,
      versionLabel: '2026版',
      access: 'public',
      audiences: [],
      productCount: 0,
    });
    expect(storedObjects()).toContainEqual(expect.stringMatching(new RegExp(`^${asset.id}/[0-9a-f-]{36}$`)));

    const got = await download(asset.id);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/pdf');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    const disposition = parseContentDisposition(got.headers.get('content-disposition')!);
    expect(disposition).toEqual({
      type: 'inline',
      parameters: expect.objectContaining({ filename: 'M8 六角螺栓 数据表.pdf' }),
    });
    expect(got.body.equals(content)).toBe(true);

    await download(asset.id, acme);
    const { rows } = await t.hub.platform.db.query(
      'SELECT viewer_kind, company_id FROM catalog.media_downloads WHERE asset_id = $1 ORDER BY id',
      [asset.id],
    );
    expect(rows).toEqual([
      { viewer_kind: 'guest', company_id: null },
      { viewer_kind: 'buyer', company_id: acmeId },
    ]);
    await expect(
      t.hub.platform.db.query('DELETE FROM catalog.media_downloads WHERE asset_id = $1', [asset.id]),
    ).rejects.toThrow(/append-only/);
  });

  it('files other browsers should not show are attachments; a name that lies about its type gets the real extension', async () => {
    const sheet = await xlsx([
      ['型号', '扭矩'],
      ['M8', 25],
    ]);
    const asset = await uploaded(
      'kind=datasheet&access=public',
      sheet,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      '扭矩表.exe',
    );
    expect(asset.fileName).toBe('扭矩表.exe.xlsx');
    const got = await download(asset.id);
    expect(parseContentDisposition(got.headers.get('content-disposition')!)).toMatchObject({
      type: 'attachment',
      parameters: { filename: '扭矩表.exe.xlsx' },
    });
    expect(got.body.equals(sheet)).toBe(true);
  });

  it('the same bytes uploaded again answer the existing asset with 200 and keep no second copy', async () => {
    const content = png(5, 5, 11);
    const first = await uploaded('kind=image&access=public', content, 'image/png', 'front.png');
    const before = storedObjects().length;
    const again = await upload('kind=image&access=buyers&titleZh=另一个', content, {
      type: 'image/png',
      name: 'copy.png',
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: first.id, titleZh: 'front', access: 'public' });
    // The duplicate's bytes are gone by the time of the answer.
    expect(storedObjects().length).toBe(before);
  });

  it('two uploads of the same bytes at once end as one asset and one stored object', async () => {
    const content = await pdf('racing datasheet');
    const before = storedObjects().length;
    const answers = await Promise.all(
      [1, 2, 3].map(() => upload('kind=datasheet&access=public', content, { type: 'application/pdf' })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 200, 201]);
    const ids = new Set(await Promise.all(answers.map(async (answer) => ((await answer.json()) as Any).id)));
    expect(ids.size).toBe(1);
    expect(storedObjects().length).toBe(before + 1);
  });

  it('refuses an executable declared as a PNG (422 naming both types) and keeps nothing', async () => {
    const before = storedObjects();
    const answer = await upload('kind=image&access=public', exe(), { type: 'image/png', name: 'photo.png' });
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await answer.json()).toMatchObject({
      type: 'https://hub.local/problems/media-type-mismatch',
      detail: "The file's bytes are application/x-msdownload, not image/png as declared",
      errors: [{ pointer: '', detail: 'the content is application/x-msdownload, not image/png' }],
    });
    // A large body refused by its first bytes is not read to the end.
    const big = Buffer.concat([exe(), randomBytes(3 * MB)]);
    const large = await upload('kind=datasheet&access=public', big, { type: 'application/pdf' });
    expect(large.status).toBe(422);
    expect(storedObjects()).toEqual(before);
  });

  it('a type the kind does not take is 415 naming the kind’s types; a body over the kind’s bound is 413, declared or streamed', async () => {
    const wrongKind = await upload('kind=image&access=public', await pdf('x'), { type: 'application/pdf' });
    expect(wrongKind.status).toBe(415);
    expect(await wrongKind.json()).toMatchObject({
      detail: 'The body must be one of image/jpeg, image/png, image/webp, image/gif',
    });
    const svg = await upload('kind=image&access=public', Buffer.from('<svg/>'), { type: 'image/svg+xml' });
    expect(svg.status).toBe(415);

    const before = storedObjects();
    const declared = await uploadOnNewConnection('kind=image&access=public', [png(), Buffer.alloc(20 * MB)], {
      type: 'image/png',
      declareLength: true,
    });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({
      type: 'https://hub.local/problems/body-too-large',
      detail: `The body is larger than ${20 * MB} bytes`,
    });

    // Without a Content-Length (chunked) the store stops at the kind's bound while the body streams.
    const streamed = await uploadOnNewConnection(
      'kind=image&access=public',
      [png(8, 8, 3), ...Array.from({ length: 21 }, () => Buffer.alloc(MB))],
      { type: 'image/png', declareLength: false },
    );
    expect(streamed.status).toBe(413);
    expect(storedObjects()).toEqual(before);
    expect(readdirSync(path.join(dataDir, 'storage', '.incoming'))).toEqual([]);
  });

  it('uploads are not cut by the broker request timeout (30 s): they last as long as the body takes', () => {
    for (const name of ['catalog.media.upload', 'catalog.media.replace']) {
      const actions = (t.hub.broker.registry as Any).getActionList({ onlyLocal: true }) as Any[];
      expect([name, actions.find((item) => item.name === name)?.action.timeout]).toEqual([name, 30 * 60_000]);
    }
  });

  it('CAD drawings sent as octet-stream are recognised by their bytes and stored as what they are', async () => {
    const asset = await uploaded('kind=cad&access=buyers', DXF, 'application/octet-stream', '法兰图纸.dxf');
    expect(asset).toMatchObject({ mediaType: 'image/vnd.dxf', fileName: '法兰图纸.dxf' });
  });

  it('uploads are staff work: a buyer is refused (403), a guest must log in (401)', async () => {
    const asBuyer = await upload('kind=image&access=public', png(2, 2, 99), {
      type: 'image/png',
      token: acme,
    });
    expect(asBuyer.status).toBe(403);
    const asGuest = await fetch(`${t.baseUrl}/api/staff/catalog/media?kind=image&access=public`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png(2, 2, 98),
    });
    expect(asGuest.status).toBe(401);
    const audiencesWithoutRestriction = await upload(
      'kind=image&access=public&audiences=tier:gold',
      png(2, 2, 97),
      {
        type: 'image/png',
      },
    );
    expect(audiencesWithoutRestriction.status).toBe(400);
    expect(await audiencesWithoutRestriction.json()).toMatchObject({ errors: [{ pointer: '/audiences' }] });
  });
});

describe('access rules', () => {
  let assets: Record<string, Any>;

  beforeAll(async () => {
    const make = async (name: string, query: string) =>
      uploaded(
        `kind=white_paper&titleZh=${encodeURIComponent(name)}&${query}`,
        await pdf(name),
        'application/pdf',
      );
    assets = {
      open: await make('公开白皮书', 'access=public'),
      buyers: await make('会员白皮书', 'access=buyers'),
      acmeOnly: await make('艾克美专享', `access=restricted&audiences=company:${acmeId}`),
      goldOnly: await make('金牌专享', 'access=restricted&audiences=tier:gold'),
      staffOnly: await make('内部资料', 'access=restricted'),
    };
  });

  const who = () => ({ guest: undefined, acme, beta, gold, staff });
  const expected: Record<string, string[]> = {
    guest: ['open'],
    acme: ['open', 'buyers', 'acmeOnly'],
    beta: ['open', 'buyers'],
    gold: ['open', 'buyers', 'goldOnly'],
    staff: ['open', 'buyers', 'acmeOnly', 'goldOnly', 'staffOnly'],
  };

  it('public for everyone, buyers for any buyer, restricted for the named company or tier, staff for all', async () => {
    for (const [viewer, token] of Object.entries(who())) {
      const listed = await downloadIds('kind=white_paper&limit=50', token);
      const mine = Object.entries(assets)
        .filter(([, asset]) => listed.includes(asset.id))
        .map(([name]) => name);
      expect([viewer, mine.sort()]).toEqual([viewer, [...expected[viewer]!].sort()]);
      for (const [name, asset] of Object.entries(assets)) {
        const { status } = await download(asset.id, token);
        expect([viewer, name, status]).toEqual([viewer, name, expected[viewer]!.includes(name) ? 200 : 404]);
      }
    }
  });

  it('a restricted asset on a visible product is hidden from the wrong buyer, in the product media list too', async () => {
    const photo = await uploaded('kind=image&access=public', png(6, 6, 21), 'image/png', 'm8.png');
    const set = await http(t.baseUrl, 'PUT', `/api/staff/catalog/products/${publicProduct.id}/media`, {
      token: staff,
      body: {
        items: [
          { assetId: photo.id, role: 'primary_image' },
          { assetId: assets.acmeOnly.id, role: 'document' },
          { assetId: assets.open.id, role: 'document' },
        ],
      },
    });
    expect(set.status).toBe(200);
    assertMatchesSchema('api/catalog/media-product-response', set.body);

    const seen = async (token?: string) => {
      const answer = await http(
        t.baseUrl,
        'GET',
        `/api/catalog/products/${publicProduct.slug}/media`,
        token ? { token } : {},
      );
      expect(answer.status).toBe(200);
      return answer.body.items.map((item: Any) => [item.role, item.asset.id]);
    };
    expect(await seen(acme)).toEqual([
      ['primary_image', photo.id],
      ['document', assets.acmeOnly.id],
      ['document', assets.open.id],
    ]);
    expect(await seen(beta)).toEqual([
      ['primary_image', photo.id],
      ['document', assets.open.id],
    ]);
    expect(await seen()).toEqual([
      ['primary_image', photo.id],
      ['document', assets.open.id],
    ]);
    expect((await download(assets.acmeOnly.id, beta)).status).toBe(404);
    expect((await download(assets.acmeOnly.id, acme)).status).toBe(200);
    // The download centre names the product the asset is on, for those who may see it.
    const centre = await http(t.baseUrl, 'GET', `/api/catalog/downloads?productId=${publicProduct.id}`, {
      token: acme,
    });
    assertMatchesSchema('api/catalog/document-list-response', centre.body);
    expect(centre.body.items.map((item: Any) => item.id).sort()).toEqual(
      [assets.acmeOnly.id, assets.open.id].sort(),
    );
    expect(centre.body.items[0].products).toEqual([
      {
        id: publicProduct.id,
        slug: publicProduct.slug,
        nameZh: publicProduct.nameZh,
        nameEn: publicProduct.nameEn,
      },
    ]);
  });

  it('a public asset attached only to a gold-only product is hidden with the product; its product list 404s', async () => {
    const drawing = await uploaded(
      'kind=cad&access=public&titleZh=M10螺栓图纸',
      dxf('m10'),
      'application/octet-stream',
      'm10.dxf',
    );
    const attach = await http(t.baseUrl, 'POST', `/api/staff/catalog/products/${goldProduct.id}/media`, {
      token: staff,
      body: { assetId: drawing.id, role: 'document' },
    });
    expect(attach.status).toBe(200);
    expect((await download(drawing.id)).status).toBe(404);
    expect((await download(drawing.id, beta)).status).toBe(404);
    expect((await download(drawing.id, gold)).status).toBe(200);
    expect(await downloadIds('kind=cad', beta)).not.toContain(drawing.id);
    expect(await downloadIds('kind=cad', gold)).toContain(drawing.id);
    const hidden = await http(t.baseUrl, 'GET', `/api/catalog/products/${goldProduct.slug}/media`, {
      token: beta,
    });
    expect(hidden.status).toBe(404);
    // Naming the hidden product as a filter finds nothing rather than revealing what is on it.
    expect(await downloadIds(`productId=${goldProduct.id}`, beta)).toEqual([]);
    expect(await downloadIds(`productId=${goldProduct.id}`, gold)).toEqual([drawing.id]);
  });

  it('changing the access rule takes effect at once and is audited', async () => {
    const patched = await http(t.baseUrl, 'PATCH', `/api/staff/catalog/media/${assets.buyers.id}`, {
      token: staff,
      body: { access: 'restricted', audiences: [`company:${betaId}`, 'tier:gold'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      access: 'restricted',
      audiences: [`company:${betaId}`, 'tier:gold'],
    });
    expect((await download(assets.buyers.id, acme)).status).toBe(404);
    expect((await download(assets.buyers.id, beta)).status).toBe(200);
    expect((await download(assets.buyers.id, gold)).status).toBe(200);
    const { rows } = await t.hub.platform.db.query(
      `SELECT details FROM platform.audit_log WHERE action = 'media.updated' AND entity_id = $1`,
      [assets.buyers.id],
    );
    expect(rows[0]!.details).toMatchObject({
      fields: ['access', 'audiences'],
      before: { access: 'buyers' },
      after: { access: 'restricted' },
    });
    const wrong = await http(t.baseUrl, 'PATCH', `/api/staff/catalog/media/${assets.buyers.id}`, {
      token: staff,
      body: { access: 'public', audiences: ['tier:gold'] },
    });
    expect(wrong.status).toBe(400);
    const notAudience = await http(t.baseUrl, 'PATCH', `/api/staff/catalog/media/${assets.buyers.id}`, {
      token: staff,
      body: { audiences: ['everyone'] },
    });
    expect(notAudience.status).toBe(400);
    expect(notAudience.body.errors[0].pointer).toBe('/audiences/0');
  });
});

describe('attachments', () => {
  it('checks roles against kinds, keeps one primary image, reorders, and announces product.updated', async () => {
    const washer = await product('flat-washer-din125-m8-a2');
    const [a, b, doc] = [
      await uploaded('kind=image&access=public', png(3, 3, 31), 'image/png', 'a.png'),
      await uploaded('kind=image&access=public', png(3, 3, 32), 'image/png', 'b.png'),
      await uploaded('kind=datasheet&access=public', await pdf('washer'), 'application/pdf', 'washer.pdf'),
    ];
    const put = (items: unknown[]) =>
      http(t.baseUrl, 'PUT', `/api/staff/catalog/products/${washer.id}/media`, {
        token: staff,
        body: { items },
      });
    const bad = await put([
      { assetId: doc.id, role: 'primary_image' },
      { assetId: a.id, role: 'primary_image' },
      { assetId: b.id, role: 'primary_image' },
      { assetId: '00000000-0000-4000-8000-000000000000', role: 'gallery' },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { pointer: '/items/0/role', detail: 'kind datasheet cannot be attached as primary_image' },
      { pointer: '/items/2/role', detail: 'a product has one primary image' },
      { pointer: '/items/3/assetId', detail: 'is not a media asset' },
    ]);

    const { rows: before } = await t.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM platform.outbox WHERE topic = 'product.updated' AND payload->>'productId' = $1`,
      [washer.id],
    );
    expect(
      (
        await put([
          { assetId: a.id, role: 'primary_image' },
          { assetId: b.id, role: 'gallery' },
          { assetId: doc.id, role: 'document' },
        ])
      ).status,
    ).toBe(200);
    // b becomes the primary image: a moves to the gallery, b goes first.
    const attached = await http(t.baseUrl, 'POST', `/api/staff/catalog/products/${washer.id}/media`, {
      token: staff,
      body: { assetId: b.id, role: 'primary_image', position: 0 },
    });
    expect(attached.body.items.map((item: Any) => [item.sort, item.role, item.asset.id])).toEqual([
      [0, 'primary_image', b.id],
      [1, 'gallery', a.id],
      [2, 'document', doc.id],
    ]);
    const detached = await http(
      t.baseUrl,
      'DELETE',
      `/api/staff/catalog/products/${washer.id}/media/${a.id}`,
      { token: staff },
    );
    expect(detached.body.items.map((item: Any) => [item.sort, item.asset.id])).toEqual([
      [0, b.id],
      [1, doc.id],
    ]);
    const again = await http(t.baseUrl, 'DELETE', `/api/staff/catalog/products/${washer.id}/media/${a.id}`, {
      token: staff,
    });
    expect(again.status).toBe(404);
    const { rows: after } = await t.hub.platform.db.query(
      `SELECT count(*)::int AS n, array_agg(DISTINCT payload->>'changes') AS changes FROM platform.outbox
        WHERE topic = 'product.updated' AND payload->>'productId' = $1`,
      [washer.id],
    );
    expect(after[0]!.n - before[0]!.n).toBe(3);
    expect(after[0]!.changes).toEqual(['["media"]']);
    const audited = await t.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM platform.audit_log WHERE action = 'product.media_changed' AND entity_id = $1`,
      [washer.id],
    );
    expect(audited.rows[0]!.n).toBe(3);
  });

  it('a new kind must take the file and fit the roles the asset is attached in', async () => {
    const sheet = await uploaded('kind=datasheet&access=public', await pdf('kind change'), 'application/pdf');
    const patch = (id: string, body: unknown) =>
      http(t.baseUrl, 'PATCH', `/api/staff/catalog/media/${id}`, { token: staff, body });
    expect((await patch(sheet.id, { kind: 'white_paper' })).body).toMatchObject({ kind: 'white_paper' });
    const toImage = await patch(sheet.id, { kind: 'image' });
    expect(toImage.status).toBe(400);
    expect(toImage.body.errors).toEqual([
      { pointer: '/kind', detail: 'kind image does not take application/pdf' },
    ]);

    const photo = await uploaded('kind=image&access=public', png(3, 3, 41), 'image/png');
    await http(t.baseUrl, 'POST', `/api/staff/catalog/products/${publicProduct.id}/media`, {
      token: staff,
      body: { assetId: photo.id, role: 'gallery' },
    });
    const toOther = await patch(photo.id, { kind: 'other' });
    expect(toOther.status).toBe(400);
    expect(toOther.body.errors).toEqual([
      { pointer: '/kind', detail: 'the asset is attached as gallery, which kind other cannot fill' },
    ]);
    await http(t.baseUrl, 'DELETE', `/api/staff/catalog/products/${publicProduct.id}/media/${photo.id}`, {
      token: staff,
    });
  });

  it('product media writes are staff work (403 for a buyer)', async () => {
    const answer = await http(t.baseUrl, 'PUT', `/api/staff/catalog/products/${publicProduct.id}/media`, {
      token: acme,
      body: { items: [] },
    });
    expect(answer.status).toBe(403);
    const patch = await http(
      t.baseUrl,
      'PATCH',
      `/api/staff/catalog/media/00000000-0000-4000-8000-000000000000`,
      {
        token: acme,
        body: { titleZh: 'x' },
      },
    );
    expect(patch.status).toBe(403);
  });
});

describe('download centre', () => {
  let made: Any[];
  beforeAll(async () => {
    made = [];
    for (const [index, [title, language]] of [
      ['法兰阀门安装手册', 'zh'],
      ['Flange valve installation guide', 'en'],
      ['阀门选型案例', 'zh'],
      ['Valve sizing case study', 'en'],
      ['阀门维护手册 100%_special', 'zh'],
    ].entries()) {
      made.push(
        await uploaded(
          `kind=case_study&access=public&titleZh=${encodeURIComponent(title!)}&language=${language}`,
          await pdf(`case ${index}`),
          'application/pdf',
        ),
      );
    }
  });

  it('filters by kind, language and title text (Chinese substrings, LIKE characters taken literally)', async () => {
    expect(await downloadIds('kind=case_study&language=zh')).toEqual([made[4].id, made[2].id, made[0].id]);
    expect(await downloadIds(`kind=case_study&q=${encodeURIComponent('阀门')}`)).toEqual([
      made[4].id,
      made[2].id,
      made[0].id,
    ]);
    expect(await downloadIds(`q=${encodeURIComponent('VALVE')}&kind=case_study`)).toEqual([
      made[3].id,
      made[1].id,
    ]);
    expect(await downloadIds(`q=${encodeURIComponent('100%_')}`)).toEqual([made[4].id]);
    expect(await downloadIds(`q=${encodeURIComponent('0%')}&kind=case_study`)).toEqual([made[4].id]);
    // As LIKE patterns these would match 100%_special; taken literally they match nothing.
    expect(await downloadIds(`q=${encodeURIComponent('0__s')}&kind=case_study`)).toEqual([]);
    expect(await downloadIds(`q=${encodeURIComponent('1%0')}&kind=case_study`)).toEqual([]);
  });

  it('leaves images out unless asked, and filters by category subtree through visible products', async () => {
    const all = await downloadIds('limit=200', staff);
    const images = await downloadIds('kind=image&limit=200', staff);
    expect(images.length).toBeGreaterThan(0);
    expect(all.some((id) => images.includes(id))).toBe(false);
    const fastenerDocs = await downloadIds(`categoryId=${publicProduct.category.id}`, acme);
    expect(fastenerDocs.length).toBeGreaterThan(0);
    const fasteners = (
      await http(t.baseUrl, 'GET', '/api/catalog/categories', { token: staff })
    ).body.items.find((category: Any) => category.slug === 'fasteners');
    const byParent = await downloadIds(`categoryId=${fasteners.id}&limit=200`, acme);
    expect(byParent).toEqual(expect.arrayContaining(fastenerDocs));
    expect(byParent).not.toContain(made[0].id);
  });

  it('pages newest first without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const answer: Any = await http(
        t.baseUrl,
        'GET',
        `/api/catalog/downloads?kind=case_study&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(answer.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...answer.body.items.map((item: Any) => item.id));
      cursor = answer.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse().map((asset) => asset.id));
    const bad = await http(t.baseUrl, 'GET', '/api/catalog/downloads?cursor=abc');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  });
});

describe('versions and deletion', () => {
  it('a new version replaces the bytes, keeps the old record, removes the old object, and is audited', async () => {
    const v1 = await pdf('torque table v1');
    const asset = await uploaded(
      'kind=datasheet&access=public&versionLabel=V1',
      v1,
      'application/pdf',
      '扭矩表.pdf',
    );
    const oldObjects = storedObjects().filter((key) => key.startsWith(asset.id));
    expect(oldObjects).toHaveLength(1);
    const v2 = await pdf('torque table v2, corrected');
    const replaced = await fetch(`${t.baseUrl}/api/staff/catalog/media/${asset.id}/content?versionLabel=V2`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${staff}`,
        'content-type': 'application/pdf',
        'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent('扭矩表 修订版.pdf')}`,
      },
      body: v2,
    });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({
      id: asset.id,
      version: 2,
      versionLabel: 'V2',
      fileName: '扭矩表 修订版.pdf',
      sha256: createHash('sha256').update(v2).digest('hex'),
      size: v2.length,
    });
    const got = await download(asset.id);
    expect(got.body.equals(v2)).toBe(true);
    const detail = await http(t.baseUrl, 'GET', `/api/staff/catalog/media/${asset.id}`, { token: staff });
    assertMatchesSchema('entities/catalog-media-asset', detail.body);
    expect(detail.body.previousVersions).toEqual([
      expect.objectContaining({
        version: 1,
        versionLabel: 'V1',
        fileName: '扭矩表.pdf',
        sha256: asset.sha256,
      }),
    ]);
    const now = storedObjects().filter((key) => key.startsWith(asset.id));
    expect(now).toHaveLength(1);
    expect(now).not.toEqual(oldObjects);
    const audit = await t.hub.platform.db.query(
      `SELECT details FROM platform.audit_log WHERE action = 'media.replaced' AND entity_id = $1`,
      [asset.id],
    );
    expect(audit.rows[0]!.details).toMatchObject({
      before: { version: 1 },
      after: { version: 2, versionLabel: 'V2' },
    });

    // A new version must still be what the kind takes, and what its bytes say.
    const wrong = await fetch(`${t.baseUrl}/api/staff/catalog/media/${asset.id}/content`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/pdf' },
      body: exe(),
    });
    expect(wrong.status).toBe(422);
  });

  it('delete is refused while attached (409 naming the products) unless detach=true; the bytes go too', async () => {
    const nut = await product('hex-nut-din934-m8-a2');
    const asset = await uploaded(
      'kind=datasheet&access=public',
      await pdf('nut'),
      'application/pdf',
      'nut.pdf',
    );
    await http(t.baseUrl, 'POST', `/api/staff/catalog/products/${nut.id}/media`, {
      token: staff,
      body: { assetId: asset.id, role: 'document' },
    });
    const asBuyer = await http(t.baseUrl, 'DELETE', `/api/staff/catalog/media/${asset.id}`, { token: acme });
    expect(asBuyer.status).toBe(403);
    const refused = await http(t.baseUrl, 'DELETE', `/api/staff/catalog/media/${asset.id}`, { token: staff });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      detail: 'The asset is attached to 1 product(s): detach it first, or pass detach=true',
      errors: [{ pointer: '/detach', detail: `attached to product ${nut.id}` }],
    });

    const deleted = await http(t.baseUrl, 'DELETE', `/api/staff/catalog/media/${asset.id}?detach=true`, {
      token: staff,
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: asset.id, deleted: true, detachedFrom: [nut.id] });
    expect((await http(t.baseUrl, 'GET', `/api/catalog/products/${nut.slug}/media`)).body.items).toEqual([]);
    expect((await download(asset.id, staff)).status).toBe(404);
    expect(storedObjects().some((key) => key.startsWith(asset.id))).toBe(false);
    const unattached = await uploaded('kind=datasheet&access=public', await pdf('lonely'), 'application/pdf');
    expect(
      (await http(t.baseUrl, 'DELETE', `/api/staff/catalog/media/${unattached.id}`, { token: staff })).status,
    ).toBe(200);
  });

  it('staff list filters by access and product and pages with the same cursor', async () => {
    const restricted = await http(t.baseUrl, 'GET', '/api/staff/catalog/media?access=restricted&limit=200', {
      token: staff,
    });
    assertMatchesSchema('api/catalog/media-list-response', restricted.body);
    expect(restricted.body.items.length).toBeGreaterThan(0);
    expect(restricted.body.items.every((item: Any) => item.access === 'restricted')).toBe(true);
    const onProduct = await http(t.baseUrl, 'GET', `/api/staff/catalog/media?productId=${publicProduct.id}`, {
      token: staff,
    });
    expect(onProduct.body.items.every((item: Any) => item.productCount >= 1)).toBe(true);
    expect(onProduct.body.items).toHaveLength(3);
    const asBuyer = await http(t.baseUrl, 'GET', '/api/staff/catalog/media', { token: acme });
    expect(asBuyer.status).toBe(403);
  });
});
