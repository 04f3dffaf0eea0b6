import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KingdeeConfig, KingdeeCredentials } from './kingdee-client.ts';
import {
  type FilterSyntaxError,
  filterFields,
  matchesFilter,
  parseFilterString,
} from './kingdee-filter-string.ts';
import {
  apiSignature,
  gatewaySecret,
  kdSignature,
  loginBySignature,
  splitAppId,
} from './kingdee-signatures.ts';

/**
 * A protocol-faithful Kingdee K/3 Cloud WebAPI on a loopback port (fact sheet §1.7), for tests,
 * demos and benches. What it holds to, because a connector that passes against it must work
 * against the real thing:
 *
 * - `POST {base}/k3cloud/<ServiceName>.common.kdsvc`, service names matched case-insensitively;
 *   both envelopes (`{"parameters":[...]}` and `{"formid","data"}`, data as object or JSON text),
 *   and the old ApiClient one (`"parameters"` as one JSON text).
 * - LoginBySign / LoginByAppSecret with the exact signature check; the LoginResult JSON and a
 *   `Set-Cookie: kdservice-sessionid=...`; the session accepted as cookie, `kdservice-sessionid`
 *   header or `SID` header; idle expiry answered `IsSuccess:false, MsgCode:1`.
 * - Per-request `X-Api-*` / `X-Kd-*` signed headers instead of a session, verified byte for byte.
 * - HTTP 200 with `IsSuccess:false` for every business error; query errors wrapped `[[{Result}]]`.
 * - A bill store per form with FBillNo/FNumber uniqueness, base-data references checked, and the
 *   document status machine (Save → A, Submit → B, Audit → C, UnAudit C → A, CancelAssign B → A,
 *   Delete only A/Z).
 * - ExecuteBillQuery: FieldKeys with `.FNumber` dereferences and entry fields (one row per line),
 *   a FilterString subset, OrderString, StartRow/Limit; rows as arrays in FieldKeys order.
 * - Fault injection: HTTP 500, timeout or reset after commit, session expiry, latency, rate limiting.
 *
 * Not a database: everything is in memory and lost on close.
 */

export interface SimulatorUser {
  userName: string;
  appId: string;
  appSecret: string;
}

export interface KingdeeSimulatorOptions {
  acctId?: string;
  users?: SimulatorUser[];
  /** Idle time after which a session is gone (Kingdee's default is about 20 minutes). */
  sessionIdleMs?: number;
  /** Added to every answer. */
  latencyMs?: number;
  /** Largest request body accepted. */
  maxRequestBytes?: number;
}

export type SimulatorFault =
  | { kind: 'http-500'; service?: string; times?: number }
  /** The call runs and commits; the answer never comes (the client's deadline passes). */
  | { kind: 'timeout-after-commit'; service?: string; times?: number }
  /** The call runs and commits; the connection is then cut before the answer (a reset). */
  | { kind: 'reset-after-commit'; service?: string; times?: number }
  /** Every session is dropped just before the matching call is served. */
  | { kind: 'session-expiry'; service?: string; times?: number }
  | { kind: 'latency'; ms: number; service?: string; times?: number }
  | { kind: 'rate-limit'; retryAfterSeconds: number; service?: string; times?: number };

interface FormDefinition {
  formId: string;
  idField: string;
  numberField?: string;
  entryKey?: string;
  numberPrefix?: string;
  /** Fields the form has (lower case) besides those records bring: querying others is an error. */
  header: string[];
  entry?: string[];
}

const COMMON = ['fid', 'fdocumentstatus', 'fforbidstatus', 'fcreatedate', 'fmodifydate'];

