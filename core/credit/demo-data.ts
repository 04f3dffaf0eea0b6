import type { Database } from '../platform/database/database.ts';

/**
 * The demo credit account for `hub seed demo`: Acme buys on account (账期) with a ¥500,000 limit,
 * month-end + 30 days terms (月结30天) and 5 grace days. Nothing happens when Acme has an account.
 */
export async function seedDemoCredit(
  db: Database,
  options: { acmeCompanyId: string },
): Promise<{ created: boolean }> {
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query(
      `INSERT INTO credit.accounts (company_id, currency, credit_enabled, limit_minor, terms_kind, terms_days, grace_days)
       VALUES ($1, 'CNY', true, 50000000, 'month_end', 30, 5) ON CONFLICT (company_id) DO NOTHING`,
      [options.acmeCompanyId],
    );
    if (!rowCount) return { created: false };
    await tx.query(
      `INSERT INTO credit.account_changes (company_id, before, after, reason, changed_by)
       VALUES ($1, NULL, $2::jsonb, 'demo data', 'system:seed-demo')`,
      [
        options.acmeCompanyId,
        JSON.stringify({
          currency: 'CNY',
          creditEnabled: true,
          limit: { amountMinor: '50000000', currency: 'CNY' },
          terms: { kind: 'month_end', days: 30 },
          graceDays: 5,
          onHold: false,
          holdReason: null,
        }),
      ],
    );
    return { created: true };
  });
}
