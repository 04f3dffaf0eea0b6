import { randomFillSync } from 'node:crypto';

/**
 * A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits. Products and SKUs
 * an import creates get these ids, so the primary keys they feed (products, SKUs, and the
 * `(product_id, attribute_id)` key of twenty attribute values per product) grow at their right
 * edge instead of at random pages: a bulk load then keeps a small, hot working set in the
 * database's buffer cache. They are valid uuids like any other (PostgreSQL 18 makes the same with
 * `uuidv7()`).
 */
export function timeOrderedUuid(now = Date.now()): string {
  const bytes = randomFillSync(Buffer.alloc(16));
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
