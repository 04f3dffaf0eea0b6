import type { Money } from '../../schemas/generated/types.ts';

/** Money inside the domain: integer minor units as a bigint, never a float. */
export interface Amount {
  minor: bigint;
  currency: string;
}

/** From the wire (`{ amountMinor: "12999", currency: "CNY" }`, already schema-checked). */
export function amountOf(money: { amountMinor: string; currency: string }): Amount {
  return { minor: BigInt(money.amountMinor), currency: money.currency };
}

/** To the wire: the amount as a decimal string. */
export function moneyOf(minor: bigint, currency: string): Money {
  return { amountMinor: minor.toString(), currency };
}
