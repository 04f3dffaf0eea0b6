import { randomUUID } from 'node:crypto';
import { DEMO_STAFF } from './accounts/demo-data.ts';
import { hubModules } from './hub-modules.ts';
import { AccessTokens } from './platform/auth/access-tokens.ts';
import type { RouteSpec } from './platform/http/route-spec.ts';
import { http, logInAs, startTestHub, type TestHub } from './platform/testing/start-test-hub.ts';

/**
 * Total tenant isolation, tried on every buyer-facing route of the buyer domains: company B's
 * administrator (who holds every buyer permission) aims each route at company A's records. Every
 * attempt must answer 404 — the same as for an id that does not exist — lists must not show A's
 * records, and A's rows must be byte-for-byte unchanged afterwards.
 */
const DOMAINS = [
  'accounts',
  'spending',
  'approvals',
  'catalog',
  'carts',
  'pricing',
  'credit',
  'receivables',
  'payments',
  'inventory',
  'quotes',
  'orders',
  'workflows',
  'contracts',
];

/** Routes that only ever answer about the caller themself: nothing of another tenant to aim at. */
const CALLER_ONLY = new Set(['getCurrentPrincipal', 'listPermissions']);

interface Fixture {
  companyId: string;
  token: string;
  unitId: string;
  childUnitId: string;
  userId: string;
  roleKey: string;
  addressId: string;
  contactId: string;
  limitId: string;
  budgetId: string;
  ruleId: string;
  requestId: string;
  listId: string;
  cartId: string;
  invoiceId: string;
  invoiceRequestId: string;
  paymentId: string;
  quoteId: string;
  /** Company A's order (pending approval, with a PO document) and an unattached PO document; set in beforeAll. */
  orderId: string;
  poDocumentId: string;
  /** Company A's contract for that order; set in beforeAll. */
  contractId: string;
}

const cny = (yuan: number) => ({ amountMinor: String(yuan * 100), currency: 'CNY' });

interface Probe {
  method: RouteSpec['method'];
  path: string;
  body?: unknown;
  /** A file body (an upload route) instead of JSON, with its media type. */
  file?: { contentType: string; content: string };
  /** `not-found`: must answer 404. `list`: must answer 200 without any of A's ids. */
  expect: 'not-found' | 'list';
}

let t: TestHub;
let a: Fixture;
let b: Fixture;
/** Company A's contract price list (客户专属价) for a public SKU that B may see and price too. */
let aContract: { id: string; code: string; sku: string };

