import { PermanentFailure, RetryableFailure } from '../../../core/platform/jobs/job-error-taxonomy.ts';

/**
 * How file exchange reports failures: errors of the platform's closed job taxonomy (so a job
 * handler's failure is classified with no glue), each carrying the connector category an
 * operator reads (`not-connected`: fix the connection's host, key or permissions; `retryable`:
 * the network or the server blinked; `permanent`: retrying cannot help).
 */
export type FileTransferErrorCategory = 'retryable' | 'not-connected' | 'permanent';

export class FileTransferRetryableError extends RetryableFailure {
  readonly category: FileTransferErrorCategory = 'retryable';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FileTransferRetryableError';
  }
}

export class FileTransferPermanentError extends PermanentFailure {
  readonly category: FileTransferErrorCategory = 'permanent';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FileTransferPermanentError';
  }
}

/** Host key not the pinned one, login refused, permission missing: fix the connection first. */
export class FileTransferNotConnectedError extends FileTransferPermanentError {
  override readonly category: FileTransferErrorCategory = 'not-connected';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FileTransferNotConnectedError';
  }
}

export type FileTransferError =
  | FileTransferRetryableError
  | FileTransferPermanentError
  | FileTransferNotConnectedError;

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks). */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_NOT_CONNECTED',
]);

/**
 * An error of the SFTP client (ssh2 / ssh2-sftp-client) as a taxonomy error. `what` says what was
 * being done (`list /outbound/shipments`) so the message names it; credentials never appear.
 */
export function toFileTransferError(error: unknown, what: string): FileTransferError {
  if (error instanceof FileTransferRetryableError || error instanceof FileTransferPermanentError)
    return error;
  const { code, level, message } = error as { code?: unknown; level?: unknown; message?: unknown };
  const text = `${what}: ${typeof message === 'string' ? message : String(error)}`;
  // ssh2-sftp-client rewraps ssh2's errors and drops `level`: its message is what is left.
  const loginRefused =
    level === 'client-authentication' ||
    code === 'ERR_BAD_AUTH' ||
    (typeof message === 'string' && /authentication methods failed/i.test(message));
  if (loginRefused) {
    return new FileTransferNotConnectedError(`${text} (login refused: check the user name and key)`, {
      cause: error,
    });
  }
  if (code === SFTP_PERMISSION_DENIED || code === 'EACCES') {
    return new FileTransferNotConnectedError(`${text} (permission denied)`, { cause: error });
  }
  if (code === SFTP_NO_SUCH_FILE || code === 'ENOENT' || code === 'ERR_BAD_PATH') {
    return new FileTransferPermanentError(`${text} (no such file or folder)`, { cause: error });
  }
  if (code === 'ENOTFOUND') {
    return new FileTransferNotConnectedError(`${text} (unknown host)`, { cause: error });
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return new FileTransferRetryableError(text, { cause: error });
  }
  // Anything else (a generic SFTP failure, a dropped session) may pass on a second try.
  return new FileTransferRetryableError(text, { cause: error });
}
