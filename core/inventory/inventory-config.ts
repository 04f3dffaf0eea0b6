/**
 * How this deployment runs inventory, from the environment (one place, read once per process):
 *
 * - `HUB_INVENTORY_BUYER_DETAIL`: what buyers see of stock — `per_warehouse` (default; the total
 *   and each warehouse marked visible to buyers, 多仓库存), `total` (one number per SKU) or `none`
 *   (only whether it is in stock).
 * - `HUB_INVENTORY_RESERVATION_TTL_SECONDS`: how long an unconfirmed reservation holds stock when
 *   the caller names no `expiresInSeconds` (default 1800 = 30 min; 60..604800).
 * - `HUB_INVENTORY_SWEEP_SECONDS`: how often expired reservations are released (default 60;
 *   1..3600; 0 = this process schedules no sweep).
 */
export interface InventoryConfig {
  buyerDetail: BuyerDetail;
  reservationTtlSeconds: number;
  sweepSeconds: number;
}

export const BUYER_DETAILS = ['per_warehouse', 'total', 'none'] as const;
export type BuyerDetail = (typeof BUYER_DETAILS)[number];

export class InventoryConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number, allowZero = false) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || ((value < min || value > max) && !(allowZero && value === 0))) {
    throw new InventoryConfigError(`${name}=${raw} is not ${allowZero ? '0 or ' : ''}${min}..${max}`);
  }
  return value;
}

export function loadInventoryConfig(env: Env = process.env): InventoryConfig {
  const detail = env.HUB_INVENTORY_BUYER_DETAIL || 'per_warehouse';
  if (!(BUYER_DETAILS as readonly string[]).includes(detail)) {
    throw new InventoryConfigError(
      `HUB_INVENTORY_BUYER_DETAIL=${detail} is not one of ${BUYER_DETAILS.join(', ')}`,
    );
  }
  return {
    buyerDetail: detail as BuyerDetail,
    reservationTtlSeconds: integer(env, 'HUB_INVENTORY_RESERVATION_TTL_SECONDS', 1800, 60, 604_800),
    sweepSeconds: integer(env, 'HUB_INVENTORY_SWEEP_SECONDS', 60, 1, 3600, true),
  };
}
