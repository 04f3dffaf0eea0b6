import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { InvalidSignature } from './payment-gateway.ts';
import { SimulatorPaymentGateway, signingString, simulatorSecret } from './payment-simulator.ts';

describe('the payment simulator', () => {
  const secret = randomBytes(32);
  const gateway = new SimulatorPaymentGateway({ secret });

  it('signs the sorted fields except the signature, and verifies its own notifications', async () => {
    expect(signingString({ b: '2', a: '1', sign: 'x', sign_type: 'HMAC-SHA256', empty: '' })).toBe('a=1&b=2');
    const created = await gateway.createPayment({
      paymentId: 'p-1',
      amountMinor: 12_999n,
      currency: 'CNY',
      subject: 'order:1',
    });
    expect(created.redirectUrl).toContain(created.providerPaymentId);
    const body = gateway.notification('p-1');
    expect(gateway.verifyCallback(body)).toMatchObject({
      paymentId: 'p-1',
      status: 'succeeded',
      amountMinor: 12_999n,
      currency: 'CNY',
      providerTransactionId: body.trade_no,
    });
    expect(await gateway.queryStatus('p-1')).toMatchObject({ status: 'succeeded', amountMinor: 12_999n });
  });

  it('refuses a notification signed with another key, or changed after signing', () => {
    const forged = gateway.notification('p-2', { amountMinor: 100n, signWith: randomBytes(32) });
    expect(() => gateway.verifyCallback(forged)).toThrow(InvalidSignature);
    const tampered = { ...gateway.notification('p-3', { amountMinor: 100n }), total_amount: '1' };
    expect(() => gateway.verifyCallback(tampered)).toThrow(InvalidSignature);
    const unsigned = { ...gateway.notification('p-4', { amountMinor: 100n }), sign_type: 'NONE' };
    expect(() => gateway.verifyCallback(unsigned)).toThrow(InvalidSignature);
  });

  it('derives its secret from the master key unless one is configured', () => {
    const key = randomBytes(32);
    expect(simulatorSecret(key, {}).equals(simulatorSecret(key, {}))).toBe(true);
    expect(simulatorSecret(key, {}).equals(simulatorSecret(randomBytes(32), {}))).toBe(false);
    expect(simulatorSecret(key, { HUB_PAYMENT_SIMULATOR_SECRET: 'abc' }).toString()).toBe('abc');
  });
});
