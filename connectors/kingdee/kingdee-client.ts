import { boundedFetch } from '../sdk/bounded-http.ts';
import {
  ConnectorPermanentError,
  ConnectorRetryableError,
  MappingError,
  NotConnectedError,
  type RemoteErrorDetail,
} from '../sdk/connector-errors.ts';
import { TokenBucket } from '../sdk/token-bucket.ts';
import { loginBySignature, signedRequestHeaders } from './kingdee-signatures.ts';

/** Plain configuration of a Kingdee connection (config.schema.json without the credentials). */
export interface KingdeeConfig {
  baseUrl: string;
  acctId: string;
  userName: string;
  lcid?: number;
  orgNumber?: string;
  authMode?: 'session' | 'signed-headers';
  sessionTransport?: 'cookie' | 'kdservice-sessionid' | 'SID';
  envelope?: 'named' | 'positional';
  salesOrderWorkflow?: 'save' | 'submit' | 'audit';
  timeoutMs?: number;
  maxResponseBytes?: number;
  requestsPerSecond?: number;
  pageSize?: number;
}

export interface KingdeeCredentials {
  appId: string;
  appSecret: string;
}

const SERVICE_PREFIX = {
  auth: 'Kingdee.BOS.WebApi.ServicesStub.AuthService.',
  form: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.',
  account: 'Kingdee.BOS.ServiceFacade.ServicesStub.Account.AccountService.',
};

/** Kingdee's `Result.ResponseStatus` (fact sheet §1.4). */
export interface KingdeeResponseStatus {
  ErrorCode?: number;
  IsSuccess: boolean;
  Errors?: { FieldName?: string | null; Message?: string; DIndex?: number }[];
  SuccessEntitys?: { Id: number | string; Number: string; DIndex?: number }[];
  SuccessMessages?: unknown[];
  MsgCode?: number;
}

/** The session is gone (MsgCode 1, or the query's "会话…超时" object): log in again, once. */
class SessionLost extends Error {}

/** Messages Kingdee uses for conditions that pass (lock held by another user, timeout, overload). */
const TRANSIENT_MESSAGE = /超时|死锁|繁忙|稍后|网络控制|正在被|锁定|timeout|deadlock|busy|try again/i;
/** Messages that say our payload is wrong: unknown base data, a required field, a bad value. */
const PAYLOAD_MESSAGE = /不存在|必填|必录|不能为空|格式不正确|无效|not exist|required|invalid/i;
const SESSION_MESSAGE = /会话.*(超时|失效|丢失)|重新登录|session/i;
const MAX_MESSAGES = 5;
const MAX_MESSAGE_LENGTH = 500;

function remoteDetail(status: KingdeeResponseStatus | undefined, fallback?: string): RemoteErrorDetail {
  const messages = (status?.Errors ?? [])
    .map((error) => (error.FieldName ? `${error.FieldName}: ${error.Message ?? ''}` : (error.Message ?? '')))
    .filter((message) => message.length > 0);
  if (messages.length === 0 && fallback) messages.push(fallback);
  return {
    code: status ? `ErrorCode ${status.ErrorCode ?? '?'} MsgCode ${status.MsgCode ?? '?'}` : undefined,
    messages: messages.slice(0, MAX_MESSAGES).map((message) => message.slice(0, MAX_MESSAGE_LENGTH)),
  };
}

/**
 * Kingdee answers HTTP 200 with IsSuccess=false for business errors and publishes no stable code
 * table, so the class comes from the message: transient conditions are retryable, a payload the
 * server cannot accept is a mapping error, anything else is permanent.
 */
export function classifyKingdeeFailure(
  what: string,
  status: KingdeeResponseStatus | undefined,
  text?: string,
) {
  const remote = remoteDetail(status, text);
  const joined = (remote.messages ?? []).join(' ');
  if (TRANSIENT_MESSAGE.test(joined)) return new ConnectorRetryableError(`${what} failed: ${joined}`, remote);
  if (PAYLOAD_MESSAGE.test(joined)) return new MappingError(`${what} was refused: ${joined}`, remote);
  return new ConnectorPermanentError(`${what} was refused: ${joined || 'no message'}`, remote);
}

