import {
  type ConnectorError,
  ConnectorPermanentError,
  ConnectorRetryableError,
  isConnectorError,
  NotConnectedError,
} from '../connector-errors.ts';

/**
 * SFTP failures as the SDK's closed taxonomy (`connector-errors.ts`): `not-connected` (host key
 * not the pinned one, login refused, permission missing: fix the connection), `retryable` (the
 * network or the server blinked), `permanent` (no such folder, a file over its bound, a name
 * already taken: retrying cannot help).
 */

// SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks).
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
export function toFileTransferError(error: unknown, what: string): ConnectorError {
  if (isConnectorError(error)) return error;
  const { code, level, message } = error as { code?: unknown; level?: unknown; message?: unknown };
  const text = `${what}: ${typeof message === 'string' ? message : String(error)}`;
  // ssh2-sftp-client rewraps ssh2's errors and drops `level`: its message is what is left.
  const loginRefused =
    level === 'client-authentication' ||
    code === 'ERR_BAD_AUTH' ||
    (typeof message === 'string' && /authentication methods failed/i.test(message));
  if (loginRefused) {
    return new NotConnectedError(`${text} (login refused: check the user name and key)`, undefined, {
      cause: error,
    });
  }
  if (typeof message === 'string' && /Handshake failed: no matching/i.test(message)) {
    // No host key type, cipher or key exchange both sides accept: a settings problem.
    return new NotConnectedError(`${text} (no algorithm both sides accept)`, undefined, { cause: error });
  }
  if (code === SFTP_PERMISSION_DENIED || code === 'EACCES') {
    return new NotConnectedError(`${text} (permission denied)`, undefined, { cause: error });
  }
  if (code === SFTP_NO_SUCH_FILE || code === 'ENOENT' || code === 'ERR_BAD_PATH') {
    return new ConnectorPermanentError(`${text} (no such file or folder)`, undefined, { cause: error });
  }
  if (code === 'ENOTFOUND') {
    return new NotConnectedError(`${text} (unknown host)`, undefined, { cause: error });
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return new ConnectorRetryableError(text, undefined, { cause: error });
  }
  // Anything else (a generic SFTP failure, a dropped session) may pass on a second try.
  return new ConnectorRetryableError(text, undefined, { cause: error });
}
