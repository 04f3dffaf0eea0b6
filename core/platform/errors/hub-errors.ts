import moleculer from 'moleculer';

const { MoleculerClientError } = moleculer.Errors;

/** One field that failed validation; `pointer` is a JSON Pointer into the request body or params. */
export interface FieldError {
  pointer: string;
  detail: string;
}

/**
 * Errors a client can act on. They extend Moleculer's client error so `code` (HTTP status),
 * `type` (problem type slug) and `data` survive serialisation across the NATS mesh: the gateway
 * that answers may not be the node that threw.
 */
export class HubError extends MoleculerClientError {
  constructor(status: number, type: string, message: string, data?: Record<string, unknown>) {
    super(message, status, type, data);
  }
}

export class ValidationFailed extends HubError {
  constructor(errors: FieldError[], message = 'The request does not match its schema') {
    super(400, 'validation-failed', message, { errors });
  }
}

export class NotFound extends HubError {
  constructor(what = 'Resource') {
    super(404, 'not-found', `${what} not found`);
  }
}

export class Unauthorized extends HubError {
  constructor(message = 'Authentication required') {
    super(401, 'unauthorized', message);
  }
}

export class Forbidden extends HubError {
  constructor(message = 'You are not allowed to do this') {
    super(403, 'forbidden', message);
  }
}

export class Conflict extends HubError {
  constructor(message: string, data?: Record<string, unknown>) {
    super(409, 'conflict', message, data);
  }
}

export class UnprocessableRequest extends HubError {
  constructor(type: string, message: string, data?: Record<string, unknown>) {
    super(422, type, message, data);
  }
}

/** A request body (an upload) larger than the route or store accepts. */
export class PayloadTooLarge extends HubError {
  constructor(maxBytes: number) {
    super(413, 'body-too-large', `The body is larger than ${maxBytes} bytes`, { maxBytes });
  }
}

/** A request body of a media type the route does not take. */
export class UnsupportedMediaType extends HubError {
  constructor(accepted: readonly string[]) {
    super(415, 'unsupported-media-type', `The body must be one of ${accepted.join(', ')}`, { accepted });
  }
}
