import { randomUUID } from 'node:crypto';

/**
 * A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits. Products and SKUs
 * an import creates get these ids, so the primary keys they feed (products, SKUs, and the
 * `(product_id, attribute_id)` key of twenty attribute values per product) grow at their right
 * edge instead of at random pages: a bulk load then keeps a small, hot working set in the
 * database's buffer cache. They are valid uuids like any other (PostgreSQL 18 makes the same with
 * `uuidv7()`).
 *
 * The random part comes from `randomUUID` (which draws entropy in bulk; a `randomFillSync` per id
 * cost a system call each): its variant bits are already RFC 9562's, its version digit is replaced.
 */
export function timeOrderedUuid(now = Date.now()): string {
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
