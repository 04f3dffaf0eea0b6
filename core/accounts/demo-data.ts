import type { Database } from '../platform/database/database.ts';
import { insertCompany } from './companies.ts';
import { createUser, findUserByEmail } from './users.ts';

export const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
export const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };

/** Demo staff admin and one buyer company with its admin. Safe to run twice: existing users are kept. */
export async function seedDemoAccounts(db: Database): Promise<{ created: boolean }> {
  if (await findUserByEmail(db, DEMO_STAFF.email)) return { created: false };
  await db.transaction(async (tx) => {
    await createUser(tx, {
      kind: 'staff',
      companyId: null,
      email: DEMO_STAFF.email,
      displayName: 'Demo Admin',
      password: DEMO_STAFF.password,
      roles: ['admin'],
    });
    const acme = await insertCompany(tx, { name: 'Acme Industrial Supply 艾克美工业', status: 'active' });
    await createUser(tx, {
      kind: 'buyer',
      companyId: acme.id,
      email: DEMO_BUYER.email,
      displayName: 'Li Wei 李伟',
      password: DEMO_BUYER.password,
      roles: ['buyer-admin'],
    });
  });
  return { created: true };
}
