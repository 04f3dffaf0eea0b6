import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  type ESignatureGateway,
  InvalidSignature,
  type SignEvent,
  type SignOutcome,
  type SignTask,
  type SignTaskRequest,
  type SignTaskState,
} from './esignature-gateway.ts';
import { fascSign, sameSignature } from './fasc-signature.ts';

/**
 * A 法大大 FASC (OpenAPI v5.1) signature service simulated in-process, faithful where the hub
 * depends on it:
 * - sign tasks are idempotent per `transReferenceId` (our contract id) and move through FASC's
 *   statuses: `sign_progress` → `task_finished` (signed), or `task_terminated` (rejected,
 *   cancelled) or `sign_expired`-like expiry at the deadline;
 * - callbacks are what FASC posts: an `application/x-www-form-urlencoded` body `bizContent=<JSON>`
 *   with headers `X-FASC-App-Id`, `X-FASC-Sign-Type: HMAC-SHA256`, `X-FASC-Sign`,
 *   `X-FASC-Timestamp` (epoch ms), `X-FASC-Nonce` (32 chars), `X-FASC-Event`, signed with the
 *   FASC algorithm (`fasc-signature.ts`, checked against the published test vector); the hub
 *   answers `{"msg":"success"}`;
 * - verification refuses a bad signature, another app id, a timestamp more than 5 minutes off.
 *
 * The signed file is the original PDF with a signature record appended after its `%%EOF` (an
 * incremental-update position: PDF readers still open it); a real provider embeds a PAdES
 * signature, the hub treats both as opaque bytes and records their SHA-256.
 *
 * Tests play the provider's side: `sign`, `reject`, `expire` change a task and answer the callback
 * request FASC would send (`callbackFor` builds one for any event, signed with another secret on
 * request).
 */
export const FASC_SIMULATOR = 'fasc-simulator';

const EVENTS: Record<Exclude<SignOutcome, 'signing'>, { event: string; status: string }> = {
  signed: { event: 'sign-task-finished', status: 'task_finished' },
  rejected: { event: 'sign-task-sign-rejected', status: 'task_terminated' },
  expired: { event: 'sign-task-expired', status: 'task_expired' },
  cancelled: { event: 'sign-task-canceled', status: 'task_terminated' },
};
const TIMESTAMP_SKEW_MS = 5 * 60_000;

interface SimulatedTask {
  taskId: string;
  reference: string;
  subject: string;
  document: Buffer;
  signer: { name: string; mobile: string | null };
  deadline: Date;
  outcome: SignOutcome;
  reason: string | null;
  signed: Buffer | null;
}

export interface CallbackRequest {
  headers: Record<string, string>;
  /** The form body: `bizContent=<url-encoded JSON>`. */
  body: string;
}

export class FascSimulator implements ESignatureGateway {
  readonly provider = FASC_SIMULATOR;
  readonly callbackAnswer = { msg: 'success' };
  readonly #appId: string;
  readonly #appSecret: string;
  readonly #now: () => Date;
  /** What the "provider" holds (one process; enough for a simulator). */
  readonly #tasks = new Map<string, SimulatedTask>();
  readonly #byReference = new Map<string, string>();

  constructor(options: { appId: string; appSecret: string; now?: () => Date }) {
    this.#appId = options.appId;
    this.#appSecret = options.appSecret;
    this.#now = options.now ?? (() => new Date());
  }

