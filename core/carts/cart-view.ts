import type { Context } from 'moleculer';
import type { Cart, CartLine, CartSummary } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { priceFor, problemsOf } from './cart-pricing.ts';
import {
  type CartRow,
  type CartSummary as CartSummaryRow,
  linesOf,
  type Money,
  sharesOf,
} from './cart-store.ts';
import { visibleSkus } from './catalog-lookups.ts';

const sameMoney = (a: Money, b: Money) => a.amountMinor === b.amountMinor && a.currency === b.currency;

/**
 * A cart as the caller reads it: every line repriced now at the caller's prices (one pricing call),
 * product names as the catalog shows them to the caller, the problems of each line, totals that
 * are pricing's sums of the priced lines, and a `price_changed` warning for each priced line whose
 * unit price is not the one last seen.
 */
export async function cartView(ctx: Context, db: Queryable, cart: CartRow): Promise<Cart> {
  const [lines, shares] = await Promise.all([linesOf(db, cart.id), sharesOf(db, cart.id)]);
  const [priced, skus] = await Promise.all([
    priceFor(ctx, lines),
    visibleSkus(ctx, { skuIds: lines.map((line) => line.skuId) }),
  ]);
  const skuById = new Map(skus.map((sku) => [sku.skuId, sku]));
  const warnings: Cart['warnings'] = [];
  const views: CartLine[] = lines.map((line, index) => {
    const price = priced!.lines[index]!;
    const sku = skuById.get(line.skuId);
    const problems = problemsOf(price);
    const isPriced = price.status === 'priced' && problems.length === 0;
    if (isPriced && line.seen && price.unitPrice && !sameMoney(line.seen, price.unitPrice)) {
      warnings.push({
        code: 'price_changed',
        lineId: line.id,
        skuCode: line.skuCode,
        previous: line.seen,
        current: price.unitPrice,
      });
    }
    return {
      id: line.id,
      skuId: line.skuId,
      skuCode: sku?.code ?? line.skuCode,
      productId: sku?.productId ?? null,
      nameZh: sku?.nameZh ?? null,
      nameEn: sku?.nameEn ?? null,
      quantity: line.quantity,
      unit: price.unit ?? line.unit,
      note: line.note,
      status: isPriced ? 'priced' : 'problem',
      unitPrice: isPriced ? price.unitPrice : null,
      pricesIncludeTax: isPriced ? price.pricesIncludeTax : null,
      vatRate: isPriced ? price.vatRate : null,
      net: isPriced ? price.net : null,
      tax: isPriced ? price.tax : null,
      gross: isPriced ? price.gross : null,
      priceListCode: isPriced ? price.priceListCode : null,
      quantityRule: price.quantityRule,
      problems,
      seenUnitPrice: line.seen,
      seenAt: line.seenAt,
      addedBy: line.addedBy,
      addedAt: line.addedAt,
      updatedAt: line.updatedAt,
    };
  });
  return {
    id: cart.id,
    name: cart.name,
    isDefault: cart.isDefault,
    ownerId: cart.ownerId,
    access: cart.access,
    version: cart.version,
    currency: priced?.currency ?? null,
    lines: views,
    totals: priced
      ? {
          net: priced.totals.net,
          tax: priced.totals.tax,
          gross: priced.totals.gross,
          pricedLines: priced.totals.pricedLines,
          problemLines: priced.totals.errorLines,
        }
      : null,
    taxes: priced?.taxes ?? [],
    warnings,
    shares,
    createdAt: cart.createdAt,
    updatedAt: cart.updatedAt,
  };
}

export function summaryView(row: CartSummaryRow): CartSummary {
  return {
    id: row.id,
    name: row.name,
    isDefault: row.isDefault,
    ownerId: row.ownerId,
    access: row.access,
    version: row.version,
    lineCount: row.lineCount,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
