/**
 * One REST operation of the hub. Modules declare their routes as data; the gateway turns the
 * same list into moleculer-web aliases and into the OpenAPI document, so the two cannot drift.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Express-style path, e.g. `/api/staff/companies/:id`. */
  path: string;
  /** Moleculer action that serves it, e.g. `accounts.companies.create`. */
  action: string;
  operationId: string;
  /** OpenAPI tag: the domain that owns the operation. */
  tag: string;
  summary: string;
  /** Who may call: no token, a buyer token, a staff token, any authenticated caller. */
  audience: 'public' | 'buyer' | 'staff' | 'authenticated';
  /** Canonical schema id (see schemas/README.md) of the JSON body, for POST/PUT/PATCH. */
  requestSchema?: string;
  /** Canonical schema id of the success response body. */
  responseSchema?: string;
  /** Canonical schema id of the path parameters (an object schema), e.g. `api/common/id-params`. */
  paramsSchema?: string;
  /** Canonical schema id of the query string parameters (an object schema). */
  querySchema?: string;
  /** Status of a successful answer (default 200; creation routes use 201). */
  successStatus?: number;
  /**
   * For 201 answers: where the created resource lives, `{field.path}` placeholders filled from the
   * answer (`/api/users/{user.id}`).
   */
  location?: string;
  /**
   * The body is a file, streamed to the action as `ctx.stream` (read it with `uploadOf(ctx)`);
   * path and query parameters arrive in `ctx.params` and are checked by `paramsSchema` /
   * `querySchema` as usual. Other media types are refused with 415, larger bodies with 413.
   * `Idempotency-Key` does not apply (the body is not buffered); domains dedupe by content hash.
   */
  upload?: { contentTypes: string[]; maxBytes: number };
  /**
   * Request headers the action needs (a webhook's signature headers), lower-case names: the
   * gateway copies them to `ctx.meta.headers` (read with `forwardedHeadersOf(ctx)`).
   */
  forwardHeaders?: string[];
  /** The answer is a file of one of these media types (the action uses `sendFile`). */
  download?: { contentTypes: string[] };
}
