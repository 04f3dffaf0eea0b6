import { createHash } from 'node:crypto';
import type { PriceTier } from '../../schemas/generated/types.ts';
import type { Database } from '../platform/database/database.ts';
import { insertAssignment } from './assignments.ts';
import { insertPriceList } from './price-lists.ts';
import { replaceEntries } from './prices.ts';
import { insertRule } from './quantity-rules.ts';

/** A demo SKU as the catalog has it (the CLI hands them over; pricing never reads catalog tables). */
export interface DemoSku {
  skuId: string;
  code: string;
  productId: string;
  unitOfMeasure: string;
  packSize: number;
}

export const DEMO_PRICE_LISTS = {
  standard: 'STANDARD-CNY',
  gold: 'GOLD-TIER-CNY',
  contract: 'ACME-CONTRACT',
} as const;

/**
 * A stable price per SKU, so every seed agrees: ¥0.20–¥5.00 a piece for SKUs sold in packs (times
 * the pack size), ¥5–¥1,000 for single items.
 */
function skuFen(sku: DemoSku): number {
  const hash = createHash('sha256').update(sku.code).digest().readUInt32BE(0);
  return sku.packSize > 1 ? (20 + (hash % 480)) * sku.packSize : 500 + (hash % 99_500);
}

/**
 * Demo prices for `hub seed demo`: the default list 标准价 (VAT included, every SKU, tiers from 10
 * and 50), the gold-tier list 金牌客户价 (8 % off the standard list at every tier), and Acme's
 * contract list 客户专属价 (fixed prices on the first fasteners, valid this calendar year); a
 * minimum order of 10 in steps of 10 on the first product. Nothing happens when the standard
 * list exists.
 */
export async function seedDemoPrices(
  db: Database,
  options: { skus: readonly DemoSku[]; acmeCompanyId: string },
): Promise<{ created: boolean }> {
  const { rowCount } = await db.query('SELECT 1 FROM pricing.price_lists WHERE code = $1', [
    DEMO_PRICE_LISTS.standard,
  ]);
  if (rowCount || !options.skus.length) return { created: false };
  const skus = [...options.skus].sort((a, b) => (a.code < b.code ? -1 : 1));
  const year = new Date().getFullYear();
  await db.transaction(async (tx) => {
    const standard = await insertPriceList(tx, {
      code: DEMO_PRICE_LISTS.standard,
      name: '标准价 Standard prices',
      currency: 'CNY',
      pricesIncludeTax: true,
      priority: 0,
      active: true,
    });
    await insertAssignment(tx, standard.id, { level: 'default' });
    await replaceEntries(
      tx,
      standard.id,
      skus.map((sku) => {
        const unit = skuFen(sku);
        const tiers: PriceTier[] = [
          { minQty: 1, amountMinor: String(unit) },
          { minQty: 10, amountMinor: String(Math.round(unit * 0.97)) },
          { minQty: 50, amountMinor: String(Math.round(unit * 0.94)) },
        ];
        return { skuId: sku.skuId, unit: sku.unitOfMeasure, tiers };
      }),
    );

    const gold = await insertPriceList(tx, {
      code: DEMO_PRICE_LISTS.gold,
      name: '金牌客户价 Gold tier',
      currency: 'CNY',
      pricesIncludeTax: true,
      priority: 0,
      active: true,
    });
    await insertAssignment(tx, gold.id, { level: 'tier', tier: 'gold' });
    await replaceEntries(
      tx,
      gold.id,
      skus.map((sku) => ({
        skuId: sku.skuId,
        unit: sku.unitOfMeasure,
        tiers: [1, 10, 50].map((minQty) => ({ minQty, percentOffBasisPoints: 800, baseListId: standard.id })),
      })),
    );

    const contract = await insertPriceList(tx, {
      code: DEMO_PRICE_LISTS.contract,
      name: '艾克美客户专属价 Acme contract',
      currency: 'CNY',
      pricesIncludeTax: true,
      priority: 0,
      validFrom: new Date(Date.UTC(year, 0, 1) - 8 * 3_600_000).toISOString(), // 00:00 Beijing time
      validTo: new Date(Date.UTC(year + 1, 0, 1) - 8 * 3_600_000).toISOString(),
      active: true,
    });
    await insertAssignment(tx, contract.id, { level: 'company', companyId: options.acmeCompanyId });
    await replaceEntries(
      tx,
      contract.id,
      skus.slice(0, 8).map((sku) => ({
        skuId: sku.skuId,
        unit: sku.unitOfMeasure,
        tiers: [{ minQty: 1, amountMinor: String(Math.round(skuFen(sku) * 0.85)) }],
      })),
    );

    await insertRule(tx, { productId: skus[0]!.productId, minQty: 10, increment: 10 });
  });
  return { created: true };
}
