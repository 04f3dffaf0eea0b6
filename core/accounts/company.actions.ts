import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import {
  type AuthContext,
  authOf,
  hasPermission,
  originOf,
  requireBuyerCompany,
  requirePermission,
} from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { type AccountsArea, type AccountsContext, page } from './accounts-area.ts';
import {
  type Company,
  type CompanyChanges,
  type CompanyField,
  type CompanyFilter,
  type CompanyStatus,
  changeCompanyStatus,
  checkCompanyChanges,
  findCompany,
  insertCompany,
  listCompanies,
  lockCompany,
  PROFILE_FIELDS,
  pickChanges,
  updateCompany,
} from './companies.ts';
import {
  type AddressInput,
  type AddressKind,
  deleteAddress,
  findAddress,
  insertAddress,
  listAddresses,
  updateAddress,
} from './company-addresses.ts';
import {
  type ContactInput,
  deleteContact,
  findContact,
  insertContact,
  listContacts,
  updateContact,
} from './company-contacts.ts';
import { createRootUnit } from './units.ts';
import { insertUser, prepareUser } from './users.ts';

/** What staff may change with PATCH /api/staff/companies/:id besides the status. */
const STAFF_FIELDS: readonly CompanyField[] = ['name', ...PROFILE_FIELDS, 'tier', 'tags', 'accountManagerId'];

/** A company's fields as audit and events show them (the account manager by id). */
function snapshot(company: Company): Record<string, unknown> {
  const {
    accountManager,
    createdAt: _c,
    updatedAt: _u,
    status: _s,
    statusReason: _r,
    id: _i,
    ...fields
  } = company;
  return { ...fields, accountManagerId: accountManager?.id ?? null };
}

/** The fields whose value differs, as `{ before, after }` holding only those fields. */
function diff(
  before: Company,
  after: Company,
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const was = snapshot(before);
  const now = snapshot(after);
  const changed = Object.keys(now).filter((key) => JSON.stringify(was[key]) !== JSON.stringify(now[key]));
  return {
    before: Object.fromEntries(changed.map((key) => [key, was[key]])),
    after: Object.fromEntries(changed.map((key) => [key, now[key]])),
  };
}

/** The caller, a staff member holding `permission` (API keys and buyers are refused). */
function requireStaff(ctx: Context, permission: string): AuthContext {
  const auth = requirePermission(ctx, permission);
  if (auth.kind !== 'staff') throw new Forbidden('This operation is for staff');
  return auth;
}

/**
 * Buyer companies: staff create, find, classify and move them along their lifecycle; buyers see
 * their own and, with `company.manage`, edit its profile, addresses and contacts.
 */
