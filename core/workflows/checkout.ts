import { createHash, randomUUID } from 'node:crypto';
import type { Context } from 'moleculer';
import type { PriceLinesResponse } from '../../schemas/generated/types.ts';
import { type AuthContext, authOf, hasPermission } from '../platform/auth/auth-context.ts';
import { Forbidden, UnprocessableRequest, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { PlaceOrderData } from './place-order.saga.ts';

/** What a buyer sends to check out (POST /api/orders). */
export interface CheckoutRequest {
  cartId?: string;
  lines?: Array<{ skuId?: string; code?: string; quantity: number; unit?: string }>;
  checkoutToken?: string;
  paymentMethod: 'credit' | 'bank_transfer' | 'online';
  poNumber?: string;
  poDocumentId?: string;
  note?: string;
}

/** Lines with prices fixed beforehand (a quote): not repriced. */
export interface LockedLine {
  skuId: string;
  quantity: number;
  unit?: string;
  unitPrice: { amountMinor: string; currency: string };
  vatRate: number;
}

interface CheckoutLine {
  skuId?: string;
  code?: string;
  quantity: number;
  unit?: string | null;
}

/** The buyer user placing the order (API keys and staff do not check out; staff acting for a buyer are that buyer). */
export function placerOf(ctx: Context): AuthContext & { companyId: string } {
  const auth = authOf(ctx);
  if (auth.kind !== 'buyer' || !auth.companyId) throw new Forbidden('Orders are placed by buyer users');
  if (!hasPermission(auth, 'orders.place')) throw new Forbidden('Missing permission orders.place');
  return auth as AuthContext & { companyId: string };
}

const hashOf = (value: unknown) =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 40);

/**
 * Everything checkout decides before the saga starts: the lines (from the cart, at the version
 * read, or as sent), their prices for this buyer now (or locked by a quote), the PO rule, the
 * order as it will be written, and the checkout key that makes retries one order: the client's
 * `checkoutToken`, else the cart and its version (a changed cart is a new checkout).
 */
