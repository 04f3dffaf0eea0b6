import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  type CreatedPayment,
  type CreatePaymentRequest,
  InvalidSignature,
  type PaymentGateway,
  type PaymentNotification,
} from './payment-gateway.ts';

/**
 * A payment provider simulated in-process, faithful to how Chinese providers notify (Alipay's
 * asynchronous notification is the model): the callback is a flat set of string fields plus
 * `sign_type` and `sign`, where `sign` is computed over the other fields sorted by name and joined
 * as `key=value&...`, here with HMAC-SHA256 and a shared secret. The provider's trade number
 * (`trade_no`) is unique per payment attempt; our payment id travels as `out_trade_no`; amounts are
 * decimal strings of minor units. `TRADE_SUCCESS` confirms, `TRADE_CLOSED` fails.
 *
 * Tests play the provider: `notification(...)` builds the signed body the provider would POST to
 * `/hooks/payments/simulator`.
 */
export const SIMULATOR = 'simulator';

export interface SimulatedPayment {
  paymentId: string;
  providerPaymentId: string;
  amountMinor: bigint;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed';
  tradeNo: string | null;
}

/** The string every signature covers: non-empty fields except the signature's own, sorted by name. */
export function signingString(fields: Record<string, unknown>): string {
  return Object.keys(fields)
    .filter((key) => key !== 'sign' && key !== 'sign_type' && fields[key] !== undefined && fields[key] !== '')
    .sort()
    .map((key) => `${key}=${String(fields[key])}`)
    .join('&');
}

export class SimulatorPaymentGateway implements PaymentGateway {
  readonly provider = SIMULATOR;
  readonly #secret: Buffer;
  readonly #cashierUrl: string;
  /** What the "provider" knows, for `queryStatus` (one process; enough for a simulator). */
  readonly #payments = new Map<string, SimulatedPayment>();

  constructor(options: { secret: Buffer; cashierUrl?: string }) {
    this.#secret = options.secret;
    this.#cashierUrl = options.cashierUrl ?? 'https://cashier.payment-simulator.invalid/pay';
  }

  sign(fields: Record<string, unknown>): string {
    return createHmac('sha256', this.#secret).update(signingString(fields), 'utf8').digest('base64');
  }

  async createPayment(request: CreatePaymentRequest): Promise<CreatedPayment> {
    const providerPaymentId = `SIM${randomUUID().replaceAll('-', '').slice(0, 24).toUpperCase()}`;
    this.#payments.set(request.paymentId, {
      paymentId: request.paymentId,
      providerPaymentId,
      amountMinor: request.amountMinor,
      currency: request.currency,
      status: 'pending',
      tradeNo: null,
    });
    const url = `${this.#cashierUrl}?token=${providerPaymentId}`;
    return {
      providerPaymentId,
      redirectUrl: url,
      qrCode: url,
      expiresAt: new Date(Date.now() + 30 * 60_000).toISOString(),
    };
  }

  /**
   * The callback body the provider sends when the buyer paid (or the trade closed), signed with the
   * shared secret unless `signWith` says otherwise (a forger's key).
   */
  notification(
    paymentId: string,
    options: {
      status?: 'succeeded' | 'failed';
      amountMinor?: bigint | string;
      currency?: string;
      tradeNo?: string;
      signWith?: Buffer;
    } = {},
  ): Record<string, string> {
    const known = this.#payments.get(paymentId);
    const tradeNo = options.tradeNo ?? known?.tradeNo ?? `T${Date.now()}${randomUUID().slice(0, 8)}`;
    const status = options.status ?? 'succeeded';
    if (known) {
      known.status = status;
      known.tradeNo = tradeNo;
    }
    const fields: Record<string, string> = {
      notify_id: randomUUID(),
      notify_time: new Date().toISOString(),
      trade_no: tradeNo,
      out_trade_no: paymentId,
      total_amount: String(options.amountMinor ?? known?.amountMinor ?? '0'),
      currency: options.currency ?? known?.currency ?? 'CNY',
      trade_status: status === 'succeeded' ? 'TRADE_SUCCESS' : 'TRADE_CLOSED',
      gmt_payment: status === 'succeeded' ? new Date().toISOString() : '',
      sign_type: 'HMAC-SHA256',
    };
    const signer = options.signWith
      ? new SimulatorPaymentGateway({ secret: options.signWith, cashierUrl: this.#cashierUrl })
      : this;
    return { ...fields, sign: signer.sign(fields) };
  }

  verifyCallback(body: Record<string, unknown>): PaymentNotification {
    const sign = body.sign;
    if (typeof sign !== 'string' || body.sign_type !== 'HMAC-SHA256') {
      throw new InvalidSignature('The callback is not signed with HMAC-SHA256');
    }
    const expected = Buffer.from(this.sign(body), 'base64');
    const given = Buffer.from(sign, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidSignature('The callback signature does not verify');
    }
    const status = body.trade_status;
    const amount = String(body.total_amount ?? '');
    if (!/^(0|[1-9][0-9]{0,18})$/.test(amount)) throw new InvalidSignature('total_amount is not an amount');
    return {
      providerTransactionId: String(body.trade_no),
      paymentId: String(body.out_trade_no),
      status: status === 'TRADE_SUCCESS' ? 'succeeded' : 'failed',
      amountMinor: BigInt(amount),
      currency: String(body.currency),
      paidAt: body.gmt_payment ? String(body.gmt_payment) : null,
      failureReason: status === 'TRADE_SUCCESS' ? null : `provider reported ${String(status)}`,
    };
  }

  async queryStatus(paymentId: string): Promise<PaymentNotification | undefined> {
    const known = this.#payments.get(paymentId);
    if (!known || known.status === 'pending' || !known.tradeNo) return undefined;
    return {
      providerTransactionId: known.tradeNo,
      paymentId,
      status: known.status,
      amountMinor: known.amountMinor,
      currency: known.currency,
      paidAt: null,
      failureReason: known.status === 'failed' ? 'provider reported TRADE_CLOSED' : null,
    };
  }
}

/** The simulator's shared secret: `HUB_PAYMENT_SIMULATOR_SECRET`, else derived from the master key. */
export function simulatorSecret(
  masterKey: Buffer,
  env: Record<string, string | undefined> = process.env,
): Buffer {
  const configured = env.HUB_PAYMENT_SIMULATOR_SECRET;
  if (configured) return Buffer.from(configured, 'utf8');
  return createHmac('sha256', masterKey).update('payments:simulator:callback-secret').digest();
}
