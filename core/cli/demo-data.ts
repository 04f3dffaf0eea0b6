import { findCompany, insertCompany } from '../accounts/companies.ts';
import { createRole } from '../accounts/custom-roles.ts';
import { DEMO_BUYER, DEMO_STAFF, seedDemoAccounts } from '../accounts/demo-data.ts';
import { createRootUnit, createUnit, rootUnit, updateUnit } from '../accounts/units.ts';
import { findUserByEmail, insertUser, prepareUser } from '../accounts/users.ts';
import { seedDemoApprovalRules } from '../approvals/demo-data.ts';
import { seedDemoCarts } from '../carts/demo-data.ts';
import { seedDemoCatalog } from '../catalog/demo-data.ts';
import { listProducts, loadProducts } from '../catalog/products.ts';
import { seedDemoCredit } from '../credit/demo-data.ts';
import type { RunningHub } from '../hub.ts';
import { seedDemoInventory } from '../inventory/demo-data.ts';
import type { Database } from '../platform/database/database.ts';
import { type DemoSku, seedDemoPrices } from '../pricing/demo-data.ts';
import { insertBudget } from '../spending/budgets.ts';
import { insertLimit } from '../spending/limits.ts';
import { DEFAULT_TIME_ZONE } from '../spending/periods.ts';
import { seedDemoOrders } from '../workflows/demo-orders.ts';

/** Every demo user's password is its email's local part followed by `-demo-password`. */
export const demoPassword = (email: string) => `${email.split('@')[0]}-demo-password`;

interface DemoCompany {
  name: string;
  admin: string;
  units: Array<{ key: string; name: string; code: string; parent: string }>;
  people: Array<{ email: string; name: string; unit: string; roles: string[]; manages?: string }>;
}

/** Two buyer companies with org trees, people in every preset role, a custom role and rules. */
const COMPANIES: DemoCompany[] = [
  {
    name: 'Acme Industrial Supply 艾克美工业',
    admin: DEMO_BUYER.email,
    units: [
      { key: 'rd', name: '研发部 R&D', code: 'RD', parent: 'root' },
      { key: 'lab', name: '测试实验室 Test lab', code: 'RD-LAB', parent: 'rd' },
      { key: 'purchasing', name: '采购部 Purchasing', code: 'PUR', parent: 'root' },
      { key: 'finance', name: '财务部 Finance', code: 'FIN', parent: 'root' },
    ],
    people: [
      {
        email: 'wang.fang@acme.example',
        name: 'Wang Fang 王芳',
        unit: 'rd',
        roles: ['approver'],
        manages: 'rd',
      },
      { email: 'zhang.min@acme.example', name: 'Zhang Min 张敏', unit: 'lab', roles: ['purchaser'] },
      {
        email: 'zhao.lei@acme.example',
        name: 'Zhao Lei 赵磊',
        unit: 'purchasing',
        roles: ['purchaser', 'site-buyer'],
      },
      {
        email: 'chen.jie@acme.example',
        name: 'Chen Jie 陈洁',
        unit: 'finance',
        roles: ['finance'],
        manages: 'finance',
      },
    ],
  },
  {
    name: 'East China Electromechanical 华东机电',
    admin: 'admin@ecem.example',
    units: [
      { key: 'plant', name: '苏州工厂 Suzhou plant', code: 'SZ', parent: 'root' },
      { key: 'maintenance', name: '设备维护 Maintenance', code: 'SZ-MNT', parent: 'plant' },
      { key: 'finance', name: '财务部 Finance', code: 'FIN', parent: 'root' },
    ],
    people: [
      {
        email: 'liu.yang@ecem.example',
        name: 'Liu Yang 刘洋',
        unit: 'plant',
        roles: ['approver'],
        manages: 'plant',
      },
      { email: 'sun.li@ecem.example', name: 'Sun Li 孙丽', unit: 'maintenance', roles: ['purchaser'] },
      {
        email: 'zhou.qiang@ecem.example',
        name: 'Zhou Qiang 周强',
        unit: 'finance',
        roles: ['finance'],
        manages: 'finance',
      },
    ],
  },
];

const cny = (yuan: number) => ({ minor: BigInt(yuan) * 100n, currency: 'CNY' });

