import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProducts, defaultPriceList, setPrices } from '../carts/testing/carts-hub.ts';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { assertMatchesSchema } from '../pricing/testing/pricing-hub.ts';

/**
 * Quote attachments over HTTP on a whole hub (real PostgreSQL, the local-disk object store in a
 * temporary directory): streamed uploads checked by their bytes, bounds per file and per quote,
 * which version a file belongs to, who may download it.
 */
let t: TestHub;
let dataDir: string;
let staff: string;
let buyer: string;
let other: string;
let skuId: string;
const cny = (minor: number) => ({ amountMinor: String(minor), currency: 'CNY' });
const inADay = () => new Date(Date.now() + 86_400_000).toISOString();

/** The per-file and per-quote bounds the hub runs with here. */
const FILE_MAX = 40_000;
const QUOTE_MAX = 100_000;
const QUOTES_ENV = {
  HUB_QUOTES_SWEEP_SECONDS: '0',
  HUB_QUOTES_ATTACHMENT_MAX_BYTES: String(FILE_MAX),
  HUB_QUOTES_ATTACHMENTS_MAX_BYTES: String(QUOTE_MAX),
};

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'hub-quote-files-'));
  // The quotes service reads its settings from the process environment when it is created.
  Object.assign(process.env, QUOTES_ENV);
  t = await startTestHub({
    env: { HUB_SERVICES: 'accounts,catalog,pricing,carts,quotes,gateway', HUB_DATA_DIR: dataDir },
  });
  await t.hub.broker.waitForServices(['accounts', 'catalog', 'pricing', 'carts', 'quotes']);
  staff = await logInAs(t.baseUrl, 'admin@hub.local', 'demo-admin-password');
  buyer = await logInAs(t.baseUrl, 'buyer@acme.example', 'demo-buyer-password');
  const company = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name: 'Files Other Co',
      status: 'active',
      admin: { email: 'admin@files-other.example', displayName: 'Other', password: 'admin-password-1' },
    },
  });
  expect(company.status).toBe(201);
  other = await logInAs(t.baseUrl, 'admin@files-other.example', 'admin-password-1');
  const skus = await createProducts(t.hub.broker, [{ codes: ['QA-1'] }]);
  skuId = skus.get('QA-1')!.skuId;
  const list = await defaultPriceList(t.baseUrl, staff, 'STD-QA');
  await setPrices(t.baseUrl, staff, list, { 'QA-1': 10000 });
}, 120_000);