export function companyArea({ platform }: AccountsContext): AccountsArea {
  const { db } = platform;

  /** Audit row and event of one change, in the change's transaction. */
  async function record(
    ctx: Context,
    tx: Transaction,
    auth: AuthContext,
    companyId: string,
    change: { action: string; entityType: string; entityId: string; details: Record<string, unknown> },
  ) {
    await recordAudit(tx, auth, originOf(ctx), { ...change, companyId });
    await writeOutbox(
      tx,
      [{ kind: 'event', name: change.action, companyId, payload: { companyId, ...change.details } }],
      originOf(ctx),
    );
  }

  /** The caller's company id, for a buyer holding `permission`. */
  function ownCompany(ctx: Context, permission: 'company.read' | 'company.manage') {
    const { auth, companyId } = requireBuyerCompany(ctx);
    requirePermission(ctx, permission);
    return { auth, companyId };
  }

  /** Profile changes of the company (buyer or staff), audited and announced as `company.updated`. */
  async function applyChanges(
    ctx: Context,
    tx: Transaction,
    auth: AuthContext,
    before: Company,
    changes: CompanyChanges,
  ): Promise<Company> {
    const company = await updateCompany(tx, before.id, changes);
    const changed = diff(before, company);
    if (Object.keys(changed.after).length) {
      await record(ctx, tx, auth, company.id, {
        action: 'company.updated',
        entityType: 'company',
        entityId: company.id,
        details: changed,
      });
    }
    return company;
  }

  return {
    actions: {
      'companies.create': {
        params: schemaRef('api/accounts/create-company-request'),
        async handler(
          ctx: Context<
            {
              name: string;
              status?: CompanyStatus;
              admin?: { email: string; displayName: string; password: string };
            } & Omit<CompanyChanges, 'name'>
          >,
        ) {
          const auth = requirePermission(ctx, 'companies.manage');
          const origin = originOf(ctx);
          await checkCompanyChanges(db, ctx.params);
          const admin = ctx.params.admin
            ? await prepareUser(db, {
                ...ctx.params.admin,
                kind: 'buyer',
                companyId: null,
                roles: ['buyer-admin'],
              })
            : undefined;
          return db.transaction(async (tx) => {
            const company = await insertCompany(tx, ctx.params);
            const root = await createRootUnit(tx, company.id, company.name);
            if (admin) {
              await insertUser(tx, {
                ...admin,
                companyId: company.id,
                unitId: root.id,
                createdBy: auth.principalId,
              });
            }
            await writeOutbox(
              tx,
              [
                {
                  kind: 'event',
                  name: 'company.created',
                  companyId: company.id,
                  payload: { companyId: company.id, name: company.name },
                },
              ],
              origin,
            );
            await recordAudit(tx, auth, origin, {
              action: 'company.created',
              entityType: 'company',
              entityId: company.id,
              companyId: company.id,
              details: { name: company.name, withAdmin: Boolean(admin) },
            });
            return company;
          });
        },
      },

      'companies.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = authOf(ctx);
          // Buyers see only their own company; anything else is "not found", never "forbidden".
          const allowed =
            (auth.kind === 'staff' && hasPermission(auth, 'companies.read')) ||
            (auth.companyId === ctx.params.id && hasPermission(auth, 'company.read'));
          const company = allowed ? await findCompany(db, ctx.params.id) : undefined;
          if (!company) throw new NotFound('Company');
          return company;
        },
      },

      'companies.list': {
        params: schemaRef('api/accounts/company-list-query'),
        async handler(ctx: Context<Omit<CompanyFilter, 'after'> & { cursor?: string }>) {
          requirePermission(ctx, 'companies.read');
          if (authOf(ctx).kind !== 'staff') throw new Forbidden();
          const { cursor, ...filter } = ctx.params;
          const items = await listCompanies(db, { ...filter, after: cursor });
          return page(items, ctx.params.limit);
        },
      },

      'companies.profile': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireStaff(ctx, 'companies.read');
          const company = await findCompany(db, ctx.params.id);
          if (!company) throw new NotFound('Company');
          const [addresses, contacts] = await Promise.all([
            listAddresses(db, company.id),
            listContacts(db, company.id),
          ]);
          return { company, addresses, contacts };
        },
      },

      'companies.update': {
        params: schemaRef('api/accounts/staff-company-update-params'),
        async handler(
          ctx: Context<{ id: string; status?: CompanyStatus; reason?: string } & CompanyChanges>,
        ) {
          const auth = requireStaff(ctx, 'companies.manage');
          const changes = pickChanges(ctx.params, STAFF_FIELDS);
          await checkCompanyChanges(db, changes);
          return db.transaction(async (tx) => {
            const before = await findCompany(tx, ctx.params.id, { forUpdate: true });
            if (!before) throw new NotFound('Company');
            let company = await applyChanges(ctx, tx, auth, before, changes);
            const { status, reason } = ctx.params;
            if (status !== undefined) {
              const from = company;
              company = await changeCompanyStatus(tx, from, status, reason ?? null);
              await record(ctx, tx, auth, company.id, {
                action: 'company.status_changed',
                entityType: 'company',
                entityId: company.id,
                details: {
                  from: from.status,
                  to: company.status,
                  reason: reason ?? null,
                  before: { status: from.status, statusReason: from.statusReason },
                  after: { status: company.status, statusReason: company.statusReason },
                },
              });
            }
            return company;
          });
        },
      },

      'company.get': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const { companyId } = ownCompany(ctx, 'company.read');
          const company = await findCompany(db, companyId);
          if (!company) throw new NotFound('Company');
          return company;
        },
      },

      'company.update': {
        params: schemaRef('api/accounts/company-update-request'),
        async handler(ctx: Context<CompanyChanges>) {
          const { auth, companyId } = ownCompany(ctx, 'company.manage');
          const changes = pickChanges(ctx.params, PROFILE_FIELDS);
          await checkCompanyChanges(db, changes);
          return db.transaction(async (tx) => {
            const before = await findCompany(tx, companyId, { forUpdate: true });
            if (!before) throw new NotFound('Company');
            return applyChanges(ctx, tx, auth, before, changes);
          });
        },
      },

      'company.addresses.list': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const { companyId } = ownCompany(ctx, 'company.read');
          return { items: await listAddresses(db, companyId) };
        },
      },

      'company.addresses.create': {
        params: schemaRef('api/accounts/company-address-request'),
        async handler(ctx: Context<AddressInput & { kind: AddressKind; street: string }>) {
          const { auth, companyId } = ownCompany(ctx, 'company.manage');
          return db.transaction(async (tx) => {
            await lockCompany(tx, companyId);
            const address = await insertAddress(tx, companyId, ctx.params);
            await record(ctx, tx, auth, companyId, {
              action: 'company.address_added',
              entityType: 'company_address',
              entityId: address.id,
              details: { address },
            });
            return address;
          });
        },
      },

      'company.addresses.update': {
        params: schemaRef('api/accounts/company-address-update-params'),
        async handler(ctx: Context<AddressInput & { id: string }>) {
          const { auth, companyId } = ownCompany(ctx, 'company.manage');
          return db.transaction(async (tx) => {
            await lockCompany(tx, companyId);
            const { id, ...changes } = ctx.params;
            const before = await findAddress(tx, companyId, id);
            if (!before) throw new NotFound('Address');
            const address = await updateAddress(tx, companyId, id, changes);
            await record(ctx, tx, auth, companyId, {
              action: 'company.address_updated',
              entityType: 'company_address',
              entityId: address.id,
              details: { before, after: address },
            });
            return address;
          });
        },
      },

      'company.addresses.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const { auth, companyId } = ownCompany(ctx, 'company.manage');
          return db.transaction(async (tx) => {
            await lockCompany(tx, companyId);
            const address = await deleteAddress(tx, companyId, ctx.params.id);
            await record(ctx, tx, auth, companyId, {
              action: 'company.address_removed',
              entityType: 'company_address',
              entityId: address.id,
              details: { address },
            });
            return { id: address.id, deleted: true };
          });
        },
      },

      'company.contacts.list': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const { companyId } = ownCompany(ctx, 'company.read');
          return { items: await listContacts(db, companyId) };
        },
      },

      'company.contacts.create': {
        params: schemaRef('api/accounts/company-contact-request'),
        async handler(ctx: Context<ContactInput & { name: string }>) {
          const { auth, companyId } = ownCompany(ctx, 'company.manage');
          return db.transaction(async (tx) => {
            await lockCompany(tx, companyId);
            const contact = await insertContact(tx, companyId, ctx.params);
            await record(ctx, tx, auth, companyId, {
              action: 'company.contact_added',
              entityType: 'company_contact',
              entityId: contact.id,
              details: { contact },
            });
            return contact;
          });
        },
      },

      'company.contacts.update': {
        params: schemaRef('api/accounts/company-contact-update-params'),
        async handler(ctx: Context<ContactInput & { id: string }>) {
          const { auth, companyId } = ownCompany(ctx, 'company.manage');
          return db.transaction(async (tx) => {
            await lockCompany(tx, companyId);
            const { id, ...changes } = ctx.params;
            const before = await findContact(tx, companyId, id);
            if (!before) throw new NotFound('Contact');
            const contact = await updateContact(tx, companyId, id, changes);
            await record(ctx, tx, auth, companyId, {
              action: 'company.contact_updated',
              entityType: 'company_contact',
              entityId: contact.id,
              details: { before, after: contact },
            });
            return contact;
          });
        },
      },

      'company.contacts.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const { auth, companyId } = ownCompany(ctx, 'company.manage');
          return db.transaction(async (tx) => {
            await lockCompany(tx, companyId);
            const contact = await deleteContact(tx, companyId, ctx.params.id);
            await record(ctx, tx, auth, companyId, {
              action: 'company.contact_removed',
              entityType: 'company_contact',
              entityId: contact.id,
              details: { contact },
            });
            return { id: contact.id, deleted: true };
          });
        },
      },
    },
    routes: [...STAFF_ROUTES, ...BUYER_ROUTES],
  };
}