export interface BillQuery {
  FormId: string;
  FieldKeys: string[];
  FilterString?: string;
  OrderString?: string;
  TopRowCount?: number;
  StartRow?: number;
  Limit?: number;
}

interface CallOptions {
  /** Whether repeating the call is harmless (queries, lookups); a lost answer is then retryable. */
  idempotent: boolean;
  signal?: AbortSignal;
}

/**
 * Transport to one Kingdee data centre: envelopes, LoginBySign sessions (renewed once when the
 * server says the session is lost), per-request signed headers, a client-side rate limit, and
 * the mapping of every answer onto the SDK's error taxonomy.
 */
export class KingdeeClient {
  readonly config: Required<KingdeeConfig>;
  private readonly credentials: KingdeeCredentials;
  private readonly bucket: TokenBucket;
  private readonly nowSeconds: () => number;
  private session: Promise<string> | undefined;
  /** Logins performed (tests prove a session is renewed once, not in a loop). */
  loginCount = 0;

  constructor(
    config: KingdeeConfig,
    credentials: KingdeeCredentials,
    options: { nowSeconds?: () => number } = {},
  ) {
    this.config = {
      lcid: 2052,
      orgNumber: '',
      authMode: 'session',
      sessionTransport: 'cookie',
      envelope: 'named',
      salesOrderWorkflow: 'audit',
      timeoutMs: 30_000,
      maxResponseBytes: 32 * 1024 * 1024,
      requestsPerSecond: 10,
      pageSize: 500,
      ...config,
      baseUrl: config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`,
    };
    this.credentials = credentials;
    this.bucket = new TokenBucket({ max: this.config.requestsPerSecond, perSeconds: 1 });
    this.nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Lists the data centres (no login needed): proves the base URL reaches a K/3 Cloud site. */
  async dataCenters(signal?: AbortSignal): Promise<{ Id?: string; Number?: string; Name?: string }[]> {
    const answer = await this.post(`${SERVICE_PREFIX.account}GetDataCenterList`, {}, undefined, {
      idempotent: true,
      signal,
    });
    if (!Array.isArray(answer.json)) throw new NotConnectedError('GetDataCenterList did not answer a list');
    return answer.json as { Id?: string; Number?: string; Name?: string }[];
  }

  /** Logs in by signature (session mode) and returns the session id. */
  async login(signal?: AbortSignal): Promise<string> {
    const timestamp = String(this.nowSeconds());
    const { acctId, userName, lcid } = this.config;
    const { appId, appSecret } = this.credentials;
    const sign = loginBySignature({ acctId, userName, appId, appSecret, timestamp });
    const body =
      this.config.envelope === 'positional'
        ? { parameters: [acctId, userName, appId, timestamp, sign, lcid] }
        : { acctid: acctId, username: userName, appid: appId, timestamp, sign, lcid };
    this.loginCount += 1;
    const answer = await this.post(`${SERVICE_PREFIX.auth}LoginBySign`, body, undefined, {
      idempotent: true,
      signal,
    });
    const result = answer.json as {
      LoginResultType?: number;
      Message?: string | null;
      KDSVCSessionId?: string;
    };
    if (result?.LoginResultType !== 1) {
      throw new NotConnectedError(`Kingdee refused the login: ${result?.Message ?? 'no message'}`, {
        code: `LoginResultType ${result?.LoginResultType ?? '?'}`,
        messages: result?.Message ? [String(result.Message).slice(0, MAX_MESSAGE_LENGTH)] : [],
      });
    }
    const fromCookie = answer.cookies.get('kdservice-sessionid');
    const sessionId = fromCookie ?? result.KDSVCSessionId;
    if (!sessionId) throw new NotConnectedError('Kingdee accepted the login but sent no session id');
    return sessionId;
  }

  /** Save (one bill). Resolves with the saved bill's id and number. */
  async save(
    formId: string,
    data: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<{ id: number; number: string }> {
    const status = await this.formCall('Save', formId, data, { idempotent: false, signal });
    const entity = status.SuccessEntitys?.[0];
    if (!entity) throw new ConnectorRetryableError('Save answered success without the saved bill');
    return { id: Number(entity.Id), number: String(entity.Number) };
  }

  /** Submit / Audit / UnAudit / CancelAssign / Delete by bill numbers. */
  workflow(
    operation: 'Submit' | 'Audit' | 'UnAudit' | 'CancelAssign' | 'Delete',
    formId: string,
    numbers: string[],
    signal?: AbortSignal,
  ): Promise<KingdeeResponseStatus> {
    // A workflow step on a bill whose status already moved fails with a business error, so a
    // repeat is harmless: the steps count as idempotent for transport purposes.
    return this.formCall(
      operation,
      formId,
      { CreateOrgId: 0, Numbers: numbers, Ids: '' },
      { idempotent: true, signal },
    );
  }

  /** ExecuteBillQuery: rows as arrays in FieldKeys order. */
  async executeBillQuery(query: BillQuery, signal?: AbortSignal): Promise<unknown[][]> {
    const data = { ...query, FieldKeys: query.FieldKeys.join(',') };
    const body = this.config.envelope === 'positional' ? { parameters: [JSON.stringify(data)] } : { data };
    const json = await this.withSession((headers) =>
      this.post(`${SERVICE_PREFIX.form}ExecuteBillQuery`, body, headers, { idempotent: true, signal }).then(
        (answer) => answer.json,
      ),
    );
    return this.queryRows(json, query.FormId);
  }

  close(): void {
    this.session = undefined;
  }

  private queryRows(json: unknown, formId: string): unknown[][] {
    if (!Array.isArray(json)) {
      throw new ConnectorRetryableError(`ExecuteBillQuery of ${formId} answered something other than rows`);
    }
    const first = json[0];
    // An error comes back as the only row: [[{"Result":{"ResponseStatus":{...}}}]].
    if (Array.isArray(first) && first.length === 1 && isResultObject(first[0])) {
      const status = (first[0] as { Result: { ResponseStatus?: KingdeeResponseStatus } }).Result
        .ResponseStatus;
      throw classifyKingdeeFailure(`ExecuteBillQuery of ${formId}`, status);
    }
    for (const row of json) {
      if (!Array.isArray(row))
        throw new ConnectorRetryableError(`ExecuteBillQuery of ${formId}: a row is not a list`);
    }
    return json as unknown[][];
  }

  private async formCall(
    service: string,
    formId: string,
    data: Record<string, unknown>,
    options: CallOptions,
  ): Promise<KingdeeResponseStatus> {
    const body =
      this.config.envelope === 'positional'
        ? { parameters: [formId, JSON.stringify(data)] }
        : { formid: formId, data: JSON.stringify(data) };
    const json = await this.withSession((headers) =>
      this.post(`${SERVICE_PREFIX.form}${service}`, body, headers, options).then((answer) => answer.json),
    );
    const status = (json as { Result?: { ResponseStatus?: KingdeeResponseStatus } })?.Result?.ResponseStatus;
    if (!status)
      throw new ConnectorRetryableError(`${service} of ${formId} answered without a ResponseStatus`);
    if (status.IsSuccess === true) return status;
    throw classifyKingdeeFailure(`${service} of ${formId}`, status);
  }

  /**
   * Runs one call with the session (or signature) headers. When the server says the session is
   * lost, logs in again and repeats the call exactly once: the lost session means the server did
   * not run it. A second loss means the credentials no longer work.
   */
  private async withSession<T>(
    call: (auth: (path: string) => Record<string, string>) => Promise<T>,
  ): Promise<T> {
    if (this.config.authMode === 'signed-headers') {
      try {
        return await call((path) => this.signedHeaders(path));
      } catch (error) {
        if (error instanceof SessionLost) throw new NotConnectedError('Kingdee refused the signed request');
        throw error;
      }
    }
    for (let attempt = 0; ; attempt += 1) {
      const session = this.currentSession();
      const sessionId = await session;
      try {
        return await call(() => this.sessionHeaders(sessionId));
      } catch (error) {
        if (!(error instanceof SessionLost)) throw error;
        if (attempt >= 1) throw new NotConnectedError('Kingdee dropped a session it had just opened');
        // Renew only if no concurrent call has renewed it already.
        if (this.session === session) this.session = undefined;
      }
    }
  }

  private currentSession(): Promise<string> {
    if (!this.session) {
      const login = this.login();
      this.session = login;
      login.catch(() => {
        if (this.session === login) this.session = undefined;
      });
    }
    return this.session;
  }

  private sessionHeaders(sessionId: string): Record<string, string> {
    switch (this.config.sessionTransport) {
      case 'kdservice-sessionid':
        return { 'kdservice-sessionid': sessionId };
      case 'SID':
        return { SID: sessionId };
      default:
        return { Cookie: `kdservice-sessionid=${sessionId}` };
    }
  }

  private signedHeaders(path: string): Record<string, string> {
    return signedRequestHeaders({
      path,
      acctId: this.config.acctId,
      userName: this.config.userName,
      appId: this.credentials.appId,
      appSecret: this.credentials.appSecret,
      lcid: this.config.lcid,
      orgNumber: this.config.orgNumber,
      timestampSeconds: String(this.nowSeconds()),
    });
  }

  private async post(
    service: string,
    body: unknown,
    auth: ((path: string) => Record<string, string>) | undefined,
    options: CallOptions,
  ): Promise<{ json: unknown; cookies: Map<string, string> }> {
    const url = new URL(`${service}.common.kdsvc`, this.config.baseUrl);
    await this.bucket.take(options.signal);
    const response = await boundedFetch({
      url: url.toString(),
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...auth?.(url.pathname) },
      body: JSON.stringify(body),
      timeoutMs: this.config.timeoutMs,
      maxResponseBytes: this.config.maxResponseBytes,
      idempotent: options.idempotent,
      signal: options.signal,
    });
    const what = service.slice(service.lastIndexOf('.') + 1);
    if (response.status >= 500) {
      throw new ConnectorRetryableError(`${what}: Kingdee answered HTTP ${response.status}`, {
        code: String(response.status),
      });
    }
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      throw new NotConnectedError(
        `${what}: Kingdee answered HTTP ${response.status}; check the base URL and permissions`,
        {
          code: String(response.status),
        },
      );
    }
    if (response.status !== 200) {
      throw new ConnectorPermanentError(`${what}: Kingdee answered HTTP ${response.status}`, {
        code: String(response.status),
      });
    }
    // Transport faults come back as text: response_error:<json>.
    if (response.text.startsWith('response_error:')) {
      const detail = response.text.slice(
        'response_error:'.length,
        'response_error:'.length + MAX_MESSAGE_LENGTH,
      );
      throw classifyKingdeeFailure(what, undefined, detail);
    }
    let json: unknown;
    try {
      json = JSON.parse(response.text);
    } catch {
      throw new ConnectorRetryableError(`${what}: Kingdee answered something that is not JSON`);
    }
    if (auth && isSessionLost(json)) throw new SessionLost();
    return { json, cookies: parseCookies(response.headers.getSetCookie()) };
  }
}

function isResultObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'Result' in value;
}

/** MsgCode 1 in a ResponseStatus, bare or wrapped as a query's only row; or a "会话已超时" message. */
function isSessionLost(json: unknown): boolean {
  let candidate = json;
  if (Array.isArray(candidate) && Array.isArray(candidate[0]) && candidate[0].length === 1)
    candidate = candidate[0][0];
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) return false;
  const status = (candidate as { Result?: { ResponseStatus?: KingdeeResponseStatus } }).Result
    ?.ResponseStatus;
  if (status && status.IsSuccess === false && status.MsgCode === 1) return true;
  const message = (candidate as { Message?: unknown }).Message;
  return !status && typeof message === 'string' && SESSION_MESSAGE.test(message);
}

function parseCookies(setCookies: string[]): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const header of setCookies) {
    const pair = header.split(';', 1)[0] ?? '';
    const separator = pair.indexOf('=');
    if (separator > 0) cookies.set(pair.slice(0, separator).trim(), pair.slice(separator + 1).trim());
  }
  return cookies;
}

/** The remote's messages of a taxonomy error thrown by this client (for "already audited" checks). */
export function remoteMessages(error: unknown): string {
  return ((error as { remote?: RemoteErrorDetail }).remote?.messages ?? []).join(' ');
}