  async createSignTask(request: SignTaskRequest): Promise<SignTask> {
    const known = this.#byReference.get(request.reference);
    const taskId = known ?? `${Date.now()}${randomBytes(6).toString('hex')}`;
    if (!known) {
      this.#tasks.set(taskId, {
        taskId,
        reference: request.reference,
        subject: request.subject,
        document: Buffer.from(request.document),
        signer: request.signer,
        deadline: request.deadline,
        outcome: 'signing',
        reason: null,
        signed: null,
      });
      this.#byReference.set(request.reference, taskId);
    }
    return { taskId, signUrl: `https://fasc-simulator.invalid/sign-task/${taskId}/actor/buyer` };
  }

  #task(taskId: string): SimulatedTask {
    const task = this.#tasks.get(taskId);
    if (!task) throw new Error(`FASC: sign task ${taskId} does not exist (code 210002)`);
    return task;
  }

  async getTask(taskId: string): Promise<SignTaskState> {
    const task = this.#task(taskId);
    if (task.outcome === 'signing' && this.#now() > task.deadline) task.outcome = 'expired';
    return {
      taskId,
      reference: task.reference,
      outcome: task.outcome,
      providerStatus: task.outcome === 'signing' ? 'sign_progress' : EVENTS[task.outcome].status,
      reason: task.reason,
    };
  }

  async downloadSigned(taskId: string, maxBytes: number): Promise<Buffer> {
    const task = this.#task(taskId);
    if (task.outcome !== 'signed' || !task.signed)
      throw new Error(`FASC: sign task ${taskId} is not finished`);
    if (task.signed.length > maxBytes) throw new Error(`FASC: the signed file is over ${maxBytes} bytes`);
    return Buffer.from(task.signed);
  }

  async cancel(taskId: string, reason: string): Promise<void> {
    const task = this.#task(taskId);
    if (task.outcome !== 'signing') return;
    task.outcome = 'cancelled';
    task.reason = reason;
  }

  // --- The provider's side, for tests -------------------------------------------------------

  /** The signatory signs: the task finishes, the signed file exists, the callback is answered. */
  sign(taskId: string): CallbackRequest {
    const task = this.#task(taskId);
    if (task.outcome === 'signing') {
      const at = this.#now().toISOString();
      const digest = createHash('sha256').update(task.document).digest('hex');
      const record = `\n%FASC-SIGNATURE task=${taskId} signer=${encodeURIComponent(task.signer.name)} at=${at} sha256=${digest}\n%%EOF\n`;
      task.signed = Buffer.concat([task.document, Buffer.from(record, 'utf8')]);
      task.outcome = 'signed';
    }
    return this.callbackFor(taskId, 'signed');
  }

  /** The signatory refuses to sign. */
  reject(taskId: string, reason: string): CallbackRequest {
    const task = this.#task(taskId);
    if (task.outcome === 'signing') {
      task.outcome = 'rejected';
      task.reason = reason;
    }
    return this.callbackFor(taskId, 'rejected');
  }

  /** The deadline passed unsigned. */
  expire(taskId: string): CallbackRequest {
    const task = this.#task(taskId);
    if (task.outcome === 'signing') task.outcome = 'expired';
    return this.callbackFor(taskId, 'expired');
  }

  /** The callback FASC posts for an event of a task: a fresh nonce each delivery. */
  callbackFor(
    taskId: string,
    outcome: Exclude<SignOutcome, 'signing'>,
    options: { signWith?: string; timestamp?: number; appId?: string } = {},
  ): CallbackRequest {
    const task = this.#task(taskId);
    const { event, status } = EVENTS[outcome];
    const bizContent = JSON.stringify({
      signTaskId: taskId,
      transReferenceId: task.reference,
      signTaskStatus: status,
      eventTime: String(this.#now().getTime()),
      ...(task.reason ? { terminationNote: task.reason } : {}),
    });
    const headers: Record<string, string> = {
      'X-FASC-App-Id': options.appId ?? this.#appId,
      'X-FASC-Sign-Type': 'HMAC-SHA256',
      'X-FASC-Timestamp': String(options.timestamp ?? this.#now().getTime()),
      'X-FASC-Nonce': randomBytes(16).toString('hex'),
      'X-FASC-Event': event,
    };
    headers['X-FASC-Sign'] = fascSign({ ...headers, bizContent }, options.signWith ?? this.#appSecret);
    return { headers, body: new URLSearchParams({ bizContent }).toString() };
  }

  // --- The hub's side -----------------------------------------------------------------------

  verifyCallback(headers: Record<string, string>, body: string): SignEvent {
    const header = (name: string) => headers[name.toLowerCase()] ?? '';
    const sign = header('X-FASC-Sign');
    if (header('X-FASC-Sign-Type') !== 'HMAC-SHA256' || !/^[0-9a-f]{64}$/.test(sign)) {
      throw new InvalidSignature('The callback is not signed with HMAC-SHA256');
    }
    if (header('X-FASC-App-Id') !== this.#appId)
      throw new InvalidSignature('The callback is for another app');
    const timestamp = Number(header('X-FASC-Timestamp'));
    if (!Number.isSafeInteger(timestamp) || Math.abs(this.#now().getTime() - timestamp) > TIMESTAMP_SKEW_MS) {
      throw new InvalidSignature('The callback timestamp is more than 5 minutes off');
    }
    const nonce = header('X-FASC-Nonce');
    if (!/^[0-9A-Za-z]{32}$/.test(nonce))
      throw new InvalidSignature('The callback nonce is not 32 characters');
    const bizContent = new URLSearchParams(body).get('bizContent') ?? '';
    const signed: Record<string, string> = { bizContent };
    for (const name of [
      'X-FASC-App-Id',
      'X-FASC-Sign-Type',
      'X-FASC-Timestamp',
      'X-FASC-Nonce',
      'X-FASC-Event',
    ]) {
      signed[name] = header(name);
    }
    if (!sameSignature(sign, fascSign(signed, this.#appSecret))) {
      throw new InvalidSignature('The callback signature does not verify');
    }
    // Verified: now its fields may be read.
    let content: Record<string, unknown>;
    try {
      content = JSON.parse(bizContent) as Record<string, unknown>;
    } catch {
      throw new InvalidSignature('bizContent is not JSON');
    }
    const event = header('X-FASC-Event');
    const outcome = (Object.entries(EVENTS).find(([, known]) => known.event === event)?.[0] ??
      'signing') as SignOutcome;
    const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 1000) : '');
    return {
      eventId: nonce,
      event,
      taskId: text(content.signTaskId),
      reference: text(content.transReferenceId),
      outcome,
      reason: text(content.terminationNote) || null,
      at: new Date(Number(content.eventTime) || timestamp).toISOString(),
    };
  }
}

/** The simulator's app secret: `HUB_ESIGN_SIMULATOR_SECRET`, else derived from the master key. */
export function fascSimulatorSecret(
  masterKey: Buffer,
  env: Record<string, string | undefined> = process.env,
): string {
  const configured = env.HUB_ESIGN_SIMULATOR_SECRET;
  if (configured) return configured;
  return createHmac('sha256', masterKey).update('contracts:fasc-simulator:app-secret').digest('hex');
}