const FORMS: FormDefinition[] = [
  {
    formId: 'SAL_SaleOrder',
    idField: 'fid',
    numberField: 'fbillno',
    entryKey: 'fsaleorderentry',
    numberPrefix: 'XSDD',
    header: [
      ...COMMON,
      'fbillno',
      'fdate',
      'fbilltypeid',
      'fsaleorgid',
      'fcustid',
      'fsaledeptid',
      'fsalerid',
      'fsaleorderfinance',
    ],
    entry: [
      'fentryid',
      'fmaterialid',
      'funitid',
      'fqty',
      'fprice',
      'ftaxprice',
      'fentrytaxrate',
      'fdeliverydate',
    ],
  },
  {
    formId: 'SAL_OUTSTOCK',
    idField: 'fid',
    numberField: 'fbillno',
    entryKey: 'fentity',
    numberPrefix: 'XSCKD',
    header: [...COMMON, 'fbillno', 'fdate', 'fcustomerid', 'fcarrierid', 'fcarriageno', 'fstockorgid'],
    entry: ['fentryid', 'fmaterialid', 'frealqty', 'funitid', 'fstockid', 'fsoorderno'],
  },
  {
    formId: 'AR_receivable',
    idField: 'fid',
    numberField: 'fbillno',
    entryKey: 'fentitydetail',
    numberPrefix: 'AR',
    header: [...COMMON, 'fbillno', 'fdate', 'fenddate_h', 'fcustomerid', 'fcurrencyid', 'fallamountfor'],
    entry: ['fentryid', 'fmaterialid', 'fpriceqty', 'ftaxprice', 'fallamountfor_d'],
  },
  {
    formId: 'BD_MATERIAL',
    idField: 'fmaterialid',
    numberField: 'fnumber',
    header: [...COMMON, 'fmaterialid', 'fnumber', 'fname', 'fspecification', 'fbaseunitid', 'fmaterialgroup'],
  },
  {
    formId: 'BD_Customer',
    idField: 'fcustid',
    numberField: 'fnumber',
    header: [...COMMON, 'fcustid', 'fnumber', 'fname', 'fshortname', 'ftaxregistercode', 'ftel'],
  },
  {
    formId: 'STK_Inventory',
    idField: 'fid',
    header: [
      'fid',
      'fmaterialid',
      'fstockid',
      'fstockorgid',
      'flot',
      'fstockstatusid',
      'fbaseqty',
      'fbaselockqty',
      'fbaseunitid',
    ],
  },
];

/** A stored record: keys lower-cased (Kingdee field names are case-insensitive). */
type StoredRecord = Record<string, unknown>;
/** One ExecuteBillQuery row: a bill, and one of its lines when entry fields are asked for. */
type QueryRow = { record: StoredRecord; entry?: StoredRecord };

class FormStore {
  readonly definition: FormDefinition;
  readonly records = new Map<number, StoredRecord>();
  readonly byNumber = new Map<string, number>();
  readonly headerFields = new Set<string>();
  readonly entryFields = new Set<string>();
  numberSequence = 0;
  /** Bumped on every change: sorted row lists cached per OrderString are valid for one version. */
  version = 0;
  readonly sortedRows = new Map<string, { version: number; rows: QueryRow[] }>();

  constructor(definition: FormDefinition) {
    this.definition = definition;
    for (const field of definition.header) this.headerFields.add(field);
    for (const field of definition.entry ?? []) this.entryFields.add(field);
  }

  put(record: StoredRecord): void {
    this.version += 1;
    const id = record[this.definition.idField] as number;
    const numberField = this.definition.numberField;
    if (numberField) this.byNumber.set(String(record[numberField]), id);
    this.records.set(id, record);
    for (const key of Object.keys(record)) this.headerFields.add(key);
    const entries = this.definition.entryKey ? record[this.definition.entryKey] : undefined;
    if (Array.isArray(entries))
      for (const entry of entries) for (const key of Object.keys(entry)) this.entryFields.add(key);
  }

  remove(id: number): void {
    const record = this.records.get(id);
    if (!record) return;
    this.version += 1;
    if (this.definition.numberField) this.byNumber.delete(String(record[this.definition.numberField]));
    this.records.delete(id);
  }

  byBillNumber(number: string): StoredRecord | undefined {
    const id = this.byNumber.get(number);
    return id === undefined ? undefined : this.records.get(id);
  }
}

function lowerKeys(value: unknown, depth = 0): unknown {
  if (depth > 20) throw new Error('Model nested too deeply');
  if (Array.isArray(value)) return value.map((item) => lowerKeys(item, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key.toLowerCase(), lowerKeys(item, depth + 1)]),
  );
}

/** `yyyy-MM-ddTHH:mm:ss` in China time, how Kingdee writes dates in query answers. */
export function kingdeeDateTime(date: Date): string {
  return new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 19);
}

