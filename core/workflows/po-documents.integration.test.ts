import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, type TestHub } from '../platform/testing/start-test-hub.ts';
import {
  asBuyer,
  assertMatchesSchema,
  buildWorld,
  startOrdersHub,
  type World,
} from './testing/orders-hub.ts';

/**
 * PO number and PO document at checkout, on the whole hub over HTTP: the per-company rule staff
 * set, the upload (format from the bytes, size bound, object store), attaching the document to the
 * order the checkout names, and who may download it.
 */

let test: TestHub;
let world: World;
let dataDir: string;
let sku: string;

const MB = 1024 * 1024;
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108020000009077533e', 'hex');
const ZIP = Buffer.from('504b030414000000080000000000', 'hex');

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'hub-po-documents-'));
  test = await startOrdersHub({ env: { HUB_DATA_DIR: dataDir } });
  world = await buildWorld(test, { 'PO-A': 10000 });
  sku = world.skus.get('PO-A')!;
}, 120_000);

afterAll(async () => {
  await test?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function storedFiles(): string[] {
  const root = path.join(dataDir, 'storage', 'orders', 'po-documents', world.companyId);
  return existsSync(root) ? readdirSync(root).sort() : [];
}

// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON answers
type Any = any;

async function upload(body: Buffer, type: string, name?: string): Promise<{ status: number; body: Any }> {
  const response = await fetch(`${test.baseUrl}/api/orders/po-documents`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${world.buyer}`,
      'content-type': type,
      ...(name ? { 'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}` } : {}),
    },
    body,
  });
  return { status: response.status, body: await response.json() };
}

/** A chunked upload (no Content-Length) on its own connection, so only the streamed bound can stop it. */
function streamedUpload(chunks: Buffer[], type: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      new URL(`${test.baseUrl}/api/orders/po-documents`),
      {
        method: 'POST',
        headers: { authorization: `Bearer ${world.buyer}`, 'content-type': type },
        agent: false,
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(parts).toString('utf8')),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    (async () => {
      for (const chunk of chunks) {
        if (!request.write(chunk)) await new Promise((resume) => request.once('drain', resume));
      }
      request.end();
    })().catch(reject);
  });
}

const place = (body: object) =>
  http(test.baseUrl, 'POST', '/api/orders', {
    token: world.buyer,
    body: {
      lines: [{ skuId: sku, quantity: 1 }],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
      ...body,
    },
  });