afterAll(async () => {
  for (const name of Object.keys(QUOTES_ENV)) delete process.env[name];
  await t?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A PDF of about `size` bytes whose content differs by `tag`. */
function pdf(tag: string, size = 1000): Buffer {
  const head = `%PDF-1.4\n% ${tag}\n1 0 obj << /Type /Catalog >> endobj\n`;
  return Buffer.concat([
    Buffer.from(head),
    Buffer.alloc(Math.max(0, size - head.length - 6), 32),
    Buffer.from('%%EOF\n'),
  ]);
}

const step = Buffer.from(
  "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('bracket'),'2;1');\nENDSEC;\nEND-ISO-10303-21;\n",
);
const exe = () => Buffer.concat([Buffer.from('MZ'), Buffer.alloc(2000, 0x90)]);

async function send(
  pathname: string,
  body: Buffer,
  options: { type: string; name?: string; token: string },
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON answers
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {
    'content-type': options.type,
    authorization: `Bearer ${options.token}`,
  };
  if (options.name)
    headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(options.name)}`;
  const response = await fetch(`${t.baseUrl}${pathname}`, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function fetchFile(pathname: string, token: string) {
  const response = await fetch(`${t.baseUrl}${pathname}`, { headers: { authorization: `Bearer ${token}` } });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

function storedFiles(quoteId: string): string[] {
  const root = path.join(dataDir, 'storage', 'quotes', quoteId);
  return existsSync(root) ? readdirSync(root) : [];
}

async function requestQuote(): Promise<string> {
  const answer = await http(t.baseUrl, 'POST', '/api/quotes', {
    token: buyer,
    body: {
      lines: [
        { skuId, quantity: 2 },
        { description: 'Custom bracket per drawing', quantity: 5 },
      ],
    },
  });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

async function staffQuotes(id: string, unitPrice: number) {
  const answer = await http(t.baseUrl, 'POST', `/api/staff/quotes/${id}/versions`, {
    token: staff,
    body: {
      basedOn: 1,
      validUntil: inADay(),
      lines: [
        { lineNo: 1, unitPrice: cny(unitPrice) },
        { lineNo: 2, unitPrice: cny(500) },
      ],
    },
  });
  expect(answer.status).toBe(201);
  return answer.body;
}

describe('quote attachments', () => {
  it('a buyer attaches a drawing to the request; the company and staff download the same bytes, others get 404', async () => {
    const id = await requestQuote();
    const drawing = pdf('drawing A-17');
    const added = await send(`/api/quotes/${id}/attachments`, drawing, {
      type: 'application/pdf',
      name: '图纸 A-17.pdf',
      token: buyer,
    });
    expect(added.status).toBe(201);
    assertMatchesSchema('entities/quote-attachment', added.body);
    expect(added.body).toMatchObject({
      fileName: '图纸 A-17.pdf',
      contentType: 'application/pdf',
      sizeBytes: drawing.length,
      sha256: createHash('sha256').update(drawing).digest('hex'),
      uploadedBy: { kind: 'buyer' },
      version: 1,
    });

    // The same bytes again are the same attachment (200), with no second stored copy.
    const again = await send(`/api/quotes/${id}/attachments`, drawing, {
      type: 'application/pdf',
      token: buyer,
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(added.body.id);
    expect(storedFiles(id)).toHaveLength(1);

    const quote = await http(t.baseUrl, 'GET', `/api/quotes/${id}`, { token: buyer });
    assertMatchesSchema('entities/quote', quote.body);
    expect(quote.body.attachments).toEqual([added.body]);

    for (const pathname of [`/api/quotes/${id}`, `/api/staff/quotes/${id}`]) {
      const token = pathname.startsWith('/api/staff') ? staff : buyer;
      const file = await fetchFile(`${pathname}/attachments/${added.body.id}`, token);
      expect(file.status).toBe(200);
      expect(file.body.equals(drawing)).toBe(true);
      expect(file.headers.get('content-type')).toBe('application/pdf');
      expect(file.headers.get('content-disposition')).toMatch(
        /^attachment;.*filename\*=UTF-8''%E5%9B%BE%E7%BA%B8/,
      );
      expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    }

    // Another company neither reads nor adds to it; an unknown attachment id is 404 too.
    expect((await fetchFile(`/api/quotes/${id}/attachments/${added.body.id}`, other)).status).toBe(404);
    const foreign = await send(`/api/quotes/${id}/attachments`, pdf('foreign'), {
      type: 'application/pdf',
      token: other,
    });
    expect(foreign.status).toBe(404);
    const otherQuote = await requestQuote();
    expect((await fetchFile(`/api/quotes/${otherQuote}/attachments/${added.body.id}`, buyer)).status).toBe(
      404,
    );
    expect(storedFiles(id)).toHaveLength(1);
  });

  it('refuses bytes that are not what was declared, types a quote does not take, and files past the bounds', async () => {
    const id = await requestQuote();
    const disguised = await send(`/api/quotes/${id}/attachments`, exe(), {
      type: 'application/pdf',
      name: 'drawing.pdf',
      token: buyer,
    });
    expect(disguised.status).toBe(422);
    expect(disguised.body.type).toMatch(/attachment-type-mismatch$/);
    const text = await send(`/api/quotes/${id}/attachments`, Buffer.from('hello'), {
      type: 'text/plain',
      token: buyer,
    });
    expect(text.status).toBe(415);

    // One file over the per-file bound, declared or streamed.
    const large = await send(`/api/quotes/${id}/attachments`, pdf('large', FILE_MAX + 1), {
      type: 'application/pdf',
      token: buyer,
    });
    expect(large.status).toBe(413);
    expect(storedFiles(id)).toHaveLength(0);

    // A STEP model sent as octet-stream is recognised by its bytes and named for what it is.
    const model = await send(`/api/quotes/${id}/attachments`, step, {
      type: 'application/octet-stream',
      name: 'bracket',
      token: buyer,
    });
    expect(model.status).toBe(201);
    expect(model.body).toMatchObject({ contentType: 'model/step', fileName: 'bracket.step' });

    // The quote's bound: two files of 39,000 bytes fit in 100,000 with the model; a third does not.
    for (const tag of ['a', 'b']) {
      const fits = await send(`/api/quotes/${id}/attachments`, pdf(tag, 39_000), {
        type: 'application/pdf',
        token: buyer,
      });
      expect(fits.status).toBe(201);
    }
    const over = await send(`/api/quotes/${id}/attachments`, pdf('c', 39_000), {
      type: 'application/pdf',
      token: buyer,
    });
    expect(over.status).toBe(413);
    expect(over.body.type).toMatch(/body-too-large$/);
    const quote = await http(t.baseUrl, 'GET', `/api/quotes/${id}`, { token: buyer });
    expect(quote.body.attachments).toHaveLength(3);
    expect(storedFiles(id)).toHaveLength(3);
  });

  it('two uploads at once cannot pass the quote bound together: one is kept, the other refused', async () => {
    const id = await requestQuote();
    expect(
      (
        await send(`/api/quotes/${id}/attachments`, pdf('first', 39_000), {
          type: 'application/pdf',
          token: buyer,
        })
      ).status,
    ).toBe(201);
    // 61,000 bytes are left: each of these fits alone, not both.
    const answers = await Promise.all(
      ['left', 'right'].map((tag) =>
        send(`/api/quotes/${id}/attachments`, pdf(tag, 39_000), { type: 'application/pdf', token: buyer }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 413]);
    const quote = await http(t.baseUrl, 'GET', `/api/quotes/${id}`, { token: buyer });
    expect(quote.body.attachments).toHaveLength(2);
    // The refused upload's bytes are gone from the store too.
    expect(storedFiles(id)).toHaveLength(2);
  });

  it('files follow the versions: staff files on a version waiting for approval stay hidden from the buyer', async () => {
    const id = await requestQuote();
    // Staff attach to their own versions only; there is none yet.
    const early = await send(`/api/staff/quotes/${id}/attachments`, pdf('early'), {
      type: 'application/pdf',
      token: staff,
    });
    expect(early.status).toBe(409);
    expect(early.body.type).toMatch(/quote-attachment-not-allowed$/);

    expect(
      (await http(t.baseUrl, 'POST', `/api/staff/quotes/${id}/review`, { token: staff, body: {} })).status,
    ).toBe(200);
    // 8,000 against a list price of 10,000 is below the margin floor: version 2 waits for approval.
    const held = await staffQuotes(id, 8000);
    expect(held.pendingApproval).toMatchObject({ version: 2 });
    const hidden = await send(`/api/staff/quotes/${id}/attachments`, pdf('offer sheet'), {
      type: 'application/pdf',
      name: 'offer.pdf',
      token: staff,
    });
    expect(hidden.status).toBe(201);
    expect(hidden.body).toMatchObject({ version: 2, uploadedBy: { kind: 'staff' } });
    // While the quote is in review the buyer may still add to their request (version 1).
    const spec = await send(`/api/quotes/${id}/attachments`, pdf('spec'), {
      type: 'application/pdf',
      token: buyer,
    });
    expect(spec.body.version).toBe(1);

    const seen = await http(t.baseUrl, 'GET', `/api/quotes/${id}`, { token: buyer });
    expect(seen.body.attachments.map((a: { id: string }) => a.id)).toEqual([spec.body.id]);
    expect((await fetchFile(`/api/quotes/${id}/attachments/${hidden.body.id}`, buyer)).status).toBe(404);
    const staffView = await http(t.baseUrl, 'GET', `/api/staff/quotes/${id}`, { token: staff });
    expect(staffView.body.attachments.map((a: { version: number }) => a.version)).toEqual([2, 1]);
  });

  it('a buyer attaches to a counter, not to a quote staff answered; staff attach to the quoted version', async () => {
    const id = await requestQuote();
    await http(t.baseUrl, 'POST', `/api/staff/quotes/${id}/review`, { token: staff, body: {} });
    const quoted = await staffQuotes(id, 9500);
    expect(quoted.state).toBe('quoted');
    const staffFile = await send(`/api/staff/quotes/${id}/attachments`, pdf('terms'), {
      type: 'application/pdf',
      token: staff,
    });
    expect(staffFile.body.version).toBe(2);
    const late = await send(`/api/quotes/${id}/attachments`, pdf('late'), {
      type: 'application/pdf',
      token: buyer,
    });
    expect(late.status).toBe(409);

    const countered = await http(t.baseUrl, 'POST', `/api/quotes/${id}/counter`, {
      token: buyer,
      body: { version: 2, lines: [{ lineNo: 1, targetUnitPrice: cny(9000) }] },
    });
    expect(countered.status).toBe(200);
    const withCounter = await send(`/api/quotes/${id}/attachments`, pdf('counter memo'), {
      type: 'application/pdf',
      token: buyer,
    });
    expect(withCounter.status).toBe(201);
    expect(withCounter.body.version).toBe(3);
    const seen = await http(t.baseUrl, 'GET', `/api/quotes/${id}`, { token: buyer });
    expect(seen.body.attachments.map((a: { version: number }) => a.version)).toEqual([2, 3]);
  });
});
