import type { Queryable } from '../platform/database/database.ts';
import { Conflict, Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import { type Buyer, LIMITS } from './carts-area.ts';

/**
 * The carts' tables. Every statement is scoped by the caller's company, and a cart is reached only
 * by its owner or a colleague it is shared with: anyone else — same company or not — gets the
 * same 404 as for a cart that does not exist.
 */

export type Access = 'owner' | 'edit' | 'view';

export interface CartRow {
  id: string;
  companyId: string;
  ownerId: string;
  name: string;
  isDefault: boolean;
  version: number;
  access: Access;
  createdAt: string;
  updatedAt: string;
}

export interface Money {
  amountMinor: string;
  currency: string;
}

export interface LineRow {
  id: string;
  skuId: string;
  skuCode: string;
  /** Null: the SKU's own unit of measure. */
  unit: string | null;
  quantity: number;
  note: string | null;
  seen: Money | null;
  seenAt: string | null;
  addedBy: string;
  addedAt: string;
  updatedAt: string;
}

export interface ShareRow {
  userId: string;
  role: 'view' | 'edit';
  sharedBy: string;
  sharedAt: string;
}

const iso = (value: Date | string) => new Date(value).toISOString();

// biome-ignore lint/suspicious/noExplicitAny: rows of pg
function toCart(row: any): CartRow {
  return {
    id: row.id,
    companyId: row.company_id,
    ownerId: row.owner_id,
    name: row.name,
    isDefault: row.is_default,
    version: row.version,
    access: row.access,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

const CART_COLUMNS = `c.id, c.company_id, c.owner_id, c.name, c.is_default, c.version, c.created_at, c.updated_at,
  CASE WHEN c.owner_id = $3 THEN 'owner' ELSE s.role END AS access`;

/** The cart as the caller may reach it (owner or shared with them), optionally locked; null otherwise. */
export async function findCart(
  db: Queryable,
  buyer: Buyer,
  id: string,
  options: { lock?: boolean } = {},
): Promise<CartRow | null> {
  const { rows } = await db.query(
    `SELECT ${CART_COLUMNS}
       FROM carts.carts c
       LEFT JOIN carts.cart_shares s ON s.cart_id = c.id AND s.user_id = $3
      WHERE c.id = $1 AND c.company_id = $2 AND (c.owner_id = $3 OR s.user_id IS NOT NULL)
      ${options.lock ? 'FOR UPDATE OF c' : ''}`,
    [id, buyer.companyId, buyer.userId],
  );
  return rows[0] ? toCart(rows[0]) : null;
}

const RANK: Record<Access, number> = { view: 0, edit: 1, owner: 2 };

/**
 * The cart if the caller holds at least `need` on it: 404 when they cannot reach it at all, 403
 * when they can see it but not do this (a viewer changing lines, an editor sharing).
 */
export async function requireCart(
  db: Queryable,
  buyer: Buyer,
  id: string,
  need: Access,
  options: { lock?: boolean } = {},
): Promise<CartRow> {
  const cart = await findCart(db, buyer, id, options);
  if (!cart) throw new NotFound('Cart');
  if (RANK[cart.access] < RANK[need]) {
    throw new Forbidden(
      need === 'owner'
        ? 'Only the owner of this cart may do this'
        : 'This cart is shared with you to view only',
    );
  }
  return cart;
}

/** 409 unless the cart is still at the version the caller saw. */
export function expectVersion(cart: CartRow, expected: number | undefined): void {
  if (expected !== undefined && cart.version !== expected) {
    throw new Conflict(
      `The cart changed since version ${expected} (it is at version ${cart.version} now): read it again and retry`,
      { errors: [{ pointer: '/version', detail: `is not the current version (${cart.version})` }] },
    );
  }
}

/** Marks a change of the cart: next version, new updated_at. Returns the new version. */
export async function touchCart(tx: Queryable, cartId: string): Promise<number> {
  const { rows } = await tx.query(
    'UPDATE carts.carts SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING version',
    [cartId],
  );
  return rows[0]!.version;
}

export async function linesOf(db: Queryable, cartId: string): Promise<LineRow[]> {
  const { rows } = await db.query(
    `SELECT id, sku_id, sku_code, unit, quantity, note, seen_unit_minor, seen_currency, seen_at, added_by,
            added_at, updated_at
       FROM carts.cart_lines WHERE cart_id = $1 ORDER BY seq`,
    [cartId],
  );
  return rows.map((row) => ({
    id: row.id,
    skuId: row.sku_id,
    skuCode: row.sku_code,
    unit: row.unit ?? null,
    quantity: row.quantity,
    note: row.note ?? null,
    seen:
      row.seen_unit_minor === null
        ? null
        : { amountMinor: String(row.seen_unit_minor), currency: row.seen_currency },
    seenAt: row.seen_at ? iso(row.seen_at) : null,
    addedBy: row.added_by,
    addedAt: iso(row.added_at),
    updatedAt: iso(row.updated_at),
  }));
}

export async function sharesOf(db: Queryable, cartId: string): Promise<ShareRow[]> {
  const { rows } = await db.query(
    `SELECT user_id, role, shared_by, shared_at FROM carts.cart_shares WHERE cart_id = $1
      ORDER BY shared_at, user_id`,
    [cartId],
  );
  return rows.map((row) => ({
    userId: row.user_id,
    role: row.role,
    sharedBy: row.shared_by,
    sharedAt: iso(row.shared_at),
  }));
}

export interface CartSummary extends CartRow {
  lineCount: number;
}

/** The caller's own carts (current first, then most recently changed), then those shared with them. */
export async function listCarts(db: Queryable, buyer: Buyer): Promise<CartSummary[]> {
  const { rows } = await db.query(
    `SELECT ${CART_COLUMNS},
            (SELECT count(*)::int FROM carts.cart_lines l WHERE l.cart_id = c.id) AS line_count
       FROM carts.carts c
       LEFT JOIN carts.cart_shares s ON s.cart_id = c.id AND s.user_id = $3
      WHERE c.company_id = $2 AND (c.owner_id = $3 OR s.user_id IS NOT NULL)
      ORDER BY (c.owner_id = $3) DESC, c.is_default DESC, c.updated_at DESC, c.id
      LIMIT $1`,
    [LIMITS.cartsPerUser + 200, buyer.companyId, buyer.userId],
  );
  return rows.map((row) => ({ ...toCart(row), lineCount: row.line_count }));
}

/**
 * Serialises, per owner, what changes the set of their carts or which one is current (create, make
 * current, the current cart made on first use): the 50-cart bound and the one current cart then hold
 * under concurrent requests. Taken before any cart row lock, always, so two of them never deadlock.
 */
export async function lockOwner(tx: Queryable, ownerId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('carts.owner:' || $1))`, [ownerId]);
}

function nameTaken(error: unknown): never {
  if ((error as { code?: string }).code === '23505') {
    throw new Conflict('You already have a cart with this name', {
      errors: [{ pointer: '/name', detail: 'is the name of another of your carts' }],
    });
  }
  throw error;
}

/** A new cart of the caller; the first one (or one asked to be) becomes the current one. */
export async function createCart(
  tx: Queryable,
  buyer: Buyer,
  input: { name: string; isDefault: boolean },
): Promise<string> {
  await lockOwner(tx, buyer.userId);
  const { rows: count } = await tx.query(
    'SELECT count(*)::int AS n, bool_or(is_default) AS has_default FROM carts.carts WHERE owner_id = $1',
    [buyer.userId],
  );
  if (count[0]!.n >= LIMITS.cartsPerUser) {
    throw new Conflict(`A buyer keeps at most ${LIMITS.cartsPerUser} carts: delete one first`);
  }
  const makeDefault = input.isDefault || !count[0]!.has_default;
  if (makeDefault) {
    await tx.query('UPDATE carts.carts SET is_default = false WHERE owner_id = $1 AND is_default', [
      buyer.userId,
    ]);
  }
  try {
    const { rows } = await tx.query(
      `INSERT INTO carts.carts (company_id, owner_id, name, is_default) VALUES ($1, $2, $3, $4) RETURNING id`,
      [buyer.companyId, buyer.userId, input.name, makeDefault],
    );
    return rows[0]!.id;
  } catch (error) {
    nameTaken(error);
  }
}

/** The name a cart made for the caller gets. */
export const DEFAULT_CART_NAME = 'Cart';

/** The caller's current cart: the default one, else their most recent (made current), else a new one. */
export async function currentCartId(tx: Queryable, buyer: Buyer): Promise<string> {
  await lockOwner(tx, buyer.userId);
  const { rows } = await tx.query(
    `SELECT id, is_default FROM carts.carts WHERE owner_id = $1 AND company_id = $2
      ORDER BY is_default DESC, updated_at DESC, id LIMIT 1`,
    [buyer.userId, buyer.companyId],
  );
  if (rows[0]?.is_default) return rows[0].id;
  if (rows[0]) {
    await tx.query('UPDATE carts.carts SET is_default = true WHERE id = $1', [rows[0].id]);
    return rows[0].id;
  }
  const { rows: created } = await tx.query(
    `INSERT INTO carts.carts (company_id, owner_id, name, is_default) VALUES ($1, $2, $3, true) RETURNING id`,
    [buyer.companyId, buyer.userId, DEFAULT_CART_NAME],
  );
  return created[0]!.id;
}

export async function renameCart(tx: Queryable, cartId: string, name: string): Promise<void> {
  try {
    await tx.query('UPDATE carts.carts SET name = $2 WHERE id = $1', [cartId, name]);
  } catch (error) {
    nameTaken(error);
  }
}

/** Makes the cart its owner's current one (the previous current one stops being it). */
export async function makeDefault(tx: Queryable, cart: CartRow): Promise<void> {
  await tx.query(
    'UPDATE carts.carts SET is_default = false WHERE owner_id = $1 AND is_default AND id <> $2',
    [cart.ownerId, cart.id],
  );
  await tx.query('UPDATE carts.carts SET is_default = true WHERE id = $1', [cart.id]);
}

export async function deleteCart(tx: Queryable, cartId: string): Promise<void> {
  await tx.query('DELETE FROM carts.carts WHERE id = $1', [cartId]);
}

/** A line to write: the quantity it ends up with and the unit price the buyer sees for it now. */
export interface LineWrite {
  skuId: string;
  skuCode: string;
  unit: string | null;
  quantity: number;
  note?: string | null | undefined;
  seen: Money | null;
}

/**
 * Writes lines: a SKU and unit already in the cart gets the given (already added-up) quantity and
 * the new seen price; the others are inserted. The note is kept unless one is given.
 */
export async function upsertLines(
  tx: Queryable,
  cart: CartRow,
  userId: string,
  lines: readonly LineWrite[],
): Promise<void> {
  if (!lines.length) return;
  await tx.query(
    `INSERT INTO carts.cart_lines
       (cart_id, company_id, sku_id, sku_code, unit, quantity, note, seen_unit_minor, seen_currency, seen_at, added_by)
     SELECT $1, $2, l.sku_id, l.sku_code, l.unit, l.quantity, l.note, l.seen_unit_minor, l.seen_currency,
            CASE WHEN l.seen_currency IS NULL THEN NULL ELSE now() END, $3
       FROM unnest($4::uuid[], $5::text[], $6::text[], $7::int[], $8::text[], $9::bigint[], $10::text[])
            WITH ORDINALITY AS l(sku_id, sku_code, unit, quantity, note, seen_unit_minor, seen_currency, n)
      ORDER BY l.n
     ON CONFLICT (cart_id, sku_id, coalesce(unit, '')) DO UPDATE
       SET quantity = EXCLUDED.quantity,
           note = coalesce(EXCLUDED.note, carts.cart_lines.note),
           seen_unit_minor = coalesce(EXCLUDED.seen_unit_minor, carts.cart_lines.seen_unit_minor),
           seen_currency = coalesce(EXCLUDED.seen_currency, carts.cart_lines.seen_currency),
           seen_at = coalesce(EXCLUDED.seen_at, carts.cart_lines.seen_at),
           updated_at = now()`,
    [
      cart.id,
      cart.companyId,
      userId,
      lines.map((l) => l.skuId),
      lines.map((l) => l.skuCode),
      lines.map((l) => l.unit),
      lines.map((l) => l.quantity),
      lines.map((l) => l.note ?? null),
      lines.map((l) => l.seen?.amountMinor ?? null),
      lines.map((l) => l.seen?.currency ?? null),
    ],
  );
}

/** Changes one line; 404 when the cart has no such line. */
export async function updateLine(
  tx: Queryable,
  cartId: string,
  lineId: string,
  change: {
    quantity?: number | undefined;
    note?: string | null | undefined;
    seen?: Money | null | undefined;
  },
): Promise<void> {
  const { rowCount } = await tx.query(
    `UPDATE carts.cart_lines
        SET quantity = coalesce($3::int, quantity),
            note = CASE WHEN $4::boolean THEN $5::text ELSE note END,
            seen_unit_minor = coalesce($6::bigint, seen_unit_minor),
            seen_currency = coalesce($7::text, seen_currency),
            seen_at = CASE WHEN $7::text IS NULL THEN seen_at ELSE now() END,
            updated_at = now()
      WHERE cart_id = $1 AND id = $2`,
    [
      cartId,
      lineId,
      change.quantity ?? null,
      change.note !== undefined,
      change.note ?? null,
      change.seen?.amountMinor ?? null,
      change.seen?.currency ?? null,
    ],
  );
  if (!rowCount) throw new NotFound('Cart line');
}

export async function removeLine(tx: Queryable, cartId: string, lineId: string): Promise<void> {
  const { rowCount } = await tx.query('DELETE FROM carts.cart_lines WHERE cart_id = $1 AND id = $2', [
    cartId,
    lineId,
  ]);
  if (!rowCount) throw new NotFound('Cart line');
}

/** The seen prices of these lines become the given ones (an acknowledgement of current prices). */
export async function setSeenPrices(
  tx: Queryable,
  cartId: string,
  seen: ReadonlyArray<{ lineId: string; price: Money }>,
): Promise<void> {
  if (!seen.length) return;
  await tx.query(
    `UPDATE carts.cart_lines l
        SET seen_unit_minor = s.amount, seen_currency = s.currency, seen_at = now()
       FROM unnest($2::uuid[], $3::bigint[], $4::text[]) AS s(id, amount, currency)
      WHERE l.cart_id = $1 AND l.id = s.id`,
    [
      cartId,
      seen.map((s) => s.lineId),
      seen.map((s) => s.price.amountMinor),
      seen.map((s) => s.price.currency),
    ],
  );
}

/** Shares the cart with a user (or changes their role); bounded per cart. Returns the previous role. */
export async function putShare(
  tx: Queryable,
  cart: CartRow,
  share: { userId: string; role: 'view' | 'edit'; sharedBy: string },
): Promise<'view' | 'edit' | null> {
  const { rows: existing } = await tx.query(
    'SELECT role FROM carts.cart_shares WHERE cart_id = $1 AND user_id = $2',
    [cart.id, share.userId],
  );
  if (!existing[0]) {
    const { rows } = await tx.query('SELECT count(*)::int AS n FROM carts.cart_shares WHERE cart_id = $1', [
      cart.id,
    ]);
    if (rows[0]!.n >= LIMITS.sharesPerCart) {
      throw new Conflict(`A cart is shared with at most ${LIMITS.sharesPerCart} colleagues`);
    }
  }
  await tx.query(
    `INSERT INTO carts.cart_shares (cart_id, company_id, user_id, role, shared_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (cart_id, user_id) DO UPDATE SET role = EXCLUDED.role, shared_by = EXCLUDED.shared_by,
                                                  shared_at = now()`,
    [cart.id, cart.companyId, share.userId, share.role, share.sharedBy],
  );
  return existing[0]?.role ?? null;
}

/** Revokes a share; 404 when the cart is not shared with that user. Returns the revoked role. */
export async function removeShare(tx: Queryable, cartId: string, userId: string): Promise<'view' | 'edit'> {
  const { rows } = await tx.query(
    'DELETE FROM carts.cart_shares WHERE cart_id = $1 AND user_id = $2 RETURNING role',
    [cartId, userId],
  );
  if (!rows[0]) throw new NotFound('Share');
  return rows[0].role;
}
