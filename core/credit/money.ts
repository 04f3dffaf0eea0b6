import { UnprocessableRequest } from '../platform/errors/hub-errors.ts';

/** Money as code holds it: exact minor units and the ISO 4217 currency. */
export interface Amount {
  minor: bigint;
  currency: string;
}

/** The canonical API shape (`entities/money`). */
export interface Money {
  amountMinor: string;
  currency: string;
}

export const moneyOf = (minor: bigint, currency: string): Money => ({
  amountMinor: minor.toString(),
  currency,
});

export const amountOf = (money: Money): Amount => ({
  minor: BigInt(money.amountMinor),
  currency: money.currency,
});

/** A positive amount (holds, payments, invoices); `pointer` names the field for the 422. */
export function positiveAmount(money: Money, pointer = '/amount'): Amount {
  const amount = amountOf(money);
  if (amount.minor <= 0n) {
    throw new UnprocessableRequest('invalid-amount', 'The amount must be greater than zero', {
      errors: [{ pointer: `${pointer}/amountMinor`, detail: 'must be greater than zero' }],
    });
  }
  return amount;
}

/** Refuses an amount in another currency than the account's (one currency per credit account). */
export function requireCurrency(amount: Amount, currency: string, pointer = '/amount'): void {
  if (amount.currency !== currency) {
    throw new UnprocessableRequest(
      'currency-mismatch',
      `The account is kept in ${currency}, not ${amount.currency}`,
      { errors: [{ pointer: `${pointer}/currency`, detail: `must be ${currency}` }] },
    );
  }
}

export const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);