const STAFF_ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/companies/:id',
    action: 'accounts.companies.get',
    operationId: 'getCompany',
    tag: 'accounts',
    summary: 'A company: staff see any, buyers only their own',
    audience: 'authenticated',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/company',
  },
  {
    method: 'GET',
    path: '/api/staff/companies',
    action: 'accounts.companies.list',
    operationId: 'listCompanies',
    tag: 'accounts',
    summary: 'Buyer companies, filtered by status, tier, tag, account manager or name (staff)',
    audience: 'staff',
    querySchema: 'api/accounts/company-list-query',
    responseSchema: 'api/accounts/company-list-response',
  },
  {
    method: 'POST',
    path: '/api/staff/companies',
    action: 'accounts.companies.create',
    operationId: 'createCompany',
    tag: 'accounts',
    summary: 'Create a buyer company with its root unit, optionally with its first admin user (staff)',
    audience: 'staff',
    requestSchema: 'api/accounts/create-company-request',
    responseSchema: 'entities/company',
    successStatus: 201,
    location: '/api/companies/{id}',
  },
  {
    method: 'GET',
    path: '/api/staff/companies/:id',
    action: 'accounts.companies.profile',
    operationId: 'getCompanyProfile',
    tag: 'accounts',
    summary: 'A company with its addresses and contacts (staff, companies.read)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'api/accounts/company-profile-response',
  },
  {
    method: 'PATCH',
    path: '/api/staff/companies/:id',
    action: 'accounts.companies.update',
    operationId: 'updateCompany',
    tag: 'accounts',
    summary:
      'Edit a company’s profile, tier, tags and account manager, or move it along its lifecycle (staff, companies.manage)',
    audience: 'staff',
    paramsSchema: 'api/accounts/staff-company-update-params',
    requestSchema: 'api/accounts/staff-company-update-params',
    responseSchema: 'entities/company',
  },
];