async function createCompany(staff: string, name: string, email: string): Promise<Fixture> {
  const company = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name,
      status: 'active',
      admin: { email, displayName: `${name} admin`, password: 'admin-password-1' },
    },
  });
  const token = await logInAs(t.baseUrl, email, 'admin-password-1');
  const units = await http(t.baseUrl, 'GET', '/api/units', { token });
  const rootId = units.body.items[0].id as string;
  const unit = await http(t.baseUrl, 'POST', '/api/units', {
    token,
    body: { parentId: rootId, name: `${name} R&D`, code: 'RD' },
  });
  const child = await http(t.baseUrl, 'POST', '/api/units', {
    token,
    body: { parentId: unit.body.id, name: `${name} Lab` },
  });
  const role = await http(t.baseUrl, 'POST', '/api/roles', {
    token,
    body: { key: 'site-buyer', name: 'Site buyer', grants: [{ permission: 'orders.place', scope: 'own' }] },
  });
  const user = await http(t.baseUrl, 'POST', '/api/users', {
    token,
    body: {
      email: `p.${email}`,
      displayName: 'Purchaser',
      roles: ['purchaser'],
      unitId: unit.body.id,
      password: 'purchaser-pass-1',
    },
  });
  const address = await http(t.baseUrl, 'POST', '/api/company/addresses', {
    token,
    body: { kind: 'shipping', street: `${name} street 1`, isDefault: true },
  });
  const contact = await http(t.baseUrl, 'POST', '/api/company/contacts', {
    token,
    body: { name: `${name} buyer`, isPrimary: true },
  });
  const limit = await http(t.baseUrl, 'POST', '/api/spending-limits', {
    token,
    body: { subject: { type: 'unit', id: unit.body.id }, per: 'month', amount: cny(50_000), mode: 'block' },
  });
  const budget = await http(t.baseUrl, 'POST', '/api/budgets', {
    token,
    body: {
      costCentre: 'RD-01',
      period: 'year',
      periodStart: '2026-01-01',
      amount: cny(1_000_000),
      mode: 'warn',
    },
  });
  const rule = await http(t.baseUrl, 'POST', '/api/approval-rules', {
    token,
    body: {
      name: 'Everything over ¥1',
      priority: 1,
      active: true,
      condition: { field: 'orderTotal', op: 'gt', value: cny(1) },
      steps: [{ name: 'Admin', approvers: { roles: ['buyer-admin'] }, required: 1 }],
    },
  });
  const list = await http(t.baseUrl, 'POST', '/api/catalog/lists', {
    token,
    body: { name: `${name} spares` },
  });
  const cart = await http(t.baseUrl, 'POST', '/api/carts', { token, body: { name: `${name} cart` } });
  const quote = await http(t.baseUrl, 'POST', '/api/quotes', {
    token,
    body: { lines: [{ description: `${name} custom part`, quantity: 2 }] },
  });
  const credit = await http(t.baseUrl, 'PUT', `/api/staff/credit/accounts/${company.body.id}`, {
    token: staff,
    body: { limit: cny(100_000), terms: { kind: 'net', days: 30 } },
  });
  const invoice = await http(t.baseUrl, 'POST', '/api/staff/receivables/invoices', {
    token: staff,
    body: { companyId: company.body.id, reference: `order:${randomUUID()}`, amount: cny(1_000) },
  });
  const invoiceRequest = await http(t.baseUrl, 'POST', '/api/invoice-requests', {
    token,
    body: {
      invoiceId: invoice.body.id,
      type: 'normal',
      title: name,
      taxNumber: '91440300708461136T',
      email: `finance@${name.toLowerCase().replace(/\W/g, '')}.example`,
    },
  });
  const payment = await http(t.baseUrl, 'POST', '/api/staff/payments/receipts', {
    token: staff,
    body: {
      companyId: company.body.id,
      amount: cny(300),
      receivedOn: '2026-03-01',
      bankReference: randomUUID(),
    },
  });
  if (credit.status !== 200) throw new Error(`fixture: ${credit.status} ${JSON.stringify(credit.body)}`);
  const share = await http(t.baseUrl, 'POST', `/api/carts/${cart.body.id}/shares`, {
    token,
    body: { userId: user.body.user.id, role: 'edit' },
  });
  if (share.status !== 200) throw new Error(`fixture: ${share.status} ${JSON.stringify(share.body)}`);
  for (const answer of [
    company,
    unit,
    child,
    role,
    user,
    address,
    contact,
    limit,
    budget,
    rule,
    list,
    cart,
    invoice,
    invoiceRequest,
    payment,
  ]) {
    if (answer.status !== 201) throw new Error(`fixture: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return {
    companyId: company.body.id,
    token,
    unitId: unit.body.id,
    childUnitId: child.body.id,
    userId: user.body.user.id,
    roleKey: role.body.key,
    addressId: address.body.id,
    contactId: contact.body.id,
    limitId: limit.body.id,
    budgetId: budget.body.id,
    ruleId: rule.body.id,
    requestId: await requestApproval(`p.${email}`),
    listId: list.body.id,
    cartId: cart.body.id,
    invoiceId: invoice.body.id,
    invoiceRequestId: invoiceRequest.body.id,
    paymentId: payment.body.id,
    quoteId: quote.body.id,
    orderId: '',
    poDocumentId: '',
    contractId: '',
  };
}

/** An approval request by a purchaser, as orders will make them (an internal mesh action). */
async function requestApproval(purchaserEmail: string): Promise<string> {
  const token = await logInAs(t.baseUrl, purchaserEmail, 'purchaser-pass-1');
  const auth = await new AccessTokens(t.hub.platform.config.jwtSecret, 60).verify(token);
  const request = (await t.hub.broker.call(
    'approvals.request',
    {
      subject: { type: 'order', id: randomUUID() },
      snapshot: {
        total: cny(500),
        lines: [{ sku: 'M8-BOLT', categoryIds: ['fasteners'], quantity: 100, lineTotal: cny(500) }],
      },
    },
    { meta: { auth } },
  )) as { id: string; status: string };
  if (request.status !== 'pending') throw new Error(`fixture: approval request ${JSON.stringify(request)}`);
  return request.id;
}

/** Company A's records as B would aim at them, per operation; every buyer route must be here. */
function probes(target: Fixture, caller: Fixture): Record<string, Probe[]> {
  return {
    getCompany: [{ method: 'GET', path: `/api/companies/${target.companyId}`, expect: 'not-found' }],
    listUnits: [{ method: 'GET', path: '/api/units', expect: 'list' }],
    getUnit: [{ method: 'GET', path: `/api/units/${target.unitId}`, expect: 'not-found' }],
    createUnit: [
      {
        method: 'POST',
        path: '/api/units',
        body: { parentId: target.unitId, name: 'Intruder' },
        expect: 'not-found',
      },
    ],
    updateUnit: [
      {
        method: 'PATCH',
        path: `/api/units/${target.unitId}`,
        body: { name: 'Renamed' },
        expect: 'not-found',
      },
    ],
    moveUnit: [
      {
        method: 'POST',
        path: `/api/units/${target.childUnitId}/move`,
        body: { parentId: caller.unitId },
        expect: 'not-found',
      },
      {
        method: 'POST',
        path: `/api/units/${caller.childUnitId}/move`,
        body: { parentId: target.unitId },
        expect: 'not-found',
      },
    ],
    deleteUnit: [{ method: 'DELETE', path: `/api/units/${target.childUnitId}`, expect: 'not-found' }],
    listCompanyUsers: [
      { method: 'GET', path: '/api/users', expect: 'list' },
      { method: 'GET', path: `/api/users?unitId=${target.unitId}`, expect: 'list' },
    ],
    getCompanyUser: [{ method: 'GET', path: `/api/users/${target.userId}`, expect: 'not-found' }],
    createCompanyUser: [
      {
        method: 'POST',
        path: '/api/users',
        body: { email: 'intruder@b.example', displayName: 'Intruder', roles: [], unitId: target.unitId },
        expect: 'not-found',
      },
    ],
    updateCompanyUser: [
      {
        method: 'PATCH',
        path: `/api/users/${target.userId}`,
        body: { displayName: 'Hijacked' },
        expect: 'not-found',
      },
      {
        method: 'PATCH',
        path: `/api/users/${caller.userId}`,
        body: { unitId: target.unitId },
        expect: 'not-found',
      },
    ],
    disableCompanyUser: [
      { method: 'POST', path: `/api/users/${target.userId}/disable`, expect: 'not-found' },
    ],
    enableCompanyUser: [{ method: 'POST', path: `/api/users/${target.userId}/enable`, expect: 'not-found' }],
    requestPasswordReset: [
      { method: 'POST', path: `/api/users/${target.userId}/password-reset`, expect: 'not-found' },
    ],
    listRoles: [{ method: 'GET', path: '/api/roles', expect: 'list' }],
    getRole: [{ method: 'GET', path: `/api/roles/only-in-a`, expect: 'not-found' }],
    createRole: [],
    updateRole: [
      { method: 'PATCH', path: '/api/roles/only-in-a', body: { name: 'Hijacked' }, expect: 'not-found' },
    ],
    deleteRole: [{ method: 'DELETE', path: '/api/roles/only-in-a', expect: 'not-found' }],
    getOwnCompany: [{ method: 'GET', path: '/api/company', expect: 'list' }],
    // Creating and updating the caller's own company profile names no other tenant's record.
    updateOwnCompany: [],
    createCompanyAddress: [],
    createCompanyContact: [],
    listCompanyAddresses: [{ method: 'GET', path: '/api/company/addresses', expect: 'list' }],
    updateCompanyAddress: [
      {
        method: 'PATCH',
        path: `/api/company/addresses/${target.addressId}`,
        body: { label: 'Hijacked', isDefault: true },
        expect: 'not-found',
      },
    ],
    deleteCompanyAddress: [
      { method: 'DELETE', path: `/api/company/addresses/${target.addressId}`, expect: 'not-found' },
    ],
    listCompanyContacts: [{ method: 'GET', path: '/api/company/contacts', expect: 'list' }],
    updateCompanyContact: [
      {
        method: 'PATCH',
        path: `/api/company/contacts/${target.contactId}`,
        body: { name: 'Hijacked', isPrimary: true },
        expect: 'not-found',
      },
    ],
    deleteCompanyContact: [
      { method: 'DELETE', path: `/api/company/contacts/${target.contactId}`, expect: 'not-found' },
    ],
    listSpendingLimits: [
      { method: 'GET', path: '/api/spending-limits', expect: 'list' },
      { method: 'GET', path: `/api/spending-limits?subjectId=${target.unitId}`, expect: 'list' },
    ],
    createSpendingLimit: [
      {
        method: 'POST',
        path: '/api/spending-limits',
        body: { subject: { type: 'unit', id: target.unitId }, per: 'order', amount: cny(1), mode: 'warn' },
        expect: 'not-found',
      },
      {
        method: 'POST',
        path: '/api/spending-limits',
        body: { subject: { type: 'user', id: target.userId }, per: 'order', amount: cny(1), mode: 'warn' },
        expect: 'not-found',
      },
    ],
    getSpendingLimit: [
      { method: 'GET', path: `/api/spending-limits/${target.limitId}`, expect: 'not-found' },
    ],
    updateSpendingLimit: [
      {
        method: 'PATCH',
        path: `/api/spending-limits/${target.limitId}`,
        body: { mode: 'warn' },
        expect: 'not-found',
      },
    ],
    deleteSpendingLimit: [
      { method: 'DELETE', path: `/api/spending-limits/${target.limitId}`, expect: 'not-found' },
    ],
    listBudgets: [
      { method: 'GET', path: '/api/budgets', expect: 'list' },
      { method: 'GET', path: '/api/budgets?costCentre=RD-01', expect: 'list' },
    ],
    createBudget: [
      {
        method: 'POST',
        path: '/api/budgets',
        body: {
          costCentre: 'RD-02',
          period: 'year',
          periodStart: '2026-01-01',
          amount: cny(1),
          mode: 'warn',
          unitId: target.unitId,
        },
        expect: 'not-found',
      },
    ],
    getBudget: [{ method: 'GET', path: `/api/budgets/${target.budgetId}`, expect: 'not-found' }],
    updateBudget: [
      {
        method: 'PATCH',
        path: `/api/budgets/${target.budgetId}`,
        body: { amount: cny(1) },
        expect: 'not-found',
      },
    ],
    deleteBudget: [{ method: 'DELETE', path: `/api/budgets/${target.budgetId}`, expect: 'not-found' }],
    listApprovalRules: [{ method: 'GET', path: '/api/approval-rules', expect: 'list' }],
    // A rule of B's own; approvers it names outside B are dropped when the rule is used.
    createApprovalRule: [],
    getApprovalRule: [{ method: 'GET', path: `/api/approval-rules/${target.ruleId}`, expect: 'not-found' }],
    updateApprovalRule: [
      {
        method: 'PATCH',
        path: `/api/approval-rules/${target.ruleId}`,
        body: { active: false },
        expect: 'not-found',
      },
    ],
    deleteApprovalRule: [
      { method: 'DELETE', path: `/api/approval-rules/${target.ruleId}`, expect: 'not-found' },
    ],
    listApprovalRequests: [{ method: 'GET', path: '/api/approvals', expect: 'list' }],
    listPendingApprovals: [{ method: 'GET', path: '/api/approvals/pending', expect: 'list' }],
    // The caller's own delegation (404 while they have none): names nothing of another tenant.
    getApprovalDelegation: [],
    setApprovalDelegation: [
      {
        method: 'PUT',
        path: '/api/approvals/delegation',
        body: { delegateId: target.userId, validUntil: new Date(Date.now() + 86_400_000).toISOString() },
        expect: 'not-found',
      },
    ],
    // Removes the caller's own delegation: names nothing of another tenant.
    removeApprovalDelegation: [],
    getApprovalRequest: [{ method: 'GET', path: `/api/approvals/${target.requestId}`, expect: 'not-found' }],
    decideApproval: [
      {
        method: 'POST',
        path: `/api/approvals/${target.requestId}/decisions`,
        body: { decision: 'approve' },
        expect: 'not-found',
      },
    ],
    listProductLists: [{ method: 'GET', path: '/api/catalog/lists', expect: 'list' }],
    // A list of B's own: names nothing of another tenant.
    createProductList: [],
    getProductList: [{ method: 'GET', path: `/api/catalog/lists/${target.listId}`, expect: 'not-found' }],
    exportProductList: [
      { method: 'GET', path: `/api/catalog/lists/${target.listId}/export?format=xlsx`, expect: 'not-found' },
      { method: 'GET', path: `/api/catalog/lists/${target.listId}/export?format=pdf`, expect: 'not-found' },
    ],
    renameProductList: [
      {
        method: 'PATCH',
        path: `/api/catalog/lists/${target.listId}`,
        body: { name: 'Hijacked' },
        expect: 'not-found',
      },
    ],
    deleteProductList: [
      { method: 'DELETE', path: `/api/catalog/lists/${target.listId}`, expect: 'not-found' },
    ],
    putProductListItem: [
      {
        method: 'POST',
        path: `/api/catalog/lists/${target.listId}/items`,
        body: { skuId: randomUUID(), quantity: 1 },
        expect: 'not-found',
      },
    ],
    removeProductListItem: [
      {
        method: 'DELETE',
        path: `/api/catalog/lists/${target.listId}/items/${randomUUID()}`,
        expect: 'not-found',
      },
    ],
    listOrders: [
      { method: 'GET', path: '/api/orders', expect: 'list' },
      { method: 'GET', path: '/api/orders?status=pending_approval&q=PO-ALPHA', expect: 'list' },
    ],
    getOrder: [{ method: 'GET', path: `/api/orders/${target.orderId}`, expect: 'not-found' }],
    cancelOrder: [
      {
        method: 'POST',
        path: `/api/orders/${target.orderId}/cancel`,
        body: { reason: 'hijacked' },
        expect: 'not-found',
      },
    ],
    reorder: [
      {
        method: 'POST',
        path: `/api/orders/${target.orderId}/reorder`,
        body: { createCart: true },
        expect: 'not-found',
      },
    ],
    getOrderPoDocument: [
      { method: 'GET', path: `/api/orders/${target.orderId}/po-document`, expect: 'not-found' },
    ],
    getOrderDocument: [
      { method: 'GET', path: `/api/orders/${target.orderId}/documents/sales-order`, expect: 'not-found' },
    ],
    listContracts: [{ method: 'GET', path: '/api/contracts', expect: 'list' }],
    getContract: [{ method: 'GET', path: `/api/contracts/${target.contractId}`, expect: 'not-found' }],
    downloadContract: [
      { method: 'GET', path: `/api/contracts/${target.contractId}/document`, expect: 'not-found' },
    ],
    // An upload is the caller's own; naming A's document at checkout is tried in its own test below.
    uploadPoDocument: [],
    placeOrder: [
      {
        method: 'POST',
        path: '/api/orders',
        body: { cartId: target.cartId, paymentMethod: 'credit' },
        expect: 'not-found',
      },
    ],
    listCarts: [{ method: 'GET', path: '/api/carts', expect: 'list' }],
    // A cart of B's own: names nothing of another tenant.
    createCart: [],
    getCurrentCart: [{ method: 'GET', path: '/api/carts/current', expect: 'list' }],
    getCart: [{ method: 'GET', path: `/api/carts/${target.cartId}`, expect: 'not-found' }],
    updateCart: [
      {
        method: 'PATCH',
        path: `/api/carts/${target.cartId}`,
        body: { version: 1, name: 'Hijacked' },
        expect: 'not-found',
      },
    ],
    deleteCart: [{ method: 'DELETE', path: `/api/carts/${target.cartId}`, expect: 'not-found' }],
    acknowledgeCartPrices: [
      {
        method: 'POST',
        path: `/api/carts/${target.cartId}/acknowledge-prices`,
        body: { version: 1 },
        expect: 'not-found',
      },
    ],
    addCartLine: [
      {
        method: 'POST',
        path: `/api/carts/${target.cartId}/lines`,
        body: { code: 'M8-BOLT', quantity: 1 },
        expect: 'not-found',
      },
    ],
    updateCartLine: [
      {
        method: 'PATCH',
        path: `/api/carts/${target.cartId}/lines/${randomUUID()}`,
        body: { version: 1, quantity: 2 },
        expect: 'not-found',
      },
    ],
    removeCartLine: [
      {
        method: 'DELETE',
        path: `/api/carts/${target.cartId}/lines/${randomUUID()}?version=1`,
        expect: 'not-found',
      },
    ],
    addListToCart: [
      {
        method: 'POST',
        path: `/api/carts/${target.cartId}/lines/from-list`,
        body: { listId: caller.listId },
        expect: 'not-found',
      },
      {
        method: 'POST',
        path: `/api/carts/${caller.cartId}/lines/from-list`,
        body: { listId: target.listId },
        expect: 'not-found',
      },
    ],
    quickOrder: [
      {
        method: 'POST',
        path: `/api/carts/${target.cartId}/quick-order`,
        body: { text: 'M8-BOLT 1' },
        expect: 'not-found',
      },
    ],
    quickOrderFromFile: [
      {
        method: 'POST',
        path: `/api/carts/${target.cartId}/quick-order/file`,
        file: { contentType: 'text/csv', content: 'M8-BOLT,1\n' },
        expect: 'not-found',
      },
    ],
    listCartShares: [{ method: 'GET', path: `/api/carts/${target.cartId}/shares`, expect: 'not-found' }],
    shareCart: [
      {
        method: 'POST',
        path: `/api/carts/${target.cartId}/shares`,
        body: { userId: caller.userId, role: 'edit' },
        expect: 'not-found',
      },
      {
        method: 'POST',
        path: `/api/carts/${caller.cartId}/shares`,
        body: { userId: target.userId, role: 'view' },
        expect: 'not-found',
      },
    ],
    getCreditAccount: [{ method: 'GET', path: '/api/credit/account', expect: 'list' }],
    listCreditLedger: [{ method: 'GET', path: '/api/credit/ledger', expect: 'list' }],
    listInvoices: [{ method: 'GET', path: '/api/invoices', expect: 'list' }],
    getInvoice: [{ method: 'GET', path: `/api/invoices/${target.invoiceId}`, expect: 'not-found' }],
    createInvoiceRequest: [
      {
        method: 'POST',
        path: '/api/invoice-requests',
        body: {
          invoiceId: target.invoiceId,
          type: 'normal',
          title: 'Intruder',
          taxNumber: '91440300708461136T',
          email: 'intruder@b.example',
        },
        expect: 'not-found',
      },
    ],
    listInvoiceRequests: [{ method: 'GET', path: '/api/invoice-requests', expect: 'list' }],
    getInvoiceRequest: [
      { method: 'GET', path: `/api/invoice-requests/${target.invoiceRequestId}`, expect: 'not-found' },
    ],
    downloadIssuedInvoice: [
      { method: 'GET', path: `/api/invoice-requests/${target.invoiceRequestId}/file`, expect: 'not-found' },
    ],
    listPayments: [{ method: 'GET', path: '/api/payments', expect: 'list' }],
    getPayment: [{ method: 'GET', path: `/api/payments/${target.paymentId}`, expect: 'not-found' }],
    revokeCartShare: [
      {
        method: 'DELETE',
        path: `/api/carts/${target.cartId}/shares/${target.userId}`,
        expect: 'not-found',
      },
    ],
    // Stock is not a tenant's record; the answer must still name nothing of A's.
    requestQuote: [
      { method: 'POST', path: '/api/quotes', body: { fromCartId: target.cartId }, expect: 'not-found' },
    ],
    listQuotes: [{ method: 'GET', path: `/api/quotes?companyId=${target.companyId}`, expect: 'list' }],
    getQuote: [{ method: 'GET', path: `/api/quotes/${target.quoteId}`, expect: 'not-found' }],
    counterQuote: [
      {
        method: 'POST',
        path: `/api/quotes/${target.quoteId}/counter`,
        body: { version: 1, lines: [{ lineNo: 1, targetUnitPrice: cny(1) }] },
        expect: 'not-found',
      },
    ],
    acceptQuote: [
      {
        method: 'POST',
        path: `/api/quotes/${target.quoteId}/accept`,
        body: { version: 1 },
        expect: 'not-found',
      },
    ],
    rejectQuote: [
      {
        method: 'POST',
        path: `/api/quotes/${target.quoteId}/reject`,
        body: { version: 1 },
        expect: 'not-found',
      },
    ],
    cancelQuote: [
      { method: 'POST', path: `/api/quotes/${target.quoteId}/cancel`, body: {}, expect: 'not-found' },
    ],
    attachQuoteFile: [
      {
        method: 'POST',
        path: `/api/quotes/${target.quoteId}/attachments`,
        file: { contentType: 'application/pdf', content: '%PDF-1.4\n%%EOF\n' },
        expect: 'not-found',
      },
    ],
    getQuoteFile: [
      {
        method: 'GET',
        path: `/api/quotes/${target.quoteId}/attachments/${randomUUID()}`,
        expect: 'not-found',
      },
    ],
    getStockAvailability: [
      { method: 'GET', path: `/api/inventory/availability?skuIds=${randomUUID()}`, expect: 'list' },
    ],
  };
}

/** A fingerprint of every row of company A in the buyer domains' tables. */
async function fingerprintOf(companyId: string): Promise<Record<string, string>> {
  const db = t.hub.platform.db;
  const { rows: tables } = await db.query(
    `SELECT table_schema, table_name FROM information_schema.columns
      WHERE column_name = 'company_id' AND table_schema = ANY($1::text[]) ORDER BY 1, 2`,
    [DOMAINS],
  );
  const result: Record<string, string> = {};
  for (const { table_schema, table_name } of tables) {
    const { rows } = await db.query(
      `SELECT md5(coalesce(string_agg(row_to_json(x)::text, '|' ORDER BY row_to_json(x)::text), '')) AS digest
         FROM ${table_schema}.${table_name} x WHERE company_id = $1`,
      [companyId],
    );
    result[`${table_schema}.${table_name}`] = rows[0]!.digest;
  }
  return result;
}

const idsOf = (target: Fixture) => [
  target.companyId,
  target.unitId,
  target.childUnitId,
  target.userId,
  target.addressId,
  target.contactId,
  target.limitId,
  target.budgetId,
  target.ruleId,
  target.requestId,
  target.listId,
  target.cartId,
  target.invoiceId,
  target.invoiceRequestId,
  target.paymentId,
  target.quoteId,
  target.orderId,
  target.poDocumentId,
  target.contractId,
];

/** A public SKU priced 10.00 for everyone and 5.00 in company A's contract list. */
async function contractPrices(staff: string, companyId: string) {
  const category = await http(t.baseUrl, 'POST', '/api/staff/catalog/categories', {
    token: staff,
    body: { slug: 'iso', nameZh: '隔离', nameEn: 'Isolation' },
  });
  const product = await http(t.baseUrl, 'POST', '/api/staff/catalog/products', {
    token: staff,
    body: {
      nameZh: '螺栓',
      nameEn: 'Bolt',
      categoryId: category.body.id,
      unitOfMeasure: 'pcs',
      isPublic: true,
      skus: [{ code: 'ISO-BOLT' }],
    },
  });
  await http(t.baseUrl, 'POST', `/api/staff/catalog/products/${product.body.id}/lifecycle`, {
    token: staff,
    body: { lifecycle: 'active' },
  });
  const lists: Record<string, { id: string; code: string }> = {};
  for (const [code, assignment, amount] of [
    ['ISO-STANDARD', { level: 'default' }, '1000'],
    ['ISO-A-CONTRACT', { level: 'company', companyId }, '500'],
  ] as const) {
    const list = await http(t.baseUrl, 'POST', '/api/staff/pricing/price-lists', {
      token: staff,
      body: { code, name: code, currency: 'CNY' },
    });
    const assigned = await http(
      t.baseUrl,
      'POST',
      `/api/staff/pricing/price-lists/${list.body.id}/assignments`,
      {
        token: staff,
        body: assignment,
      },
    );
    const priced = await http(t.baseUrl, 'POST', `/api/staff/pricing/price-lists/${list.body.id}/prices`, {
      token: staff,
      body: { prices: [{ skuCode: 'ISO-BOLT', tiers: [{ minQty: 1, amountMinor: amount }] }] },
    });
    for (const answer of [list, assigned, priced]) {
      if (answer.status >= 300) throw new Error(`fixture: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    lists[code] = list.body;
  }
  return { ...lists['ISO-A-CONTRACT']!, sku: 'ISO-BOLT' };
}

