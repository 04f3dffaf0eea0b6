import type { Queryable } from '../platform/database/database.ts';

/** Invoice requests (开票申请): rows and their canonical `entities/invoice-request` view. */
export type InvoiceRequestStatus = 'requested' | 'issued' | 'rejected';

export interface InvoiceRequest {
  id: string;
  companyId: string;
  invoiceId: string;
  invoiceNumber: string;
  type: 'normal' | 'special';
  title: string;
  taxNumber: string;
  bankName: string | null;
  bankAccount: string | null;
  address: string | null;
  phone: string | null;
  email: string;
  status: InvoiceRequestStatus;
  rejectReason: string | null;
  eInvoiceNumber: string | null;
  fileKey: string | null;
  fileName: string | null;
  fileSize: number | null;
  requestedBy: string;
  requestedAt: Date;
  decidedAt: Date | null;
}

const COLUMNS = `r.id, r.company_id, r.invoice_id, i.number AS invoice_number, r.type, r.title, r.tax_number, r.bank_name,
  r.bank_account, r.address, r.phone, r.email, r.status, r.reject_reason, r.e_invoice_no, r.file_key, r.file_name,
  r.file_size, r.requested_by, r.requested_at, r.decided_at`;

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
const toRequest = (row: any): InvoiceRequest => ({
  id: row.id,
  companyId: row.company_id,
  invoiceId: row.invoice_id,
  invoiceNumber: row.invoice_number,
  type: row.type,
  title: row.title,
  taxNumber: row.tax_number,
  bankName: row.bank_name,
  bankAccount: row.bank_account,
  address: row.address,
  phone: row.phone,
  email: row.email,
  status: row.status,
  rejectReason: row.reject_reason,
  eInvoiceNumber: row.e_invoice_no,
  fileKey: row.file_key,
  fileName: row.file_name,
  fileSize: row.file_size === null ? null : Number(row.file_size),
  requestedBy: row.requested_by,
  requestedAt: new Date(row.requested_at),
  decidedAt: row.decided_at ? new Date(row.decided_at) : null,
});

export function invoiceRequestView(request: InvoiceRequest) {
  return {
    id: request.id,
    companyId: request.companyId,
    invoiceId: request.invoiceId,
    invoiceNumber: request.invoiceNumber,
    type: request.type,
    title: request.title,
    taxNumber: request.taxNumber,
    bankName: request.bankName,
    bankAccount: request.bankAccount,
    address: request.address,
    phone: request.phone,
    email: request.email,
    status: request.status,
    rejectReason: request.rejectReason,
    eInvoiceNumber: request.eInvoiceNumber,
    file:
      request.fileName && request.fileSize !== null
        ? { fileName: request.fileName, size: request.fileSize }
        : null,
    requestedBy: request.requestedBy,
    requestedAt: request.requestedAt.toISOString(),
    decidedAt: request.decidedAt?.toISOString() ?? null,
  };
}

export async function findInvoiceRequest(
  db: Queryable,
  id: string,
  options: { companyId?: string; lock?: boolean } = {},
): Promise<InvoiceRequest | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM credit.invoice_requests r JOIN credit.invoices i ON i.id = r.invoice_id
      WHERE r.id = $1 AND ($2::uuid IS NULL OR r.company_id = $2) ${options.lock ? 'FOR UPDATE OF r' : ''}`,
    [id, options.companyId ?? null],
  );
  return rows[0] ? toRequest(rows[0]) : undefined;
}

export async function listInvoiceRequests(
  db: Queryable,
  filter: {
    companyId?: string | undefined;
    requestedBy?: string | undefined;
    status?: InvoiceRequestStatus | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<InvoiceRequest[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM credit.invoice_requests r JOIN credit.invoices i ON i.id = r.invoice_id
      WHERE ($1::uuid IS NULL OR r.company_id = $1) AND ($2::uuid IS NULL OR r.requested_by = $2)
        AND ($3::text IS NULL OR r.status = $3) AND ($4::uuid IS NULL OR r.id > $4)
      ORDER BY r.id LIMIT $5`,
    [
      filter.companyId ?? null,
      filter.requestedBy ?? null,
      filter.status ?? null,
      filter.after ?? null,
      filter.limit,
    ],
  );
  return rows.map(toRequest);
}
