/**
 * The online payment port (Alipay, WeChat Pay, UnionPay and the like, behind one interface). The
 * hub creates a payment at the provider and shows the buyer its redirect or QR URL; the provider
 * later calls back (`/hooks/payments/<provider>`) with a signed notification, which the adapter
 * verifies before anything is believed; `queryStatus` asks the provider directly (for a callback
 * that never came).
 *
 * Contract: `verifyCallback` throws `InvalidSignature` for a body whose signature does not verify
 * and never trusts a field of an unverified body; `providerTransactionId` is unique per provider
 * and is what makes a repeated callback count once.
 */
export interface CreatePaymentRequest {
  paymentId: string;
  amountMinor: bigint;
  currency: string;
  subject: string;
}

export interface CreatedPayment {
  providerPaymentId: string;
  /** Where the buyer pays: a cashier page, or the content of a QR code. */
  redirectUrl: string;
  qrCode: string;
  expiresAt: string;
}

export interface PaymentNotification {
  providerTransactionId: string;
  paymentId: string;
  status: 'succeeded' | 'failed';
  amountMinor: bigint;
  currency: string;
  paidAt: string | null;
  failureReason: string | null;
}

export interface PaymentGateway {
  /** The provider's name: the hook path segment and the receipts' dedupe prefix. */
  readonly provider: string;
  createPayment(request: CreatePaymentRequest): Promise<CreatedPayment>;
  verifyCallback(body: Record<string, unknown>): PaymentNotification;
  queryStatus(paymentId: string): Promise<PaymentNotification | undefined>;
}

export class InvalidSignature extends Error {}