async function download(path: string, token: string) {
  const response = await fetch(`${test.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

describe('PO documents', () => {
  it('keeps a PDF or image as its bytes say, with its size and SHA-256, under the company in the object store', async () => {
    const pdf = await upload(PDF, 'application/pdf', '采购订单 PO-7.pdf');
    expect(pdf.status).toBe(201);
    assertMatchesSchema('entities/order-po-document', pdf.body);
    expect(pdf.body).toMatchObject({
      orderId: null,
      fileName: '采购订单 PO-7.pdf',
      contentType: 'application/pdf',
      sizeBytes: PDF.length,
      sha256: createHash('sha256').update(PDF).digest('hex'),
      uploadedBy: world.buyerId,
    });
    // Declared as a PDF, but the bytes are a PNG: kept as what it is, named accordingly.
    const png = await upload(PNG, 'application/pdf');
    expect(png.status).toBe(201);
    expect(png.body).toMatchObject({ contentType: 'image/png', fileName: `PO-${png.body.id}.png` });
    expect(storedFiles()).toEqual([`${pdf.body.id}.pdf`, `${png.body.id}.png`].sort());
  });

  it('refuses other bytes (422), other declared types (415) and bodies over 10 MB (413), keeping nothing', async () => {
    const before = storedFiles();
    const zip = await upload(ZIP, 'application/pdf', 'po.pdf');
    expect(zip.status).toBe(422);
    expect(zip.body).toMatchObject({
      type: 'https://hub.local/problems/po-document-type',
      detail: 'A PO document must be a PDF, PNG or JPEG file; its bytes are application/zip',
    });
    const text = await upload(Buffer.from('PO 4711, please deliver'), 'image/jpeg');
    expect(text.status).toBe(422);
    expect(text.body.detail).toContain('not a recognised format');
    const word = await upload(ZIP, 'application/msword');
    expect(word.status).toBe(415);
    expect(word.body.type).toBe('https://hub.local/problems/unsupported-media-type');
    const declaredTooLarge = await upload(Buffer.concat([PDF, Buffer.alloc(10 * MB)]), 'application/pdf');
    expect(declaredTooLarge.status).toBe(413);
    const streamedTooLarge = await streamedUpload(
      [PDF, ...Array.from({ length: 11 }, () => Buffer.alloc(MB))],
      'application/pdf',
    );
    expect(streamedTooLarge).toMatchObject({
      status: 413,
      body: { type: 'https://hub.local/problems/body-too-large' },
    });
    expect(storedFiles()).toEqual(before);
    const { rows } = await test.hub.platform.db.query(
      'SELECT count(*)::int AS n FROM orders.po_documents WHERE company_id = $1',
      [world.companyId],
    );
    expect(rows[0]!.n).toBe(before.length);
  });

  it('is required per company as staff set it: PO number at /poNumber, PO document at /poDocumentId', async () => {
    const set = (settings: object) =>
      http(test.baseUrl, 'PUT', `/api/staff/orders/settings/${world.companyId}`, {
        token: world.staff,
        body: settings,
      });
    expect((await set({ poNumberRequired: true, poDocumentRequired: true })).body).toEqual({
      companyId: world.companyId,
      poNumberRequired: true,
      poDocumentRequired: true,
    });
    try {
      const noNumber = await place({});
      expect(noNumber.status).toBe(422);
      expect(noNumber.body).toMatchObject({
        type: 'https://hub.local/problems/po-number-required',
        errors: [{ pointer: '/poNumber' }],
      });
      const noDocument = await place({ poNumber: 'PO-1' });
      expect(noDocument.status).toBe(422);
      expect(noDocument.body).toMatchObject({
        type: 'https://hub.local/problems/po-document-required',
        errors: [{ pointer: '/poDocumentId' }],
      });
      const document = await upload(PDF, 'application/pdf', 'po-1.pdf');
      const placed = await place({ poNumber: 'PO-1', poDocumentId: document.body.id });
      expect(placed.status).toBe(201);
      expect(placed.body.order).toMatchObject({
        status: 'confirmed',
        poNumber: 'PO-1',
        poDocument: { id: document.body.id, orderId: placed.body.order.id, fileName: 'po-1.pdf' },
      });
    } finally {
      await set({ poNumberRequired: false });
    }
    // Without the document rule (omitted means false), an order needs neither.
    const free = await place({});
    expect(free.status).toBe(201);
    expect(free.body.order.poDocument).toBeNull();
    const none = await download(`/api/orders/${free.body.order.id}/po-document`, world.buyer);
    expect(none.status).toBe(404);
  });

  it('belongs to one order: downloadable by its company and staff, by nobody else, and not reusable', async () => {
    const document = await upload(PNG, 'image/png', 'scan.png');
    const placed = await place({ poDocumentId: document.body.id });
    expect(placed.status).toBe(201);
    const orderId = placed.body.order.id;

    const asBuyer_ = await download(`/api/orders/${orderId}/po-document`, world.buyer);
    expect(asBuyer_.status).toBe(200);
    expect(asBuyer_.headers.get('content-type')).toBe('image/png');
    expect(asBuyer_.headers.get('content-disposition')).toBe('inline; filename=scan.png');
    expect(asBuyer_.body.equals(PNG)).toBe(true);
    const asStaff = await download(`/api/staff/orders/${orderId}/po-document`, world.staff);
    expect(asStaff.status).toBe(200);
    expect(asStaff.body.equals(PNG)).toBe(true);
    const staffView = await http(test.baseUrl, 'GET', `/api/staff/orders/${orderId}`, { token: world.staff });
    assertMatchesSchema('entities/order', staffView.body);
    expect(staffView.body.poDocument).toMatchObject({ id: document.body.id, contentType: 'image/png' });

    // Another company's buyer holding every read scope: the order does not exist for them.
    await expect(
      world.broker.call(
        'orders.poDocuments.get',
        { id: orderId },
        asBuyer(randomUUID(), randomUUID(), ['orders.read@company', 'orders.place@own']),
      ),
    ).rejects.toMatchObject({ code: 404 });
    // A buyer cannot use the staff download.
    expect((await download(`/api/staff/orders/${orderId}/po-document`, world.buyer)).status).toBe(403);

    // Attached once: a second checkout naming it is refused and writes no order.
    const again = await place({ poDocumentId: document.body.id });
    expect(again.status).toBe(422);
    expect(again.body).toMatchObject({
      type: 'https://hub.local/problems/po-document-not-usable',
      errors: [{ pointer: '/poDocumentId' }],
    });
    // Nor can a document be named that does not exist.
    expect((await place({ poDocumentId: randomUUID() })).body.type).toBe(
      'https://hub.local/problems/po-document-not-usable',
    );
    const { rows } = await test.hub.platform.db.query(
      'SELECT order_id FROM orders.po_documents WHERE id = $1',
      [document.body.id],
    );
    expect(rows).toEqual([{ order_id: orderId }]);
  });

  it('unattached documents are removed by the sweep (rows and bytes), attached ones kept; a buyer holds at most 20 unattached', async () => {
    const attachedDocument = await upload(PDF, 'application/pdf', 'kept.pdf');
    const placed = await place({ poDocumentId: attachedDocument.body.id });
    expect(placed.status).toBe(201);
    const stale = await upload(PDF, 'application/pdf', 'stale.pdf');
    const fresh = await upload(PNG, 'image/png', 'fresh.png');
    await test.hub.platform.db.query(
      `UPDATE orders.po_documents SET uploaded_at = now() - interval '49 hours' WHERE id = ANY($1::uuid[])`,
      [[stale.body.id, attachedDocument.body.id]],
    );
    const swept = (await world.broker.call('orders.internal.sweepPoDocuments', {})) as { removed: number };
    expect(swept.removed).toBe(1);
    const ids = async () =>
      (
        await test.hub.platform.db.query('SELECT id FROM orders.po_documents WHERE company_id = $1', [
          world.companyId,
        ])
      ).rows.map((row) => row.id as string);
    expect(await ids()).not.toContain(stale.body.id);
    expect(await ids()).toEqual(expect.arrayContaining([attachedDocument.body.id, fresh.body.id]));
    expect(storedFiles()).not.toContain(`${stale.body.id}.pdf`);
    expect(storedFiles()).toContain(`${attachedDocument.body.id}.pdf`);

    // Everything unattached goes (keepHours 0); then 20 uploads are allowed and the 21st is not.
    await world.broker.call('orders.internal.sweepPoDocuments', { keepHours: 0 });
    for (let i = 0; i < 20; i++) expect((await upload(PDF, 'application/pdf')).status).toBe(201);
    const tooMany = await upload(PDF, 'application/pdf');
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.type).toBe('https://hub.local/problems/too-many-po-documents');
    const { rows } = await test.hub.platform.db.query(
      'SELECT count(*)::int AS n FROM orders.po_documents WHERE company_id = $1 AND order_id IS NULL',
      [world.companyId],
    );
    expect(rows[0]!.n).toBe(20);
  });
});
