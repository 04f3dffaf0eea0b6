import type { Database } from '../platform/database/database.ts';

/**
 * A demo cart for `hub seed demo`: a purchaser's named cart of a few SKUs (the CLI hands them over;
 * carts never read catalog tables), shared to view with their department's manager, so a demo shows
 * a repriced cart and a shared one. Quantities are multiples of 10 (the demo's strictest quantity
 * rule). No price is marked as seen: the first acknowledgement sets them. Nothing happens when the
 * owner has the cart already.
 */
export const DEMO_CART_NAME = '实验室耗材 Lab consumables';

export async function seedDemoCarts(
  db: Database,
  demo: {
    companyId: string;
    ownerId: string;
    managerId: string | null;
    skus: ReadonlyArray<{ skuId: string; code: string }>;
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    const { rowCount } = await tx.query('SELECT 1 FROM carts.carts WHERE owner_id = $1 AND name = $2', [
      demo.ownerId,
      DEMO_CART_NAME,
    ]);
    if (rowCount) return;
    const { rows: existing } = await tx.query(
      'SELECT 1 FROM carts.carts WHERE owner_id = $1 AND is_default',
      [demo.ownerId],
    );
    const { rows } = await tx.query(
      `INSERT INTO carts.carts (company_id, owner_id, name, is_default) VALUES ($1, $2, $3, $4) RETURNING id`,
      [demo.companyId, demo.ownerId, DEMO_CART_NAME, existing.length === 0],
    );
    const cartId = rows[0]!.id;
    const skus = demo.skus.slice(0, 4);
    await tx.query(
      `INSERT INTO carts.cart_lines (cart_id, company_id, sku_id, sku_code, quantity, added_by)
       SELECT $1, $2, s.id, s.code, s.quantity, $3
         FROM unnest($4::uuid[], $5::text[], $6::int[]) WITH ORDINALITY AS s(id, code, quantity, n)
        ORDER BY s.n`,
      [
        cartId,
        demo.companyId,
        demo.ownerId,
        skus.map((s) => s.skuId),
        skus.map((s) => s.code),
        skus.map((_, i) => (i + 1) * 10),
      ],
    );
    if (demo.managerId) {
      await tx.query(
        `INSERT INTO carts.cart_shares (cart_id, company_id, user_id, role, shared_by) VALUES ($1, $2, $3, 'view', $4)`,
        [cartId, demo.companyId, demo.managerId, demo.ownerId],
      );
    }
  });
}