export async function prepareCheckout(
  ctx: Context,
  request: CheckoutRequest & { source?: 'quote' | 'reorder'; quoteId?: string; lockedLines?: LockedLine[] },
): Promise<PlaceOrderData & { cart?: { id: string; version: number } }> {
  const auth = placerOf(ctx);
  const companyId = auth.companyId;
  let lines: CheckoutLine[];
  let cart: { id: string; version: number } | undefined;
  let checkoutKey: string;
  if (request.lockedLines) {
    lines = request.lockedLines.map((line) => ({
      skuId: line.skuId,
      quantity: line.quantity,
      unit: line.unit ?? null,
    }));
    checkoutKey = `quote:${request.quoteId}`;
  } else if (request.cartId) {
    const checkout = (await ctx.call('carts.internal.checkoutLines', { cartId: request.cartId })) as {
      cartId: string;
      version: number;
      lines: Array<{ skuId: string; quantity: number; unit: string | null }>;
    };
    if (!checkout.lines.length) {
      throw new UnprocessableRequest('empty-cart', 'The cart has no lines', {
        errors: [{ pointer: '/cartId', detail: 'the cart is empty' }],
      });
    }
    lines = checkout.lines;
    cart = { id: checkout.cartId, version: checkout.version };
    checkoutKey = request.checkoutToken
      ? `token:${request.checkoutToken}`
      : `cart:${checkout.cartId}:v${checkout.version}`;
  } else if (request.lines?.length) {
    if (!request.checkoutToken) {
      throw new ValidationFailed([
        {
          pointer: '/checkoutToken',
          detail: 'is required when lines are sent (it makes a retried checkout one order)',
        },
      ]);
    }
    lines = request.lines;
    checkoutKey = `token:${request.checkoutToken}`;
  } else {
    throw new ValidationFailed([{ pointer: '/cartId', detail: 'send a cartId or lines' }]);
  }

  const [policy, priced, placer] = await Promise.all([
    ctx.call('orders.internal.checkoutPolicy', { companyId }) as Promise<{
      poNumberRequired: boolean;
      poDocumentRequired: boolean;
    }>,
    ctx.call('pricing.internal.priceLines', {
      lines: lines.map((line) => ({
        ...(line.skuId ? { skuId: line.skuId } : { code: line.code }),
        quantity: line.quantity,
        ...(line.unit ? { unit: line.unit } : {}),
      })),
    }) as Promise<PriceLinesResponse>,
    ctx.call('accounts.internal.userContext', { userId: auth.principalId }) as Promise<{
      unitId: string | null;
      unitPath: string[];
    } | null>,
  ]);
  if (policy.poNumberRequired && !request.poNumber?.trim()) {
    throw new UnprocessableRequest('po-number-required', 'Your company requires a PO number on every order', {
      errors: [{ pointer: '/poNumber', detail: 'is required for your company' }],
    });
  }
  if (policy.poDocumentRequired && !request.poDocumentId) {
    throw new UnprocessableRequest(
      'po-document-required',
      'Your company requires a PO document on every order: upload it (POST /api/orders/po-documents) and send its id',
      { errors: [{ pointer: '/poDocumentId', detail: 'is required for your company' }] },
    );
  }
  const errors = priced.lines.flatMap((line, index) =>
    line.status === 'priced' && line.unitPrice && !line.errors.length
      ? []
      : [
          {
            pointer: request.cartId && !request.lockedLines ? `/cartId` : `/lines/${index}`,
            detail: `${line.code ?? line.skuId}: ${line.errors.map((e) => e.detail).join('; ') || 'no price for you'}`,
          },
        ],
  );
  if (errors.length) {
    throw new UnprocessableRequest('lines-not-orderable', 'Some lines cannot be ordered as they are', {
      errors,
    });
  }
  const skuIds = priced.lines.map((line) => line.skuId!);
  const names = (await ctx.call('catalog.internal.skus', { skuIds: [...new Set(skuIds)], codes: [] })) as {
    items: Array<{ skuId: string; nameZh: string }>;
  };
  const nameOf = new Map(names.items.map((item) => [item.skuId, item.nameZh]));

  const currency = priced.currency;
  const locked = request.lockedLines;
  const orderLines = priced.lines.map((line, index) => {
    if (!locked) {
      return {
        skuId: line.skuId!,
        skuCode: line.code!,
        productId: line.productId,
        name: nameOf.get(line.skuId!) ?? null,
        unit: line.unit,
        quantity: line.quantity,
        unitPrice: line.unitPrice!,
        vatRate: line.vatRate ?? 0,
        pricesIncludeTax: line.pricesIncludeTax ?? true,
        net: line.net!,
        tax: line.tax!,
        gross: line.gross!,
        priceListCode: line.priceListCode,
      };
    }
    // A quote's price is the gross unit price; tax is taken out of it at the quoted rate.
    const fixed = locked[index]!;
    const gross = BigInt(fixed.unitPrice.amountMinor) * BigInt(fixed.quantity);
    const divisor = BigInt(100 + fixed.vatRate);
    const net = (gross * 200n + divisor) / (2n * divisor);
    const m = (value: bigint) => ({ amountMinor: value.toString(), currency: fixed.unitPrice.currency });
    return {
      skuId: line.skuId!,
      skuCode: line.code!,
      productId: line.productId,
      name: nameOf.get(line.skuId!) ?? null,
      unit: line.unit,
      quantity: fixed.quantity,
      unitPrice: fixed.unitPrice,
      vatRate: fixed.vatRate,
      pricesIncludeTax: true,
      net: m(net),
      tax: m(gross - net),
      gross: m(gross),
      priceListCode: null,
    };
  });
  const sum = (pick: (line: (typeof orderLines)[number]) => { amountMinor: string }) =>
    orderLines.reduce((total, line) => total + BigInt(pick(line).amountMinor), 0n).toString();
  const orderCurrency = locked ? (locked[0]?.unitPrice.currency ?? currency) : currency;
  const totals = {
    net: { amountMinor: sum((l) => l.net), currency: orderCurrency },
    tax: { amountMinor: sum((l) => l.tax), currency: orderCurrency },
    gross: { amountMinor: sum((l) => l.gross), currency: orderCurrency },
  };
  const orderId = randomUUID();
  const source = request.source ?? (cart ? 'cart' : 'lines');
  const order = {
    orderId,
    companyId,
    placedBy: auth.principalId,
    unitId: placer?.unitId ?? auth.unitId ?? null,
    unitPath: placer?.unitPath ?? [],
    checkoutKey: checkoutKey.length > 200 ? `h:${hashOf(checkoutKey)}` : checkoutKey,
    source,
    cartId: cart?.id ?? null,
    quoteId: request.quoteId ?? null,
    paymentMethod: request.paymentMethod,
    poNumber: request.poNumber?.trim() || null,
    poDocumentId: request.poDocumentId ?? null,
    note: request.note ?? null,
    currency: orderCurrency,
    totals,
    lines: orderLines,
  };
  const stock = new Map<string, number>();
  for (const line of orderLines) stock.set(line.skuId, (stock.get(line.skuId) ?? 0) + line.quantity);
  return {
    orderId,
    reference: `order:${orderId}`,
    companyId,
    paymentMethod: request.paymentMethod,
    total: totals.gross,
    order,
    stockLines: [...stock].map(([skuId, quantity]) => ({ skuId, quantity })),
    snapshot: {
      total: totals.gross,
      lines: orderLines.map((line) => ({
        sku: line.skuCode,
        categoryIds: [],
        quantity: line.quantity,
        lineTotal: line.gross,
      })),
      paymentMethod: request.paymentMethod,
    },
    ...(cart ? { cart } : {}),
  };
}