const BUYER_ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/company',
    action: 'accounts.company.get',
    operationId: 'getOwnCompany',
    tag: 'accounts',
    summary: "The caller's company with its profile (company.read)",
    audience: 'buyer',
    responseSchema: 'entities/company',
  },
  {
    method: 'PATCH',
    path: '/api/company',
    action: 'accounts.company.update',
    operationId: 'updateOwnCompany',
    tag: 'accounts',
    summary: "Edit the caller's company profile and tax data (company.manage)",
    audience: 'buyer',
    requestSchema: 'api/accounts/company-update-request',
    responseSchema: 'entities/company',
  },
  {
    method: 'GET',
    path: '/api/company/addresses',
    action: 'accounts.company.addresses.list',
    operationId: 'listCompanyAddresses',
    tag: 'accounts',
    summary: "The caller's company addresses (company.read)",
    audience: 'buyer',
    responseSchema: 'api/accounts/company-address-list-response',
  },
  {
    method: 'POST',
    path: '/api/company/addresses',
    action: 'accounts.company.addresses.create',
    operationId: 'createCompanyAddress',
    tag: 'accounts',
    summary: 'Add an address; a default one replaces the previous default of its kind (company.manage)',
    audience: 'buyer',
    requestSchema: 'api/accounts/company-address-request',
    responseSchema: 'entities/company-address',
    successStatus: 201,
    location: '/api/company/addresses/{id}',
  },
  {
    method: 'PATCH',
    path: '/api/company/addresses/:id',
    action: 'accounts.company.addresses.update',
    operationId: 'updateCompanyAddress',
    tag: 'accounts',
    summary: 'Change an address or make it the default of its kind (company.manage)',
    audience: 'buyer',
    paramsSchema: 'api/accounts/company-address-update-params',
    requestSchema: 'api/accounts/company-address-update-params',
    responseSchema: 'entities/company-address',
  },
  {
    method: 'DELETE',
    path: '/api/company/addresses/:id',
    action: 'accounts.company.addresses.delete',
    operationId: 'deleteCompanyAddress',
    tag: 'accounts',
    summary: 'Remove an address (company.manage)',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
  },
  {
    method: 'GET',
    path: '/api/company/contacts',
    action: 'accounts.company.contacts.list',
    operationId: 'listCompanyContacts',
    tag: 'accounts',
    summary: "The caller's company contacts, the primary one first (company.read)",
    audience: 'buyer',
    responseSchema: 'api/accounts/company-contact-list-response',
  },
  {
    method: 'POST',
    path: '/api/company/contacts',
    action: 'accounts.company.contacts.create',
    operationId: 'createCompanyContact',
    tag: 'accounts',
    summary: 'Add a contact; a primary one replaces the previous primary (company.manage)',
    audience: 'buyer',
    requestSchema: 'api/accounts/company-contact-request',
    responseSchema: 'entities/company-contact',
    successStatus: 201,
    location: '/api/company/contacts/{id}',
  },
  {
    method: 'PATCH',
    path: '/api/company/contacts/:id',
    action: 'accounts.company.contacts.update',
    operationId: 'updateCompanyContact',
    tag: 'accounts',
    summary: 'Change a contact or make it the primary one (company.manage)',
    audience: 'buyer',
    paramsSchema: 'api/accounts/company-contact-update-params',
    requestSchema: 'api/accounts/company-contact-update-params',
    responseSchema: 'entities/company-contact',
  },
  {
    method: 'DELETE',
    path: '/api/company/contacts/:id',
    action: 'accounts.company.contacts.delete',
    operationId: 'deleteCompanyContact',
    tag: 'accounts',
    summary: 'Remove a contact (company.manage)',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
  },
];