async function seedCompany(db: Database, demo: DemoCompany, staffId: string): Promise<void> {
  const existingAdmin = await findUserByEmail(db, demo.admin);
  let companyId = existingAdmin?.companyId ?? null;
  if (
    existingAdmin &&
    companyId &&
    (
      await db.query('SELECT 1 FROM accounts.units WHERE company_id = $1 AND parent_id IS NOT NULL', [
        companyId,
      ])
    ).rowCount
  ) {
    return; // already seeded
  }
  const people = await Promise.all(
    [
      ...(existingAdmin
        ? []
        : [{ email: demo.admin, name: `${demo.name} admin`, unit: 'root', roles: ['buyer-admin'] }]),
      ...demo.people,
    ].map(async (person) => ({
      person,
      prepared: await prepareUser(db, {
        kind: 'buyer',
        companyId: null,
        email: person.email,
        displayName: person.name,
        password: person.email === DEMO_BUYER.email ? DEMO_BUYER.password : demoPassword(person.email),
        roles: person.roles.filter((role) => role !== 'site-buyer'),
      }),
    })),
  );
  await db.transaction(async (tx) => {
    if (!companyId) companyId = (await insertCompany(tx, { name: demo.name, status: 'active' })).id;
    const company = (await findCompany(tx, companyId))!;
    const root = await rootUnit(tx, company.id).catch(() => createRootUnit(tx, company.id, company.name));
    const units = new Map<string, string>([['root', root.id]]);
    for (const unit of demo.units) {
      units.set(
        unit.key,
        (
          await createUnit(tx, company.id, {
            parentId: units.get(unit.parent)!,
            name: unit.name,
            code: unit.code,
          })
        ).id,
      );
    }
    await createRole(tx, company.id, {
      key: 'site-buyer',
      name: 'Site buyer 现场采购',
      description: 'Orders for their own site and sees their unit’s orders',
      grants: [
        { permission: 'company.read', scope: 'company' },
        { permission: 'orders.place', scope: 'own' },
        { permission: 'orders.read', scope: 'unit' },
        { permission: 'approvals.delegate', scope: 'own' },
      ],
    });
    const ids = new Map<string, string>();
    for (const { person, prepared } of people) {
      const { user } = await insertUser(tx, {
        ...prepared,
        roles: person.roles,
        companyId: company.id,
        unitId: units.get(person.unit)!,
        createdBy: staffId,
      });
      ids.set(person.email, user.id);
      if ('manages' in person && person.manages) {
        await updateUnit(tx, company.id, units.get(person.manages)!, { managerUserId: user.id });
      }
    }
    const purchaser = demo.people.find((p) => p.roles.includes('purchaser'))!;
    await insertLimit(tx, {
      companyId: company.id,
      subject: { type: 'user', id: ids.get(purchaser.email)! },
      per: 'order',
      amount: cny(20_000),
      mode: 'block',
      timeZone: DEFAULT_TIME_ZONE,
      createdBy: staffId,
    });
    await insertLimit(tx, {
      companyId: company.id,
      subject: { type: 'unit', id: units.get(demo.units[0]!.key)! },
      per: 'month',
      amount: cny(200_000),
      mode: 'warn',
      timeZone: DEFAULT_TIME_ZONE,
      createdBy: staffId,
    });
    await insertBudget(tx, {
      companyId: company.id,
      costCentre: 'CC-RD',
      period: 'year',
      periodStart: { year: new Date().getFullYear(), month: 1, day: 1 },
      timeZone: DEFAULT_TIME_ZONE,
      amount: cny(1_000_000),
      mode: 'block',
      unitId: null,
      createdBy: staffId,
    });
  });
  await seedDemoApprovalRules(db, companyId!);
}

/** The demo catalog's SKUs, for the demo prices (read with the catalog's own functions). */
async function demoSkus(db: Database): Promise<DemoSku[]> {
  const skus: DemoSku[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listProducts(db, { lifecycle: 'active', limit: 200, after });
    if (!page.length) return skus;
    const products = await loadProducts(
      db,
      page.map((p) => p.id),
    );
    for (const product of products.values()) {
      for (const sku of product.skus) {
        skus.push({
          skuId: sku.id,
          code: sku.code,
          productId: product.id,
          unitOfMeasure: sku.unitOfMeasure,
          packSize: sku.packSize,
        });
      }
    }
    after = page[page.length - 1]!.id;
  }
}

/**
 * `hub seed demo` and `hub start --demo`: the demo staff admin and two buyer companies with org
 * trees, people in every preset role and a custom one, approval rules, spending limits, a
 * budget, a demo catalog (30 products; Acme also sees the gold-tier shared catalog), demo prices
 * (standard, gold tier, Acme's contract), a purchaser's cart shared with their manager and demo
 * stock in four warehouses. Running it again changes nothing. Demo orders need the running
 * services (the saga): `seedDemoOrdersOn` below.
 */
export async function seedDemo(db: Database): Promise<{ created: boolean }> {
  const { created } = await seedDemoAccounts(db);
  const staff = await findUserByEmail(db, DEMO_STAFF.email);
  for (const company of COMPANIES) await seedCompany(db, company, staff!.id);
  // Acme sees the gold-tier shared catalog on top of the public products.
  const acme = (await findUserByEmail(db, DEMO_BUYER.email))!.companyId!;
  await seedDemoCatalog(db, { companyIds: [acme] });
  const skus = await demoSkus(db);
  await seedDemoPrices(db, { skus, acmeCompanyId: acme });
  await seedDemoCredit(db, { acmeCompanyId: acme });
  await seedDemoInventory(db, { skuIds: skus.map((s) => s.skuId), acmeCompanyId: acme });
  const purchaser = await findUserByEmail(db, 'zhang.min@acme.example');
  const manager = await findUserByEmail(db, 'wang.fang@acme.example');
  if (purchaser) {
    await seedDemoCarts(db, { companyId: acme, ownerId: purchaser.id, managerId: manager?.id ?? null, skus });
  }
  return { created };
}

/**
 * Demo orders in every status (pending approval, confirmed, partly shipped, completed, on hold,
 * pending payment, cancelled), placed and moved through the running hub's real actions by the
 * demo people (Zhang Min orders on credit, Chen Jie approves as finance, the Acme admin pays by
 * transfer or cancels, the staff admin ships). Runs after `seedDemo`; running it again changes nothing.
 */
export async function seedDemoOrdersOn(hub: Pick<RunningHub, 'broker' | 'platform'>) {
  const skus = await demoSkus(hub.platform.db);
  const person = (email: string) => ({ email, password: demoPassword(email) });
  return seedDemoOrders({
    broker: hub.broker,
    jwtSecret: hub.platform.config.jwtSecret,
    logger: hub.platform.logger,
    skuCodes: skus.map((sku) => sku.code),
    purchaser: person('zhang.min@acme.example'),
    admin: DEMO_BUYER,
    finance: person('chen.jie@acme.example'),
    staff: DEMO_STAFF,
  });
}
