import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import { formatMoney, shanghaiDateTime } from '../platform/documents/pdf-document.ts';
import { loadPdfFont, PdfFontUnavailable } from '../platform/documents/pdf-font.ts';
import { HubError, NotFound, PayloadTooLarge, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { forwardedHeadersOf } from '../platform/http/request-headers.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { sendFile, uploadOf } from '../platform/http/uploads.ts';
import { type ContractLine, renderContractPdf } from './contract-pdf.ts';
import {
  type Actor,
  type ContractRow,
  type ContractStatus,
  checkTransition,
  findByTask,
  findTemplate,
  historyOf,
  insertContract,
  listContracts,
  nextContractNumber,
  rememberCallback,
  requireContract,
  transition,
} from './contract-store.ts';
import {
  actorOf,
  type ContractsArea,
  type ContractsContext,
  contractReaderOf,
  LIMITS,
  requireContractsStaff,
  sellerName,
  TAG,
} from './contracts-area.ts';
import { InvalidSignature, type SignOutcome } from './esign/esignature-gateway.ts';
import { FASC_HEADERS } from './esign/fasc-signature.ts';
import { FASC_SIMULATOR } from './esign/fasc-simulator.ts';
import { chineseCapitalAmount, renderTemplate, type TemplateVariable } from './template-language.ts';

interface Money {
  amountMinor: string;
  currency: string;
}

/** What a contract covers, read from orders or quotes through their actions (with the caller's staff rights). */
interface Subject {
  type: 'order' | 'quote';
  id: string;
  companyId: string;
  number: string;
  total: Money;
  lines: ContractLine[];
}

interface OrderAnswer {
  id: string;
  number: string;
  companyId: string;
  status: string;
  totals: { gross: Money };
  lines: Array<{
    skuCode: string;
    name: string | null;
    unit: string | null;
    quantity: number;
    unitPrice: Money;
    gross: Money;
  }>;
}

interface QuoteAnswer {
  id: string;
  companyId: string;
  state: string;
  currency: string;
  acceptedVersion: number | null;
  versions: Array<{
    number: number;
    total: Money | null;
    lines: Array<{
      skuId: string | null;
      skuCode: string | null;
      description: string | null;
      quantity: number;
      unit: string | null;
      unitPrice: Money | null;
      lineTotal: Money | null;
    }>;
  }>;
}

const money = (value: Money | null | undefined) => (value ? formatMoney(value) : '');

/** Orders that never became live cannot be contracted. */
const UNCONTRACTABLE_ORDER = new Set(['placing', 'failed', 'cancelled']);

async function loadSubject(ctx: Context, subject: { type: 'order' | 'quote'; id: string }): Promise<Subject> {
  if (subject.type === 'order') {
    const order = (await ctx.call('orders.staff.get', { id: subject.id })) as OrderAnswer;
    if (UNCONTRACTABLE_ORDER.has(order.status)) {
      throw new UnprocessableRequest(
        'subject-not-contractable',
        `A ${order.status} order takes no contract`,
        {
          errors: [{ pointer: '/subject/id', detail: `the order is ${order.status}` }],
        },
      );
    }
    return {
      type: 'order',
      id: order.id,
      companyId: order.companyId,
      number: order.number,
      total: order.totals.gross,
      lines: order.lines.map((line) => ({
        skuCode: line.skuCode,
        description: line.name ?? line.skuCode,
        quantity: line.quantity,
        unit: line.unit ?? '',
        unitPrice: money(line.unitPrice),
        amount: money(line.gross),
      })),
    };
  }
  const quote = (await ctx.call('quotes.staff.get', { id: subject.id })) as QuoteAnswer;
  const version = quote.versions.find((v) => v.number === quote.acceptedVersion);
  if (quote.state !== 'accepted' || !version?.total) {
    throw new UnprocessableRequest('subject-not-contractable', 'Only an accepted quote takes a contract', {
      errors: [{ pointer: '/subject/id', detail: `the quote is ${quote.state}` }],
    });
  }
  // A catalog line of a quote names its SKU only: the product's name and unit come from the catalog.
  const skuIds = [...new Set(version.lines.flatMap((line) => (line.skuId ? [line.skuId] : [])))];
  const catalog = skuIds.length
    ? ((await ctx.call('catalog.internal.skus', { skuIds, codes: [] })) as {
        items: Array<{ skuId: string; nameZh: string; unitOfMeasure: string | null }>;
      })
    : { items: [] };
  const skuOf = new Map(catalog.items.map((item) => [item.skuId, item]));
  return {
    type: 'quote',
    id: quote.id,
    companyId: quote.companyId,
    number: `Q-${quote.id.slice(0, 8).toUpperCase()}`,
    total: version.total,
    lines: version.lines.map((line) => ({
      skuCode: line.skuCode ?? '',
      description:
        line.description ?? (line.skuId ? skuOf.get(line.skuId)?.nameZh : undefined) ?? line.skuCode ?? '',
      quantity: line.quantity,
      unit: line.unit ?? (line.skuId ? skuOf.get(line.skuId)?.unitOfMeasure : undefined) ?? '',
      unitPrice: money(line.unitPrice),
      amount: money(line.lineTotal),
    })),
  };
}

/** The canonical `entities/contract` view. */
export function contractView(contract: ContractRow, history?: Awaited<ReturnType<typeof historyOf>>) {
  return {
    id: contract.id,
    number: contract.number,
    companyId: contract.companyId,
    templateId: contract.templateId,
    templateVersion: contract.templateVersion,
    subject: { type: contract.subjectType, id: contract.subjectId, number: contract.subjectNumber },
    title: contract.title,
    total: { amountMinor: contract.totalMinor, currency: contract.currency },
    status: contract.status,
    signer: { name: contract.signerName, mobile: contract.signerMobile },
    signDeadline: contract.signDeadline.toISOString(),
    signUrl: contract.signUrl,
    provider: contract.provider,
    document: { sha256: contract.draftSha256, size: contract.draftSize },
    signedDocument:
      contract.signedSha256 && contract.signedSize !== null
        ? { sha256: contract.signedSha256, size: contract.signedSize }
        : null,
    signedAt: contract.signedAt?.toISOString() ?? null,
    createdAt: contract.createdAt.toISOString(),
    updatedAt: contract.updatedAt.toISOString(),
    ...(history ? { history } : {}),
  };
}

async function readAll(stream: NodeJS.ReadableStream, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) throw new PayloadTooLarge(maxBytes);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

const CALLBACK_HEADERS = FASC_HEADERS.map((name) => name.toLowerCase());

/**
 * Contracts: generated from a template for an order or an accepted quote (PDF in the object
 * store), sent for signature through the e-signature port, followed by the provider's signed
 * callbacks (or a staff refresh), the signed file downloaded and kept with its SHA-256. Staff
 * manage; buyers read and download their company's.
 */
export function contractsArea({ platform, gateway, now }: ContractsContext): ContractsArea {
  const { db, storage } = platform;
  const log = platform.logger?.child({ area: 'contracts' });

  function font() {
    try {
      return loadPdfFont();
    } catch (error) {
      if (error instanceof PdfFontUnavailable) log?.error(`contract PDF refused: ${error.reason}`);
      throw error;
    }
  }

  async function detail(id: string, companyId: string | null) {
    const contract = await requireContract(db, id, companyId);
    return contractView(contract, await historyOf(db, id));
  }

  async function download(ctx: Context, contract: ContractRow) {
    const signed = contract.signedKey !== null;
    const key = signed ? contract.signedKey! : contract.draftKey;
    const size = signed ? contract.signedSize! : contract.draftSize;
    const body = await storage.get(key);
    return sendFile(
      ctx,
      {
        contentType: 'application/pdf',
        filename: `${contract.number}${signed ? '-signed' : ''}.pdf`,
        size,
      },
      body,
    );
  }

  /**
   * Applies what the provider says of a sent contract: `signed` downloads the signed file and keeps
   * it (before the transaction: the transaction only writes rows), then moves the contract; a
   * callback's nonce is remembered in the same transaction, so a repeated callback does nothing.
   */
  async function apply(
    contractId: string,
    outcome: SignOutcome,
    reason: string | null,
    actor: Actor,
    callback?: { nonce: string; event: string; taskId: string },
  ): Promise<void> {
    if (callback) {
      const { rows } = await db.query(
        'SELECT 1 FROM contracts.esign_callbacks WHERE provider = $1 AND nonce = $2',
        [gateway.provider, callback.nonce],
      );
      if (rows.length > 0) return;
    }
    const current = await requireContract(db, contractId, null);
    let signedFile: { key: string; sha256: string; size: number } | undefined;
    if (outcome === 'signed' && current.status === 'sent' && current.signTaskId) {
      const bytes = await gateway.downloadSigned(current.signTaskId, LIMITS.contractBytes);
      const key = `contracts/${current.companyId}/${current.id}/signed.pdf`;
      const stored = await storage.put(key, Readable.from([bytes]), {
        contentType: 'application/pdf',
        maxBytes: LIMITS.contractBytes,
      });
      signedFile = { key, sha256: stored.sha256, size: stored.size };
    }
    await db.transaction(async (tx) => {
      if (callback && !(await rememberCallback(tx, { provider: gateway.provider, ...callback }))) return;
      const contract = await requireContract(tx, contractId, null, { lock: true });
      // Already applied (a repeat with another nonce, a late event) or nothing new: no effect.
      if (contract.status !== 'sent' || outcome === 'signing') return;
      if (outcome === 'signed' && !signedFile) return;
      await transition(
        tx,
        contract,
        outcome as ContractStatus,
        actor,
        reason,
        signedFile
          ? {
              signed_key: signedFile.key,
              signed_sha256: signedFile.sha256,
              signed_size: signedFile.size,
              signed_at: now(),
            }
          : {},
      );
    });
  }

  return {
    actions: {
      list: {
        params: schemaRef('api/contracts/contract-list-query'),
        async handler(ctx: Context<{ status?: ContractStatus; limit: number; cursor?: string }>) {
          const { companyId } = contractReaderOf(ctx);
          const page = await listContracts(db, { ...ctx.params, companyId });
          return { items: page.items.map((c) => contractView(c)), nextCursor: page.nextCursor };
        },
      },

      get: {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const { companyId } = contractReaderOf(ctx);
          return detail(ctx.params.id, companyId);
        },
      },

      document: {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const { companyId } = contractReaderOf(ctx);
          return download(ctx, await requireContract(db, ctx.params.id, companyId));
        },
      },

      'staff.list': {
        params: schemaRef('api/contracts/staff-contract-list-query'),
        async handler(
          ctx: Context<{ companyId?: string; status?: ContractStatus; limit: number; cursor?: string }>,
        ) {
          requireContractsStaff(ctx, 'read');
          const page = await listContracts(db, ctx.params);
          return { items: page.items.map((c) => contractView(c)), nextCursor: page.nextCursor };
        },
      },

      'staff.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireContractsStaff(ctx, 'read');
          return detail(ctx.params.id, null);
        },
      },

      'staff.document': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireContractsStaff(ctx, 'read');
          return download(ctx, await requireContract(db, ctx.params.id, null));
        },
      },

      'staff.create': {
        params: schemaRef('api/contracts/contract-create-request'),
        async handler(
          ctx: Context<{
            templateId: string;
            subject: { type: 'order' | 'quote'; id: string };
            signer: { name: string; mobile?: string };
            signWithinDays: number;
          }>,
        ) {
          const auth = requireContractsStaff(ctx);
          const { templateId, signer, signWithinDays } = ctx.params;
          const template = await findTemplate(db, templateId);
          if (!template?.active) {
            throw new UnprocessableRequest(
              'template-not-usable',
              'The template does not exist or is inactive',
              {
                errors: [{ pointer: '/templateId', detail: 'no active template has this id' }],
              },
            );
          }
          const pdfFont = font();
          const subject = await loadSubject(ctx, ctx.params.subject);
          const company = (await ctx.call('accounts.internal.companyContext', {
            companyId: subject.companyId,
          })) as { name: string } | null;
          const id = randomUUID();
          const number = await nextContractNumber(db);
          const createdAt = now();
          const deadline = new Date(createdAt.getTime() + signWithinDays * 86_400_000);
          const values: Record<TemplateVariable, string> = {
            'contract.number': number,
            'contract.title': '',
            'contract.date': shanghaiDateTime(createdAt).slice(0, 10),
            'buyer.name': company?.name ?? '',
            'seller.name': sellerName(),
            'signer.name': signer.name,
            'subject.kind': subject.type === 'order' ? '订单' : '报价',
            'subject.number': subject.number,
            'subject.total': formatMoney(subject.total),
            'subject.totalInWords':
              subject.total.currency === 'CNY' ? chineseCapitalAmount(BigInt(subject.total.amountMinor)) : '',
            'subject.currency': subject.total.currency,
            'sign.deadline': shanghaiDateTime(deadline),
          };
          const title = renderTemplate(template.title, values)
            .map((block) => (block.kind === 'text' ? block.text : ''))
            .join(' ')
            .slice(0, 200);
          values['contract.title'] = title;
          const pdf = await renderContractPdf(
            { number, title, buyerName: values['buyer.name'], sellerName: values['seller.name'], createdAt },
            renderTemplate(template.body, values),
            subject.lines,
            pdfFont,
          );
          const key = `contracts/${subject.companyId}/${id}/draft.pdf`;
          const stored = await storage.put(key, Readable.from([pdf]), {
            contentType: 'application/pdf',
            maxBytes: LIMITS.contractBytes,
          });
          try {
            await db.transaction(async (tx) => {
              await insertContract(
                tx,
                {
                  id,
                  number,
                  companyId: subject.companyId,
                  templateId: template.id,
                  templateVersion: template.version,
                  subjectType: subject.type,
                  subjectId: subject.id,
                  subjectNumber: subject.number,
                  title,
                  currency: subject.total.currency,
                  totalMinor: subject.total.amountMinor,
                  signerName: signer.name,
                  signerMobile: signer.mobile ?? null,
                  signDeadline: deadline,
                  draftKey: key,
                  draftSha256: stored.sha256,
                  draftSize: stored.size,
                  createdBy: auth.principalId,
                },
                actorOf(ctx),
              );
              await recordAudit(tx, auth, originOf(ctx), {
                action: 'contract.generated',
                entityType: 'contract',
                entityId: id,
                companyId: subject.companyId,
                details: {
                  number,
                  subject: ctx.params.subject,
                  templateId,
                  templateVersion: template.version,
                },
              });
            });
          } catch (error) {
            await storage.delete(key).catch(() => {});
            throw error;
          }
          return detail(id, null);
        },
      },

      'staff.send': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireContractsStaff(ctx);
          const contract = await requireContract(db, ctx.params.id, null);
          checkTransition(contract.status, 'sent', 'staff');
          const document = await readAll(await storage.get(contract.draftKey), LIMITS.contractBytes);
          // Idempotent per reference at the provider: a send retried after a crash finds its task.
          const task = await gateway.createSignTask({
            reference: contract.id,
            subject: contract.title,
            fileName: `${contract.number}.pdf`,
            document,
            signer: { name: contract.signerName, mobile: contract.signerMobile },
            deadline: contract.signDeadline,
          });
          await db.transaction(async (tx) => {
            const locked = await requireContract(tx, contract.id, null, { lock: true });
            if (locked.status !== 'draft') return;
            await transition(
              tx,
              locked,
              'sent',
              actorOf(ctx),
              'sent for signature',
              { provider: gateway.provider, sign_task_id: task.taskId, sign_url: task.signUrl },
              originOf(ctx),
            );
            await recordAudit(tx, auth, originOf(ctx), {
              action: 'contract.sent',
              entityType: 'contract',
              entityId: contract.id,
              companyId: contract.companyId,
              details: { provider: gateway.provider, taskId: task.taskId },
            });
          });
          return detail(contract.id, null);
        },
      },

      'staff.cancel': {
        params: schemaRef('api/contracts/cancel-contract-params'),
        async handler(ctx: Context<{ id: string; reason: string }>) {
          const auth = requireContractsStaff(ctx);
          const contract = await requireContract(db, ctx.params.id, null);
          checkTransition(contract.status, 'cancelled', 'staff');
          if (contract.status === 'sent' && contract.signTaskId) {
            await gateway.cancel(contract.signTaskId, ctx.params.reason);
          }
          await db.transaction(async (tx) => {
            const locked = await requireContract(tx, contract.id, null, { lock: true });
            await transition(tx, locked, 'cancelled', actorOf(ctx), ctx.params.reason, {}, originOf(ctx));
            await recordAudit(tx, auth, originOf(ctx), {
              action: 'contract.cancelled',
              entityType: 'contract',
              entityId: contract.id,
              companyId: contract.companyId,
              details: { from: locked.status, reason: ctx.params.reason },
            });
          });
          return detail(contract.id, null);
        },
      },

      /** Asks the provider for a sent contract's task and applies the answer, as its callback would. */
      'staff.refresh': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireContractsStaff(ctx);
          const contract = await requireContract(db, ctx.params.id, null);
          if (contract.status === 'sent' && contract.signTaskId) {
            const state = await gateway.getTask(contract.signTaskId);
            await apply(contract.id, state.outcome, state.reason, { kind: 'provider', id: gateway.provider });
          }
          return detail(contract.id, null);
        },
      },

      /**
       * Mesh-only (the service's timer, operations, tests): sent contracts past their sign deadline
       * are asked about at the provider and its answer applied (expired, or signed after all).
       */
      'internal.sweepDeadlines': {
        visibility: 'public' as const,
        params: schemaRef('api/common/empty-params'),
        async handler() {
          const { rows } = await db.query(
            `SELECT id, sign_task_id FROM contracts.contracts
              WHERE status = 'sent' AND sign_deadline < $1 ORDER BY sign_deadline LIMIT 500`,
            [now()],
          );
          let changed = 0;
          for (const row of rows) {
            try {
              const state = await gateway.getTask(row.sign_task_id);
              await apply(row.id, state.outcome, state.reason, { kind: 'provider', id: gateway.provider });
              const after = await requireContract(db, row.id, null);
              if (after.status !== 'sent') changed += 1;
            } catch (error) {
              log?.warn({ err: error, contractId: row.id }, 'sign deadline check failed');
            }
          }
          return { checked: rows.length, changed };
        },
      },

      /**
       * The provider's callback (public; the signature is the authentication): a form body
       * `bizContent=<JSON>` signed in `X-FASC-*` headers. A bad signature is 401; a repeat (same
       * nonce) or an event the contract already reflects is answered `success` and does nothing.
       */
      'hooks.esign': {
        async handler(ctx: Context) {
          const body = (await readAll(uploadOf(ctx).stream, LIMITS.callbackBytes)).toString('utf8');
          let event: ReturnType<typeof gateway.verifyCallback>;
          try {
            event = gateway.verifyCallback(forwardedHeadersOf(ctx), body);
          } catch (error) {
            if (error instanceof InvalidSignature) {
              log?.warn({ reason: error.message }, 'e-signature callback refused');
              throw new HubError(401, 'invalid-signature', error.message);
            }
            throw error;
          }
          const contract = await findByTask(db, gateway.provider, event.taskId);
          if (!contract || contract.id !== event.reference) throw new NotFound('Sign task');
          await apply(
            contract.id,
            event.outcome,
            event.reason,
            { kind: 'provider', id: gateway.provider },
            {
              nonce: event.eventId,
              event: event.event,
              taskId: event.taskId,
            },
          );
          return gateway.callbackAnswer;
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/contracts';
const STAFF = '/api/staff/contracts';
const PDF = { contentTypes: ['application/pdf'] };

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'contracts.list',
    operationId: 'listContracts',
    tag: TAG,
    summary: "The company's contracts, newest first (orders.read at company scope)",
    audience: 'buyer',
    querySchema: 'api/contracts/contract-list-query',
    responseSchema: 'api/contracts/contract-list-response',
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'contracts.get',
    operationId: 'getContract',
    tag: TAG,
    summary: 'One of the company’s contracts with its history and, while it waits, where to sign',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/contract',
  },
  {
    method: 'GET',
    path: `${BASE}/:id/document`,
    action: 'contracts.document',
    operationId: 'downloadContract',
    tag: TAG,
    summary: 'The contract as PDF: the signed file once signed, the generated one before',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    download: PDF,
  },
  {
    method: 'GET',
    path: STAFF,
    action: 'contracts.staff.list',
    operationId: 'staffListContracts',
    tag: TAG,
    summary: 'Every company’s contracts, newest first, by company and status',
    audience: 'staff',
    querySchema: 'api/contracts/staff-contract-list-query',
    responseSchema: 'api/contracts/contract-list-response',
  },
  {
    method: 'POST',
    path: STAFF,
    action: 'contracts.staff.create',
    operationId: 'createContract',
    tag: TAG,
    summary:
      'Generate a contract (PDF, draft) from a template for an order or an accepted quote, naming the buyer’s signatory',
    audience: 'staff',
    requestSchema: 'api/contracts/contract-create-request',
    responseSchema: 'entities/contract',
    successStatus: 201,
    location: '/api/staff/contracts/{id}',
  },
  {
    method: 'GET',
    path: `${STAFF}/:id`,
    action: 'contracts.staff.get',
    operationId: 'staffGetContract',
    tag: TAG,
    summary: 'One contract with its history',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/contract',
  },
  {
    method: 'GET',
    path: `${STAFF}/:id/document`,
    action: 'contracts.staff.document',
    operationId: 'staffDownloadContract',
    tag: TAG,
    summary: 'The contract as PDF: the signed file once signed, the generated one before',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    download: PDF,
  },
  {
    method: 'POST',
    path: `${STAFF}/:id/send`,
    action: 'contracts.staff.send',
    operationId: 'sendContract',
    tag: TAG,
    summary: 'Send a draft contract for e-signature (the provider’s sign task; idempotent per contract)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/contract',
  },
  {
    method: 'POST',
    path: `${STAFF}/:id/cancel`,
    action: 'contracts.staff.cancel',
    operationId: 'cancelContract',
    tag: TAG,
    summary: 'Withdraw a draft or sent contract (the provider’s task is cancelled), with a reason',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/contracts/cancel-contract-request',
    responseSchema: 'entities/contract',
  },
  {
    method: 'POST',
    path: `${STAFF}/:id/refresh`,
    action: 'contracts.staff.refresh',
    operationId: 'refreshContract',
    tag: TAG,
    summary:
      'Ask the e-signature provider about a sent contract and apply the answer (a callback that never came)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/contract',
  },
  {
    method: 'POST',
    path: `/hooks/esign/${FASC_SIMULATOR}`,
    action: 'contracts.hooks.esign',
    operationId: 'esignCallback',
    tag: TAG,
    summary:
      'The e-signature provider’s callback (public; 法大大 FASC form body `bizContent` signed in X-FASC-* headers, HMAC-SHA256; a repeat counts once)',
    audience: 'public',
    upload: { contentTypes: ['application/x-www-form-urlencoded'], maxBytes: LIMITS.callbackBytes },
    forwardHeaders: CALLBACK_HEADERS,
    responseSchema: 'api/contracts/esign-callback-response',
  },
];
