import type { Database, Queryable, Transaction } from '../platform/database/database.ts';
import { UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { type Account, availableOf, blockOf, findAccount, postEntry } from './ledger.ts';
import { type Amount, type Money, moneyOf } from './money.ts';

/**
 * Credit holds for orders paid on account (账期): `hold` reserves part of the limit while the order
 * is placed, `capture` turns it into a purchase when the order is confirmed (exposure stays: the
 * purchase is now owed), `release` gives it back on cancellation. Each is idempotent per reference:
 * a repeat answers as the first call did and writes nothing.
 */
export type HoldStatus = 'held' | 'released' | 'captured';

export interface Hold {
  reference: string;
  companyId: string;
  amount: Amount;
  captured: bigint | null;
  status: HoldStatus;
  invoiceId: string | null;
}

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
const toHold = (row: any): Hold => ({
  reference: row.reference,
  companyId: row.company_id,
  amount: { minor: row.amount_minor, currency: row.currency },
  captured: row.captured_minor,
  status: row.status,
  invoiceId: row.invoice_id,
});

export async function findHold(
  db: Queryable,
  reference: string,
  options: { lock?: boolean } = {},
): Promise<Hold | undefined> {
  const { rows } = await db.query(
    `SELECT * FROM credit.holds WHERE reference = $1 ${options.lock ? 'FOR UPDATE' : ''}`,
    [reference],
  );
  return rows[0] ? toHold(rows[0]) : undefined;
}

export interface HoldAnswer {
  reference: string;
  status: HoldStatus;
  available: Money;
}

interface Caller {
  actor: string;
  requestId: string | undefined;
  today: string;
}

async function answer(db: Queryable, hold: Hold): Promise<HoldAnswer> {
  const account = await findAccount(db, hold.companyId);
  return {
    reference: hold.reference,
    status: hold.status,
    available: moneyOf(account ? availableOf(account) : 0n, hold.amount.currency),
  };
}

function noCreditAccount(): never {
  throw new UnprocessableRequest('no-credit-account', 'The company has no credit account (账期)');
}

/** Why the account refused the hold, read after the guarded update wrote nothing. */
async function refusal(tx: Transaction, companyId: string, amount: Amount, today: string): Promise<never> {
  const account = await findAccount(tx, companyId);
  if (!account?.creditEnabled) noCreditAccount();
  const block = await blockOf(tx, account, today);
  if (block) {
    throw new UnprocessableRequest('credit-blocked', block.detail, { reason: block.reason });
  }
  throw new UnprocessableRequest('credit-limit-exceeded', 'The order exceeds the available credit', {
    available: moneyOf(availableOf(account), account.currency),
    requested: moneyOf(amount.minor, amount.currency),
  });
}

function checkAccount(account: Account | undefined, amount: Amount): asserts account is Account {
  if (!account?.creditEnabled) noCreditAccount();
  if (account.currency !== amount.currency) {
    throw new UnprocessableRequest(
      'currency-mismatch',
      `The credit account is kept in ${account.currency}, not ${amount.currency}`,
      { errors: [{ pointer: '/amount/currency', detail: `must be ${account.currency}` }] },
    );
  }
}

/**
 * Holds `amount` of the company's credit for `reference`. Refusals (422): `no-credit-account`,
 * `credit-blocked` (on hold, or an invoice overdue past the grace days), `credit-limit-exceeded`
 * (`data: { available, requested }`). Concurrent holds serialise on the account row: the limit
 * check is part of the UPDATE that moves the held sum, so they can never together exceed it.
 */
export async function placeHold(
  db: Database,
  params: { reference: string; companyId: string; amount: Amount },
  caller: Caller,
): Promise<HoldAnswer> {
  const { reference, companyId, amount } = params;
  const existing = await findHold(db, reference);
  if (existing) return answer(db, existing);
  const account = await findAccount(db, companyId);
  checkAccount(account, amount);
  const block = await blockOf(db, account, caller.today);
  if (block) throw new UnprocessableRequest('credit-blocked', block.detail, { reason: block.reason });

  return db.transaction(async (tx) => {
    const { rows } = await tx.query(
      `INSERT INTO credit.holds (reference, company_id, currency, amount_minor, status)
       VALUES ($1, $2, $3, $4, 'held') ON CONFLICT (reference) DO NOTHING RETURNING *`,
      [reference, companyId, amount.currency, amount.minor],
    );
    if (!rows[0]) return answer(tx, (await findHold(tx, reference))!);
    const moved = await postEntry(
      tx,
      {
        companyId,
        kind: 'hold',
        reference,
        amount,
        heldDelta: amount.minor,
        actor: caller.actor,
        requestId: caller.requestId,
      },
      { withinLimit: true },
    );
    if (!moved) return refusal(tx, companyId, amount, caller.today);
    return { reference, status: 'held' as const, available: moneyOf(availableOf(moved), moved.currency) };
  });
}

/** Releases a hold (compensation, cancellation); a no-op for an unknown or already released one. */
export async function releaseHold(
  db: Database,
  reference: string,
  caller: Caller,
): Promise<{ reference: string; status: HoldStatus | 'none' }> {
  return db.transaction(async (tx) => {
    const hold = await findHold(tx, reference, { lock: true });
    if (!hold) return { reference, status: 'none' as const };
    if (hold.status === 'released') return { reference, status: hold.status };
    if (hold.status === 'captured') {
      // A confirmed order cancelled before it was invoiced: its purchase is reversed. Once invoiced,
      // the receivable stands and finance settles it with an adjustment (a credit note).
      if (hold.invoiceId) {
        throw new UnprocessableRequest(
          'credit-already-invoiced',
          'The purchase was invoiced; finance reverses it with an adjustment',
          { invoiceId: hold.invoiceId },
        );
      }
      await postEntry(tx, {
        companyId: hold.companyId,
        kind: 'adjustment',
        reference,
        amount: { minor: hold.captured!, currency: hold.amount.currency },
        owedDelta: -hold.captured!,
        note: 'purchase cancelled before it was invoiced',
        actor: caller.actor,
        requestId: caller.requestId,
      });
    } else {
      await postEntry(tx, {
        companyId: hold.companyId,
        kind: 'hold_release',
        reference,
        amount: hold.amount,
        heldDelta: -hold.amount.minor,
        actor: caller.actor,
        requestId: caller.requestId,
      });
    }
    await tx.query(`UPDATE credit.holds SET status = 'released', updated_at = now() WHERE reference = $1`, [
      reference,
    ]);
    return { reference, status: 'released' as const };
  });
}

/**
 * The hold becomes a purchase (orders call it when the order is confirmed): the held amount leaves
 * `held` and `amount` (default: all of it; less when lines were dropped) becomes owed. Invoicing the
 * order later posts nothing more unless the invoice's amount differs.
 */
export async function captureHold(
  db: Database,
  params: { reference: string; amount?: Amount | undefined },
  caller: Caller,
): Promise<{ reference: string; status: HoldStatus; captured: Money }> {
  return db.transaction(async (tx) => {
    const hold = await findHold(tx, params.reference, { lock: true });
    if (!hold) {
      throw new UnprocessableRequest('no-credit-hold', `No credit hold for ${params.reference}`);
    }
    const currency = hold.amount.currency;
    if (hold.status === 'captured') {
      return { reference: hold.reference, status: hold.status, captured: moneyOf(hold.captured!, currency) };
    }
    if (hold.status === 'released') {
      throw new UnprocessableRequest(
        'credit-hold-released',
        `The credit hold ${params.reference} was released`,
      );
    }
    const captured = params.amount?.minor ?? hold.amount.minor;
    if (params.amount && params.amount.currency !== currency) {
      throw new UnprocessableRequest('currency-mismatch', `The hold is in ${currency}`, {
        errors: [{ pointer: '/amount/currency', detail: `must be ${currency}` }],
      });
    }
    if (captured <= 0n || captured > hold.amount.minor) {
      throw new UnprocessableRequest('capture-exceeds-hold', 'A capture takes at most the held amount', {
        errors: [{ pointer: '/amount/amountMinor', detail: `must be 1..${hold.amount.minor}` }],
      });
    }
    const common = {
      companyId: hold.companyId,
      reference: hold.reference,
      actor: caller.actor,
      requestId: caller.requestId,
    };
    await postEntry(tx, { ...common, kind: 'capture', amount: hold.amount, heldDelta: -hold.amount.minor });
    await postEntry(tx, {
      ...common,
      kind: 'purchase',
      amount: { minor: captured, currency },
      owedDelta: captured,
    });
    await tx.query(
      `UPDATE credit.holds SET status = 'captured', captured_minor = $2, updated_at = now() WHERE reference = $1`,
      [hold.reference, captured],
    );
    return { reference: hold.reference, status: 'captured' as const, captured: moneyOf(captured, currency) };
  });
}