beforeAll(async () => {
  t = await startTestHub();
  const staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  a = await createCompany(staff, 'Alpha Co', 'admin@alpha.example');
  b = await createCompany(staff, 'Beta Co', 'admin@beta.example');
  const onlyInA = await http(t.baseUrl, 'POST', '/api/roles', {
    token: a.token,
    body: { key: 'only-in-a', name: 'Only in A', grants: [{ permission: 'orders.read', scope: 'own' }] },
  });
  expect(onlyInA.status).toBe(201);
  aContract = await contractPrices(staff, a.companyId);
  await orderOfA(staff);
  await contractOfA(staff);
}, 60_000);

/** A contract generated by staff for company A's order. */
async function contractOfA(staff: string) {
  const template = await http(t.baseUrl, 'POST', '/api/staff/contract-templates', {
    token: staff,
    body: {
      code: 'iso',
      name: '隔离',
      title: '合同 {{subject.number}}',
      body: '买方 {{buyer.name}}\n{{lines}}',
    },
  });
  const contract = await http(t.baseUrl, 'POST', '/api/staff/contracts', {
    token: staff,
    body: { templateId: template.body.id, subject: { type: 'order', id: a.orderId }, signer: { name: '甲' } },
  });
  for (const answer of [template, contract]) {
    if (answer.status >= 300) throw new Error(`fixture: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  a.contractId = contract.body.id;
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

async function uploadPoDocument(token: string): Promise<string> {
  const response = await fetch(`${t.baseUrl}/api/orders/po-documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' },
    body: PDF,
  });
  const body = (await response.json()) as { id: string };
  if (response.status !== 201) throw new Error(`fixture: ${response.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** Company A's order of the contract-priced SKU, waiting for A's approval rule, with its PO document. */
async function orderOfA(staff: string) {
  const warehouse = await http(t.baseUrl, 'POST', '/api/staff/inventory/warehouses', {
    token: staff,
    body: { code: 'ISO-WH', name: '隔离仓' },
  });
  const received = await http(t.baseUrl, 'POST', '/api/staff/inventory/receipts', {
    token: staff,
    body: { warehouseId: warehouse.body.id, lines: [{ skuCode: aContract.sku, quantity: 100 }] },
  });
  const placed = await http(t.baseUrl, 'POST', '/api/orders', {
    token: a.token,
    body: {
      lines: [{ code: aContract.sku, quantity: 2 }],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
      poNumber: 'PO-ALPHA-1',
      poDocumentId: await uploadPoDocument(a.token),
    },
  });
  for (const answer of [warehouse, received, placed]) {
    if (answer.status >= 300) throw new Error(`fixture: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  expect(placed.body.order.status).toBe('pending_approval');
  a.orderId = placed.body.order.id;
  a.poDocumentId = await uploadPoDocument(a.token);
}
afterAll(async () => {
  await t?.stop();
});

test('every buyer route of the buyer domains has isolation probes', () => {
  const routes = hubModules
    .filter((m) => DOMAINS.includes(m.name))
    .flatMap((m) => m.routes ?? [])
    .filter((r) => r.audience === 'buyer' || r.audience === 'authenticated')
    .map((r) => r.operationId)
    .filter((id) => !CALLER_ONLY.has(id));
  expect(routes.sort()).toEqual(Object.keys(probes(a, b)).sort());
});

test("company B's administrator cannot read or change anything of company A", async () => {
  const before = await fingerprintOf(a.companyId);
  const failures: string[] = [];
  for (const [operationId, list] of Object.entries(probes(a, b))) {
    for (const probe of list) {
      const answer = await http(t.baseUrl, probe.method, probe.path, {
        token: b.token,
        body: probe.body,
        ...(probe.file
          ? { rawBody: probe.file.content, headers: { 'content-type': probe.file.contentType } }
          : {}),
      });
      if (probe.expect === 'not-found' && answer.status !== 404) {
        failures.push(
          `${operationId} ${probe.method} ${probe.path}: ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      }
      if (probe.expect === 'list') {
        const leaked = idsOf(a).filter((id) => JSON.stringify(answer.body).includes(id));
        if (answer.status !== 200 || leaked.length) {
          failures.push(`${operationId} ${probe.path}: ${answer.status}, leaked ${leaked.join(', ')}`);
        }
      }
    }
  }
  expect(failures).toEqual([]);
  expect(await fingerprintOf(a.companyId)).toEqual(before);
});

test("B can neither attach A's PO document to its own order nor reach orders through staff routes", async () => {
  const before = await fingerprintOf(a.companyId);
  const placed = await http(t.baseUrl, 'POST', '/api/orders', {
    token: b.token,
    body: {
      lines: [{ code: aContract.sku, quantity: 1 }],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
      poDocumentId: a.poDocumentId,
    },
  });
  expect(placed.status).toBe(422);
  expect(placed.body.type).toBe('https://hub.local/problems/po-document-not-usable');
  for (const path of [
    `/api/staff/orders/${a.orderId}`,
    `/api/staff/orders/${a.orderId}/po-document`,
    `/api/staff/orders?companyId=${a.companyId}`,
  ]) {
    expect([path, (await http(t.baseUrl, 'GET', path, { token: b.token })).status]).toEqual([path, 403]);
  }
  expect(await fingerprintOf(a.companyId)).toEqual(before);
});

test("a 404 for A's records reads exactly like a 404 for records that do not exist", async () => {
  const foreign = await http(t.baseUrl, 'GET', `/api/users/${a.userId}`, { token: b.token });
  const missing = await http(t.baseUrl, 'GET', '/api/users/00000000-0000-4000-8000-000000000000', {
    token: b.token,
  });
  expect({ ...foreign.body, instance: undefined, requestId: undefined }).toEqual({
    ...missing.body,
    instance: undefined,
    requestId: undefined,
  });
});

test("company A's contract prices never apply to, nor show for, company B", async () => {
  const price = (token: string) =>
    http(t.baseUrl, 'POST', '/api/pricing/price', {
      token,
      body: { lines: [{ code: aContract.sku, quantity: 1 }], explain: true },
    });
  const forB = await price(b.token);
  expect(forB.status).toBe(200);
  expect(forB.body.lines[0]).toMatchObject({
    priceListCode: 'ISO-STANDARD',
    unitPrice: { amountMinor: '1000' },
  });
  expect(JSON.stringify(forB.body)).not.toContain(aContract.id);
  expect(JSON.stringify(forB.body)).not.toContain(aContract.code);
  const forA = await price(a.token);
  expect(forA.body.lines[0]).toMatchObject({
    priceListCode: aContract.code,
    unitPrice: { amountMinor: '500' },
  });
});
