/**
 * The e-signature port (法大大 FASC, e签宝 and the like, behind one interface). The hub creates a
 * sign task with the contract's PDF and the buyer's signatory; the signatory signs at the
 * provider (its sign URL); the provider calls back (`/hooks/esign/<provider>`) with a signed
 * notification the adapter verifies before anything is believed; the signed file is downloaded
 * from the provider and kept by the hub. `getTask` asks the provider directly (for a callback that
 * never came).
 *
 * Contract of an adapter:
 * - `createSignTask` is idempotent per `reference` (the contract id; FASC's `transReferenceId`):
 *   a retried send gets the task created before, never a second one.
 * - `verifyCallback` throws `InvalidSignature` for a callback whose signature, app id or
 *   timestamp does not verify, and never trusts a field of an unverified body; `eventId` is unique
 *   per delivery attempt of the provider's event (FASC: the nonce).
 * - `downloadSigned` answers the signed file only once the task is signed.
 */
export type SignOutcome = 'signing' | 'signed' | 'rejected' | 'expired' | 'cancelled';

export interface SignTaskRequest {
  /** Ours, unique: the contract id. */
  reference: string;
  subject: string;
  fileName: string;
  document: Buffer;
  signer: { name: string; mobile: string | null };
  /** Sign by then, or the task expires. */
  deadline: Date;
}

export interface SignTask {
  taskId: string;
  /** Where the signatory signs. */
  signUrl: string;
}

export interface SignTaskState {
  taskId: string;
  reference: string;
  outcome: SignOutcome;
  /** The provider's own status word, for logs. */
  providerStatus: string;
  reason: string | null;
}

export interface SignEvent {
  /** Unique per delivery of the provider's event: what makes a repeated callback count once. */
  eventId: string;
  event: string;
  taskId: string;
  reference: string;
  outcome: SignOutcome;
  reason: string | null;
  at: string;
}

export interface ESignatureGateway {
  /** The provider's name: the hook path segment and the callbacks' dedupe scope. */
  readonly provider: string;
  createSignTask(request: SignTaskRequest): Promise<SignTask>;
  getTask(taskId: string): Promise<SignTaskState>;
  /** The signed PDF; at most `maxBytes` (a larger file is refused, not truncated). */
  downloadSigned(taskId: string, maxBytes: number): Promise<Buffer>;
  cancel(taskId: string, reason: string): Promise<void>;
  /** The callback's request headers (lower-case names) and its raw body. */
  verifyCallback(headers: Record<string, string>, body: string): SignEvent;
  /** The acknowledgement body the provider expects. */
  readonly callbackAnswer: Record<string, string>;
}

export class InvalidSignature extends Error {}