const DEFAULT_USER: SimulatorUser = {
  userName: 'hub-integration',
  // <clientId>_<32-char base64 secret>, the shape Kingdee issues.
  appId: '256001_W5bp4pkvTqgXyK5dHS3ER4QuGvXr3oNl',
  appSecret: '3f1c5b2e9a7d4c60b8e1f2a3d4c5b6a7',
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class KingdeeSimulator {
  readonly acctId: string;
  readonly users: SimulatorUser[];
  sessionIdleMs: number;
  latencyMs: number;
  /** Calls served, by short service name (`Save`, `ExecuteBillQuery`, `LoginBySign`, ...). */
  readonly calls = new Map<string, number>();
  private readonly maxRequestBytes: number;
  private readonly forms = new Map<string, FormStore>();
  private readonly sessions = new Map<string, { user: SimulatorUser; lastSeen: number }>();
  private readonly faults: SimulatorFault[] = [];
  private readonly held = new Set<ServerResponse>();
  private server: Server | undefined;
  private nextId = 100_001;
  private clockOffsetMs = 0;
  baseUrl = '';

  private constructor(options: KingdeeSimulatorOptions) {
    this.acctId = options.acctId ?? '6512a3f0c1e2d4';
    this.users = options.users ?? [DEFAULT_USER];
    this.sessionIdleMs = options.sessionIdleMs ?? 20 * 60_000;
    this.latencyMs = options.latencyMs ?? 0;
    this.maxRequestBytes = options.maxRequestBytes ?? 16 * 1024 * 1024;
    for (const definition of FORMS)
      this.forms.set(definition.formId.toLowerCase(), new FormStore(definition));
  }

  /** Starts a simulator on a free loopback port. */
  static async start(options: KingdeeSimulatorOptions = {}): Promise<KingdeeSimulator> {
    const simulator = new KingdeeSimulator(options);
    const server = createServer((request, response) => {
      simulator.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
        response.end(`Server Error: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    simulator.server = server;
    simulator.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/k3cloud/`;
    return simulator;
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.held.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Settings of a connection to this simulator for its first user. */
  connection(overrides: Partial<KingdeeConfig> = {}): {
    config: KingdeeConfig;
    credentials: KingdeeCredentials;
  } {
    const user = this.users[0] as SimulatorUser;
    return {
      config: { baseUrl: this.baseUrl, acctId: this.acctId, userName: user.userName, ...overrides },
      credentials: { appId: user.appId, appSecret: user.appSecret },
    };
  }

  // ---- test controls -------------------------------------------------------------------------

  injectFault(fault: SimulatorFault): void {
    this.faults.push({ times: 1, ...fault } as SimulatorFault);
  }

  /** Drops every session now (as an administrator kicking users, or a server restart). */
  expireSessions(): void {
    this.sessions.clear();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Moves the simulated clock forward: later writes get later FModifyDate, idle sessions expire. */
  advanceClock(seconds: number): void {
    this.clockOffsetMs += seconds * 1000;
  }

  /** The simulated time as Kingdee writes it (FModifyDate). */
  now(): string {
    return kingdeeDateTime(new Date(this.clockMs()));
  }

  /** The simulated clock: real time moved by `advanceClock` (sessions idle on it too). */
  private clockMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  callCount(service: string): number {
    return this.calls.get(service) ?? 0;
  }

  // ---- data ----------------------------------------------------------------------------------

  /** Records of a form, keys lower-cased, in id order. */
  records(formId: string): StoredRecord[] {
    return [...this.form(formId).records.values()];
  }

  bill(formId: string, number: string): StoredRecord | undefined {
    return this.form(formId).byBillNumber(number);
  }

  /**
   * Inserts records as they would be after Save + Audit (base data and bills alike), without
   * validation: cheap enough for 100,000 materials. Returns the ids given.
   */
  seed(formId: string, records: Record<string, unknown>[], options: { modifiedAt?: string } = {}): number[] {
    return this.insertLowerCased(
      formId,
      records.map((record) => lowerKeys(record) as StoredRecord),
      options.modifiedAt,
    );
  }

  private insertLowerCased(formId: string, records: StoredRecord[], modifiedAt = this.now()): number[] {
    const store = this.form(formId);
    const { idField, numberField, numberPrefix } = store.definition;
    return records.map((record) => {
      const id = this.nextId++;
      record[idField] = id;
      record.fid = id;
      record.fdocumentstatus ??= 'C';
      record.fforbidstatus ??= 'A';
      record.fcreatedate ??= modifiedAt;
      record.fmodifydate ??= modifiedAt;
      if (numberField && record[numberField] === undefined) {
        record[numberField] = `${numberPrefix ?? 'NO'}${String(++store.numberSequence).padStart(6, '0')}`;
      }
      this.numberEntries(store, record);
      store.put(record);
      return id;
    });
  }

  /** `count` materials MAT000001... (keys written lower-case directly: 100,000 in well under a second or two). */
  seedMaterials(count: number, options: { prefix?: string; modifiedAt?: string } = {}): number[] {
    const prefix = options.prefix ?? 'MAT';
    const unit = { fnumber: 'Pcs' };
    const records: StoredRecord[] = new Array(count);
    for (let index = 0; index < count; index += 1) {
      const number = `${prefix}${String(index + 1).padStart(6, '0')}`;
      records[index] = {
        fnumber: number,
        fname: `物料 ${number}`,
        fspecification: `${(index % 50) + 1}mm`,
        fbaseunitid: unit,
        fmaterialgroup: { fnumber: `G${index % 20}` },
      };
    }
    return this.insertLowerCased('BD_MATERIAL', records, options.modifiedAt);
  }

  seedCustomers(count: number, options: { prefix?: string; modifiedAt?: string } = {}): number[] {
    const prefix = options.prefix ?? 'CUST';
    return this.seed(
      'BD_Customer',
      Array.from({ length: count }, (_, index) => {
        const number = `${prefix}${String(index + 1).padStart(4, '0')}`;
        return {
          FNumber: number,
          FName: `客户 ${number}`,
          FShortName: number,
          FTaxRegisterCode: `91310000${index}`,
          FTel: `021-5555${String(index).padStart(4, '0')}`,
        };
      }),
      options,
    );
  }

  /** One STK_Inventory row per material number and warehouse. */
  seedStock(materialNumbers: string[], warehouses: string[] = ['CK001'], quantity = 100): number[] {
    return this.seed(
      'STK_Inventory',
      materialNumbers.flatMap((material) =>
        warehouses.map((stock) => ({
          FMaterialId: { FNumber: material },
          FStockId: { FNumber: stock },
          FStockOrgId: { FNumber: '100' },
          FLot: { FNumber: '' },
          FStockStatusId: { FNumber: 'KCZT01_SYS' },
          FBaseQty: quantity,
          FBaseLockQty: 0,
          FBaseUnitId: { FNumber: 'Pcs' },
        })),
      ),
    );
  }

  /** Changes fields of a record as a user editing it in Kingdee would: FModifyDate moves to now. */
  modify(formId: string, number: string, changes: Record<string, unknown>): void {
    const store = this.form(formId);
    const record = store.byBillNumber(number);
    if (!record) throw new Error(`${formId} ${number} does not exist`);
    Object.assign(record, lowerKeys(changes));
    record.fmodifydate = this.now();
    store.version += 1;
  }

  /** Sets a stock row's quantity in place (STK_Inventory has no modification time). */
  setStock(id: number, quantity: number): void {
    const record = this.form('STK_Inventory').records.get(id);
    if (!record) throw new Error(`STK_Inventory ${id} does not exist`);
    record.fbaseqty = quantity;
    this.form('STK_Inventory').version += 1;
  }

  private form(formId: string): FormStore {
    const store = this.forms.get(formId.toLowerCase());
    if (!store) throw new Error(`The simulator has no form ${formId}`);
    return store;
  }

  private numberEntries(store: FormStore, record: StoredRecord): void {
    const entryKey = store.definition.entryKey;
    const entries = entryKey ? record[entryKey] : undefined;
    if (!Array.isArray(entries)) return;
    for (const entry of entries as StoredRecord[]) entry.fentryid ??= this.nextId++;
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private takeFault(service: string): SimulatorFault | undefined {
    const index = this.faults.findIndex(
      (fault) => !fault.service || fault.service.toLowerCase() === service.toLowerCase(),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index] as SimulatorFault & { times: number };
    fault.times -= 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private async readBody(request: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of request) {
      total += (chunk as Buffer).length;
      if (total > this.maxRequestBytes) return undefined;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0] as string;
    const match = /^\/k3cloud\/(.+)\.common\.kdsvc$/i.exec(path);
    if (request.method !== 'POST' || !match) {
      response.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>404 Not Found</h1>');
      return;
    }
    const fullName = (match[1] as string).toLowerCase();
    const service = SERVICES.get(fullName);
    if (!service) {
      response.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>404 Not Found</h1>');
      return;
    }
    this.calls.set(service, (this.calls.get(service) ?? 0) + 1);
    const text = await this.readBody(request);
    if (text === undefined) {
      response.writeHead(413, { Connection: 'close' }).end();
      return;
    }
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const fault = this.takeFault(service);
    if (fault?.kind === 'latency') await sleep(fault.ms);
    if (fault?.kind === 'http-500') {
      response
        .writeHead(500, { 'Content-Type': 'text/html' })
        .end("<html><body><h1>Server Error in '/K3Cloud' Application.</h1></body></html>");
      return;
    }
    if (fault?.kind === 'rate-limit') {
      response
        .writeHead(429, { 'Content-Type': 'text/plain', 'Retry-After': String(fault.retryAfterSeconds) })
        .end('Too Many Requests');
      return;
    }
    if (fault?.kind === 'session-expiry') this.sessions.clear();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      this.json(response, failure(['请求参数不是有效的 JSON']));
      return;
    }
    // The old "ApiClient" envelope sends the positional parameters as one JSON text.
    if (typeof body.parameters === 'string') {
      try {
        body.parameters = JSON.parse(body.parameters) as unknown;
      } catch {
        this.json(response, failure(['parameters 不是有效的 JSON']));
        return;
      }
    }
    const answer = await this.serve(service, body, request, path);
    if (fault?.kind === 'reset-after-commit') {
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'timeout-after-commit') {
      // The work is done and committed; the answer is held until the client gives up.
      this.held.add(response);
      response.on('close', () => this.held.delete(response));
      return;
    }
    this.json(response, answer.body, answer.headers);
  }

  private json(
    response: ServerResponse,
    body: unknown,
    headers: Record<string, string | string[]> = {},
  ): void {
    response
      .writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', ...headers })
      .end(JSON.stringify(body));
  }

  private async serve(
    service: string,
    body: Record<string, unknown>,
    request: IncomingMessage,
    path: string,
  ): Promise<{ body: unknown; headers?: Record<string, string | string[]> }> {
    switch (service) {
      case 'GetDataCenterList':
        return {
          body: [{ Id: this.acctId, Number: 'HUB', Name: '集成测试账套', DatabaseType: 3, Version: '8.2' }],
        };
      case 'LoginBySign':
      case 'LoginByAppSecret':
        return this.login(service, body);
      case 'Logout':
        return { body: true };
    }
    const caller = this.authenticate(request, path);
    const isQuery = service === 'ExecuteBillQuery';
    if (!caller) {
      const lost = failure(['会话信息已丢失，请重新登录'], 1);
      return { body: isQuery ? [[lost]] : lost };
    }
    const args = envelopeArguments(body, isQuery);
    if ('error' in args) return { body: isQuery ? [[failure([args.error])]] : failure([args.error]) };
    if (isQuery) return { body: this.executeBillQuery(args.data) };
    const store = this.forms.get(args.formId.toLowerCase());
    if (!store) return { body: failure([`业务对象不存在：${args.formId}`]) };
    switch (service) {
      case 'Save':
        return { body: this.save(store, args.data) };
      case 'Submit':
      case 'Audit':
      case 'UnAudit':
      case 'CancelAssign':
      case 'Delete':
        return { body: this.workflow(service, store, args.data) };
      case 'View':
        return { body: this.view(store, args.data) };
      default:
        return { body: failure([`${service} is not implemented by the simulator`]) };
    }
  }

  private login(
    service: string,
    body: Record<string, unknown>,
  ): { body: unknown; headers?: Record<string, string[]> } {
    const named = lowerKeys(body) as Record<string, unknown>;
    const positional = Array.isArray(body.parameters) ? (body.parameters as unknown[]) : undefined;
    const at = (index: number, name: string) => String((positional ? positional[index] : named[name]) ?? '');
    const acctId = at(0, 'acctid');
    const userName = at(1, 'username');
    const appId = at(2, 'appid');
    const user = this.users.find((candidate) => candidate.userName === userName && candidate.appId === appId);
    let accepted = false;
    if (user && acctId === this.acctId) {
      if (service === 'LoginBySign') {
        const timestamp = at(3, 'timestamp');
        const sign = at(4, 'sign');
        const expected = loginBySignature({ acctId, userName, appId, appSecret: user.appSecret, timestamp });
        accepted = safeEqual(sign, expected);
      } else {
        accepted = safeEqual(at(3, 'appsecret'), user.appSecret);
      }
    }
    if (!accepted || !user) {
      return {
        body: loginResult(0, null, acctId === this.acctId ? '用户名或签名验证失败' : '数据中心不存在'),
      };
    }
    const sessionId = randomUUID();
    this.sessions.set(sessionId, { user, lastSeen: this.clockMs() });
    return {
      body: loginResult(1, sessionId, null),
      headers: {
        'Set-Cookie': [
          `kdservice-sessionid=${sessionId}; path=/`,
          `ASP.NET_SessionId=${randomUUID().replaceAll('-', '')}; path=/; HttpOnly`,
          'Theme=standard; path=/',
        ],
      },
    };
  }

  /** The caller by session (cookie, kdservice-sessionid or SID header) or by signed headers. */
  private authenticate(request: IncomingMessage, path: string): SimulatorUser | undefined {
    if (request.headers['x-kd-appkey']) return this.verifySignedHeaders(request, path);
    const cookie = /(?:^|;\s*)kdservice-sessionid=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    const sessionId = cookie ?? header(request, 'kdservice-sessionid') ?? header(request, 'sid');
    if (!sessionId) return undefined;
    const session = this.sessions.get(sessionId);
    if (!session) return undefined;
    if (this.clockMs() - session.lastSeen > this.sessionIdleMs) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    session.lastSeen = this.clockMs();
    return session.user;
  }

  private verifySignedHeaders(request: IncomingMessage, path: string): SimulatorUser | undefined {
    const appId = header(request, 'x-kd-appkey') ?? '';
    const user = this.users.find((candidate) => candidate.appId === appId);
    if (!user) return undefined;
    const timestamp = header(request, 'x-api-timestamp');
    const nonce = header(request, 'x-api-nonce');
    const appData = header(request, 'x-kd-appdata');
    if (!timestamp || !nonce || !appData || header(request, 'x-api-auth-version') !== '2.0') return undefined;
    let clientId: string;
    try {
      clientId = splitAppId(appId).clientId;
    } catch {
      return undefined;
    }
    if (header(request, 'x-api-clientid') !== clientId) return undefined;
    const expectedApi = apiSignature(gatewaySecret(appId), path, nonce, timestamp);
    if (!safeEqual(header(request, 'x-api-signature') ?? '', expectedApi)) return undefined;
    const plain = Buffer.from(appData, 'base64').toString('utf8');
    const [acctId, userName] = plain.split(',');
    if (acctId !== this.acctId || userName !== user.userName) return undefined;
    const expectedKd = kdSignature(user.appSecret, appId, plain);
    return safeEqual(header(request, 'x-kd-signature') ?? '', expectedKd) ? user : undefined;
  }

  // ---- business services ---------------------------------------------------------------------

  private save(store: FormStore, data: Record<string, unknown>): unknown {
    const model = lowerKeys(data.Model ?? data.model) as StoredRecord | undefined;
    if (typeof model !== 'object' || model === null || Array.isArray(model))
      return failure(['Model 不能为空']);
    const { numberField, idField, numberPrefix } = store.definition;
    const errors = this.validate(store, model);
    if (errors.length > 0) return failure(errors);
    const existingId = Number(model.fid ?? model[idField] ?? 0);
    const now = this.now();
    if (existingId > 0) {
      const existing = store.records.get(existingId);
      if (!existing) return failure([`单据 ${existingId} 不存在`]);
      if (existing.fdocumentstatus !== 'A' && existing.fdocumentstatus !== 'Z') {
        return failure(['单据不是创建或暂存状态，不允许修改']);
      }
      Object.assign(existing, model, { fid: existingId, [idField]: existingId, fmodifydate: now });
      this.numberEntries(store, existing);
      store.put(existing);
      return success([entity(store, existing)]);
    }
    if (numberField) {
      const number = model[numberField];
      if (number === undefined || number === null || number === '') {
        model[numberField] = `${numberPrefix ?? 'NO'}${String(++store.numberSequence).padStart(6, '0')}`;
      } else if (store.byNumber.has(String(number))) {
        return failure([`违反字段唯一性要求：编码唯一。[${String(number)}]已经被使用。`]);
      }
    }
    const id = this.nextId++;
    const autoAudit = String(data.IsAutoSubmitAndAudit ?? 'false') === 'true';
    const record: StoredRecord = {
      ...model,
      fid: id,
      [idField]: id,
      fdocumentstatus: autoAudit ? 'C' : 'A',
      fcreatedate: now,
      fmodifydate: now,
    };
    this.numberEntries(store, record);
    store.put(record);
    return success([entity(store, record)]);
  }

  /** The checks Kingdee makes on a sales order that a mapping most often gets wrong. */
  private validate(store: FormStore, model: StoredRecord): string[] {
    if (store.definition.formId !== 'SAL_SaleOrder') return [];
    const errors: string[] = [];
    const customer = (model.fcustid as { fnumber?: string } | undefined)?.fnumber;
    if (!customer) errors.push('字段“客户”是必填项');
    else if (!this.form('BD_Customer').byNumber.has(customer)) errors.push(`客户 ${customer} 不存在或未分配`);
    const entries = model.fsaleorderentry;
    if (!Array.isArray(entries) || entries.length === 0) errors.push('单据体“订单明细”不能为空');
    else {
      entries.forEach((entry: StoredRecord, index) => {
        const material = (entry.fmaterialid as { fnumber?: string } | undefined)?.fnumber;
        if (!material) errors.push(`第${index + 1}行：字段“物料编码”是必填项`);
        else if (!this.form('BD_MATERIAL').byNumber.has(material))
          errors.push(`第${index + 1}行：物料 ${material} 不存在`);
        if (!(Number(entry.fqty) > 0)) errors.push(`第${index + 1}行：销售数量必须大于 0`);
      });
    }
    return errors;
  }

  private workflow(service: string, store: FormStore, data: Record<string, unknown>): unknown {
    const numbers = Array.isArray(data.Numbers) ? data.Numbers.map(String) : [];
    const ids =
      typeof data.Ids === 'string' && data.Ids !== ''
        ? data.Ids.split(',').map((id) => Number(id.trim()))
        : [];
    const targets: { key: string; record: StoredRecord | undefined }[] = [
      ...numbers.map((number) => ({ key: number, record: store.byBillNumber(number) })),
      ...ids.map((id) => ({ key: String(id), record: store.records.get(id) })),
    ];
    if (targets.length === 0) return failure(['请指定单据编号或内码']);
    const done: StoredRecord[] = [];
    const errors: string[] = [];
    for (const { key, record } of targets) {
      if (!record) {
        errors.push(`单据 ${key} 不存在`);
        continue;
      }
      const error = this.transition(service, store, record);
      if (error) errors.push(`${key}：${error}`);
      else done.push(record);
    }
    if (errors.length > 0)
      return failure(
        errors,
        0,
        done.map((record) => entity(store, record)),
      );
    return success(done.map((record) => entity(store, record)));
  }

  private transition(service: string, store: FormStore, record: StoredRecord): string | undefined {
    const status = record.fdocumentstatus;
    const move = (to: string) => {
      record.fdocumentstatus = to;
      record.fmodifydate = this.now();
      store.version += 1;
      return undefined;
    };
    switch (service) {
      case 'Submit':
        if (status === 'A' || status === 'Z' || status === 'D') return move('B');
        return status === 'B' ? '单据已提交，正在审核中' : '单据已审核，不能提交';
      case 'Audit':
        if (status === 'B') return move('C');
        return status === 'C' ? '单据已审核，不能重复审核' : '单据未提交，不能审核';
      case 'UnAudit':
        return status === 'C' ? move('A') : '单据不是已审核状态，不能反审核';
      case 'CancelAssign':
        return status === 'B' ? move('A') : '单据不是审核中状态，不能撤销';
      case 'Delete':
        if (status !== 'A' && status !== 'Z') return '单据不是创建或暂存状态，不能删除';
        store.remove(record[store.definition.idField] as number);
        return undefined;
      default:
        return `${service} is not implemented by the simulator`;
    }
  }

  private view(store: FormStore, data: Record<string, unknown>): unknown {
    const record =
      typeof data.Number === 'string' && data.Number !== ''
        ? store.byBillNumber(data.Number)
        : store.records.get(Number(data.Id));
    if (!record) return failure(['单据不存在']);
    const answer = success([]) as { Result: Record<string, unknown> };
    answer.Result.Result = { Id: record[store.definition.idField], ...record };
    return answer;
  }

  private executeBillQuery(data: Record<string, unknown>): unknown {
    const formId = String(data.FormId ?? '');
    const store = this.forms.get(formId.toLowerCase());
    if (!store) return [[failure([`业务对象不存在：${formId}`])]];
    const fieldKeys = String(data.FieldKeys ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key.length > 0);
    if (fieldKeys.length === 0) return [[failure(['FieldKeys 不能为空'])]];
    let filter: ReturnType<typeof parseFilterString>;
    try {
      filter = parseFilterString(String(data.FilterString ?? ''));
    } catch (error) {
      return [[failure([`过滤条件语法错误：${(error as FilterSyntaxError).message}`])]];
    }
    const entryKey = store.definition.entryKey;
    const entryIdKey = entryKey ? `${entryKey}_fentryid` : undefined;
    const isEntryField = (key: string) => {
      const head = key.toLowerCase().split('.')[0] as string;
      return head === entryIdKey || (!store.headerFields.has(head) && store.entryFields.has(head));
    };
    const known = (key: string) => {
      const head = key.toLowerCase().split('.')[0] as string;
      return (
        head === 'fid' || head === entryIdKey || store.headerFields.has(head) || store.entryFields.has(head)
      );
    };
    const unknown = [...fieldKeys, ...filterFields(filter)].find(
      (key) => store.records.size > 0 && !known(key),
    );
    if (unknown) return [[failure([`字段 ${unknown} 不存在`])]];
    const flatten = entryKey !== undefined && [...fieldKeys, ...filterFields(filter)].some(isEntryField);
    const order = parseOrderString(String(data.OrderString ?? ''));
    const paths = new Map<string, string[]>();
    const pathOf = (key: string) => {
      let path = paths.get(key);
      if (!path) {
        path = key.toLowerCase().split('.');
        paths.set(key, path);
      }
      return path;
    };
    const read = (record: StoredRecord, entry: StoredRecord | undefined, key: string): unknown => {
      const [head, ...rest] = pathOf(key) as [string, ...string[]];
      let value: unknown;
      if (head === entryIdKey) value = entry?.fentryid;
      else if (entry && !(head in record) && head in entry) value = entry[head];
      else value = record[head];
      for (const segment of rest) value = (value as StoredRecord | null | undefined)?.[segment];
      return value ?? null;
    };
    const sorted = this.sortedRows(store, order, flatten, read);
    const startRow = Math.max(0, Number(data.StartRow ?? 0) || 0);
    const top = Number(data.TopRowCount ?? 0) || 0;
    const limit = Number(data.Limit ?? 0) || 0;
    // Rows are scanned in order and the scan stops once the page is full.
    const wanted = Math.min(
      top > 0 ? top : Number.POSITIVE_INFINITY,
      limit > 0 ? startRow + limit : Number.POSITIVE_INFINITY,
    );
    const matched: QueryRow[] = [];
    for (const row of sorted) {
      if (matched.length >= wanted) break;
      if (matchesFilter(filter, (key) => read(row.record, row.entry, key))) matched.push(row);
    }
    const selected = matched.slice(startRow);
    return selected.map(({ record, entry }) => fieldKeys.map((key) => read(record, entry, key)));
  }

  /** Every row of a form in OrderString order, cached until the form changes. */
  private sortedRows(
    store: FormStore,
    order: { field: string; descending: boolean }[],
    flatten: boolean,
    read: (record: StoredRecord, entry: StoredRecord | undefined, key: string) => unknown,
  ): QueryRow[] {
    const cacheKey = `${flatten}|${order.map((part) => `${part.field.toLowerCase()} ${part.descending}`).join(',')}`;
    const cached = store.sortedRows.get(cacheKey);
    if (cached && cached.version === store.version) return cached.rows;
    const entryKey = store.definition.entryKey as string;
    const rows: QueryRow[] = [];
    for (const record of store.records.values()) {
      if (!flatten) rows.push({ record });
      else
        for (const entry of (record[entryKey] as StoredRecord[] | undefined) ?? [])
          rows.push({ record, entry });
    }
    if (order.length > 0) {
      rows.sort((a, b) => {
        for (const { field, descending } of order) {
          const x = read(a.record, a.entry, field) as string | number | null;
          const y = read(b.record, b.entry, field) as string | number | null;
          if (x === y) continue;
          const less = x === null || (y !== null && x < y);
          return (less ? -1 : 1) * (descending ? -1 : 1);
        }
        return 0;
      });
    }
    if (store.sortedRows.size >= 8) store.sortedRows.clear(); // bounded: OrderStrings come from clients
    store.sortedRows.set(cacheKey, { version: store.version, rows });
    return rows;
  }
}

/** Full service names (lower case) → short names. */
const SERVICES = new Map<string, string>(
  [
    ...['LoginBySign', 'LoginByAppSecret', 'Logout'].map(
      (name) => `Kingdee.BOS.WebApi.ServicesStub.AuthService.${name}`,
    ),
    ...[
      'Save',
      'Submit',
      'Audit',
      'UnAudit',
      'CancelAssign',
      'Delete',
      'View',
      'ExecuteBillQuery',
      'ExcuteOperation',
    ].map((name) => `Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.${name}`),
    'Kingdee.BOS.ServiceFacade.ServicesStub.Account.AccountService.GetDataCenterList',
  ].map((full) => [full.toLowerCase(), full.slice(full.lastIndexOf('.') + 1)]),
);

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function safeEqual(actual: string, expected: string): boolean {
  const a = Buffer.from(actual, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The (formId, data) of either envelope; data may be an object or JSON text. */
function envelopeArguments(
  body: Record<string, unknown>,
  isQuery: boolean,
): { formId: string; data: Record<string, unknown> } | { error: string } {
  let formId: unknown;
  let data: unknown;
  if (Array.isArray(body.parameters)) {
    [formId, data] = isQuery ? ['', body.parameters[0]] : body.parameters;
  } else {
    formId = body.formid ?? body.FormId ?? '';
    data = body.data;
  }
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return { error: 'data 不是有效的 JSON' };
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { error: '缺少参数 data' };
  const record = data as Record<string, unknown>;
  return { formId: String(isQuery ? (record.FormId ?? '') : formId), data: record };
}

function parseOrderString(text: string): { field: string; descending: boolean }[] {
  if (text.length > 1000) return [];
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const [field, direction] = part.split(/\s+/);
      return { field: field as string, descending: direction?.toLowerCase() === 'desc' };
    });
}

function entity(store: FormStore, record: StoredRecord) {
  const numberField = store.definition.numberField;
  return {
    Id: record[store.definition.idField],
    Number: numberField ? record[numberField] : '',
    DIndex: 0,
  };
}

function success(entities: { Id: unknown; Number: unknown; DIndex: number }[]) {
  const first = entities[0];
  return {
    Result: {
      ResponseStatus: {
        ErrorCode: 0,
        IsSuccess: true,
        Errors: [],
        SuccessEntitys: entities,
        SuccessMessages: [],
        MsgCode: 0,
      },
      Id: first?.Id ?? '',
      Number: first?.Number ?? '',
      NeedReturnData: [{}],
    },
  };
}

function failure(messages: string[], msgCode = 0, entities: unknown[] = []) {
  return {
    Result: {
      ResponseStatus: {
        ErrorCode: 500,
        IsSuccess: false,
        Errors: messages.map((message, index) => ({ FieldName: null, Message: message, DIndex: index })),
        SuccessEntitys: entities,
        SuccessMessages: [],
        MsgCode: msgCode,
      },
      Id: '',
      Number: '',
      NeedReturnData: [],
    },
  };
}

function loginResult(type: number, sessionId: string | null, message: string | null) {
  return {
    Message: message,
    MessageCode: type === 1 ? 'CheckPasswordPolicy' : null,
    LoginResultType: type,
    Context:
      type === 1 ? { UserName: 'hub-integration', UserId: 100008, DataCenterName: '集成测试账套' } : null,
    KDSVCSessionId: sessionId,
    FormId: null,
    RedirectFormParam: null,
    FormInputObject: null,
    ErrorStackTrace: null,
    Lcid: 2052,
    AccessToken: null,
    KdAccessResult: null,
    IsSuccessByAPI: type === 1,
  };
}
