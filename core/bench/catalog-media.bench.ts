/**
 * Catalog media: (1) the download centre and a product's media list over 50,000 assets (a third
 * restricted to companies and tiers, 40% attached to 20,000 products of which 30% are public) for a
 * guest and a gold-tier buyer, on real PostgreSQL, calling the same functions the actions call;
 * (2) upload and download throughput through the gateway (sniffing, SHA-256, local disk store) for
 * a 200 MB video.
 *
 * `BENCH_MEDIA_ASSETS` (default 50000) and `BENCH_MEDIA_QUERIES` (timed calls per case, default
 * 200) tune it. Run alone: `node_modules/.bin/node core/bench/catalog-media.bench.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { downloadsOf, listAssets } from '../catalog/media/media-assets.ts';
import { MEDIA_KINDS } from '../catalog/media/media-formats.ts';
import { productMediaFor } from '../catalog/media/product-media.ts';
import { mp4 } from '../catalog/media/testing/media-fixtures.ts';
import { catalogMigrations } from '../catalog/testing/catalog-db.ts';
import type { Viewer } from '../catalog/visibility.ts';
import { applyMigrations } from '../platform/database/migrations.ts';
import { platformMigrations } from '../platform/migrations.ts';
import { logInAs, startTestHub } from '../platform/testing/start-test-hub.ts';
import { createTestDatabase } from '../platform/testing/test-servers.ts';
import { percentile } from './bench-kit.ts';

const ASSETS = Number(process.env.BENCH_MEDIA_ASSETS ?? 50_000);
const PRODUCTS = Math.round(ASSETS * 0.4);
const QUERIES = Number(process.env.BENCH_MEDIA_QUERIES ?? 200);
const COMPANY = '00000000-0000-4000-8000-00000000c0de';

async function timed(name: string, call: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 10; i++) await call(i);
  const times: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const t0 = performance.now();
    await call(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function listingFigures() {
  const database = await createTestDatabase();
  const { db } = database;
  try {
    await applyMigrations(db, [platformMigrations, catalogMigrations]);
    const seeded = performance.now();
    await db.query(
      `INSERT INTO catalog.categories (id, path, slug, name_zh, name_en)
       VALUES ('00000000-0000-4000-8000-0000000ca7e0', ARRAY['00000000-0000-4000-8000-0000000ca7e0']::uuid[], 'bench', '基准', 'Bench')`,
    );
    await db.query(
      `INSERT INTO catalog.products (id, slug, name_zh, name_en, category_id, lifecycle, unit_of_measure, is_public)
       SELECT ('00000000-0000-4000-8001-' || lpad(n::text, 12, '0'))::uuid, 'p-' || n, '产品' || n, 'Product ' || n,
              '00000000-0000-4000-8000-0000000ca7e0', 'active', 'pcs', n % 10 < 3
         FROM generate_series(1, $1) n`,
      [PRODUCTS],
    );
    await db.query(
      `INSERT INTO catalog.product_visibility (product_id, audience)
       SELECT id, CASE WHEN is_public THEN 'public' ELSE 'tier:gold' END FROM catalog.products`,
    );
    await db.query(
      `INSERT INTO catalog.media_assets (id, kind, title_zh, title_en, file_name, media_type, size_bytes, sha256,
         storage_key, language, access, uploaded_by)
       SELECT ('00000000-0000-4000-8002-' || lpad(n::text, 12, '0'))::uuid, ($2::text[])[1 + n % 8],
              (ARRAY['螺栓','轴承','阀门','电缆'])[1 + n % 4] || '技术资料 ' || n, 'Datasheet ' || n, 'doc-' || n || '.pdf',
              'application/pdf', 100000 + n, encode(sha256(n::text::bytea), 'hex'), 'catalog/media/bench/' || n,
              CASE WHEN n % 2 = 0 THEN 'zh' ELSE 'en' END,
              (ARRAY['public','buyers','restricted'])[1 + n % 3], 'bench'
         FROM generate_series(1, $1) n`,
      [ASSETS, MEDIA_KINDS],
    );
    await db.query(
      `INSERT INTO catalog.media_audiences (asset_id, audience)
       SELECT id, CASE access WHEN 'restricted' THEN
                    CASE WHEN seq % 2 = 0 THEN 'tier:gold' ELSE 'company:' || $1 END
                  ELSE access END
         FROM catalog.media_assets`,
      [COMPANY],
    );
    // 40% of the assets on one product each, in order; the rest stand alone.
    await db.query(
      `INSERT INTO catalog.product_media (product_id, asset_id, role, sort)
       SELECT ('00000000-0000-4000-8001-' || lpad(n::text, 12, '0'))::uuid,
              ('00000000-0000-4000-8002-' || lpad(n::text, 12, '0'))::uuid,
              CASE (ARRAY['image','video'])[1 + n % 8] WHEN 'image' THEN 'gallery' WHEN 'video' THEN 'video' ELSE 'document' END, 0
         FROM generate_series(1, $1) n`,
      [PRODUCTS],
    );
    await db.query('ANALYZE');
    const seedSeconds = (performance.now() - seeded) / 1000;

    const guest: Viewer = { kind: 'guest' };
    const buyer: Viewer = { kind: 'buyer', companyId: COMPANY, tier: 'gold', tags: ['华东'] };
    const documents = MEDIA_KINDS.filter((kind) => kind !== 'image');
    const centre =
      (viewer: Viewer, extra: Record<string, unknown> = {}) =>
      async () => {
        const assets = await listAssets(db, viewer, { kinds: [...documents], limit: 50, ...extra });
        return downloadsOf(db, viewer, assets);
      };
    const figures = [
      await timed('download centre, first page (guest)', centre(guest)),
      await timed('download centre, first page (gold buyer)', centre(buyer)),
      await timed(
        'download centre, page 200 (gold buyer)',
        centre(buyer, { beforeSeq: String(ASSETS - 200 * 50) }),
      ),
      await timed('download centre, q=轴承 (gold buyer)', centre(buyer, { q: '轴承' })),
      await timed(
        'download centre, q + language + kind (guest)',
        centre(guest, { q: '阀门', language: 'zh', kinds: ['datasheet'] }),
      ),
      await timed('download centre, one product (gold buyer)', (i) =>
        centre(buyer, {
          productId: `00000000-0000-4000-8001-${String(1 + (i % PRODUCTS)).padStart(12, '0')}`,
        })(),
      ),
      await timed('product media list (gold buyer)', (i) =>
        productMediaFor(
          db,
          buyer,
          `00000000-0000-4000-8001-${String(1 + (i % PRODUCTS)).padStart(12, '0')}`,
        ).catch(() => []),
      ),
    ];
    return { seedSeconds, figures };
  } finally {
    await database.drop();
  }
}

async function transferFigures() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-media-bench-'));
  const t = await startTestHub({ env: { HUB_DATA_DIR: dataDir, LOG_LEVEL: 'error' } });
  try {
    const staff = await logInAs(t.baseUrl, 'admin@hub.local', 'demo-admin-password');
    const video = Buffer.concat([mp4(), randomBytes(200 * 1024 * 1024)]);
    const t0 = performance.now();
    const up = await fetch(`${t.baseUrl}/api/staff/catalog/media?kind=video&access=public`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'video/mp4' },
      body: video,
    });
    const uploadSeconds = (performance.now() - t0) / 1000;
    const { id } = (await up.json()) as { id: string };
    const t1 = performance.now();
    const down = await fetch(`${t.baseUrl}/api/catalog/media/${id}/content`);
    let bytes = 0;
    for await (const chunk of down.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    const downloadSeconds = (performance.now() - t1) / 1000;
    const mb = video.length / 1024 / 1024;
    if (up.status !== 201 || bytes !== video.length)
      throw new Error(`transfer failed: ${up.status} ${bytes}`);
    return { mb, upload: mb / uploadSeconds, download: mb / downloadSeconds };
  } finally {
    await t.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const listing = await listingFigures();
const transfer = await transferFigures();
const rows = listing.figures.map((f) => `| ${f.name} | ${f.p50.toFixed(2)} | ${f.p99.toFixed(2)} |`);
console.log(
  [
    `\nCatalog media on PostgreSQL: ${ASSETS} assets, ${PRODUCTS} products (seeded in ${listing.seedSeconds.toFixed(1)} s), ${QUERIES} calls per case\n`,
    '| case | p50 ms | p99 ms |',
    '| --- | ---: | ---: |',
    ...rows,
    `\nThrough the gateway, local disk store, ${transfer.mb.toFixed(0)} MB video: upload ${transfer.upload.toFixed(0)} MB/s (sniff + SHA-256 + write), download ${transfer.download.toFixed(0)} MB/s\n`,
  ].join('\n'),
);
process.exit(0);
