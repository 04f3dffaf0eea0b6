import type { Database } from '../platform/database/database.ts';
import { insertCompany } from './companies.ts';
import { createRootUnit } from './units.ts';
import { findUserByEmail, insertUser, prepareUser } from './users.ts';

export const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
export const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };

/** Demo staff admin and one buyer company with its admin. Safe to run twice: existing users are kept. */
export async function seedDemoAccounts(db: Database): Promise<{ created: boolean }> {
  if (await findUserByEmail(db, DEMO_STAFF.email)) return { created: false };
  const [staff, buyer] = await Promise.all([
    prepareUser(db, {
      kind: 'staff',
      companyId: null,
      email: DEMO_STAFF.email,
      displayName: 'Demo Admin',
      password: DEMO_STAFF.password,
      roles: ['admin'],
    }),
    prepareUser(db, {
      kind: 'buyer',
      companyId: null,
      email: DEMO_BUYER.email,
      displayName: 'Li Wei 李伟',
      password: DEMO_BUYER.password,
      roles: ['buyer-admin'],
    }),
  ]);
  await db.transaction(async (tx) => {
    await insertUser(tx, staff);
    const acme = await insertCompany(tx, { name: 'Acme Industrial Supply 艾克美工业', status: 'active' });
    const root = await createRootUnit(tx, acme.id, acme.name);
    await insertUser(tx, { ...buyer, companyId: acme.id, unitId: root.id });
  });
  return { created: true };
}
