import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import path from 'node:path';
import type moleculer from 'moleculer';
import type { Logger } from 'pino';
import type { AccessTokens } from '../platform/auth/access-tokens.ts';
import { type AuthContext, hasPermission } from '../platform/auth/auth-context.ts';
import type { FlowsConfig } from '../platform/config/hub-config.ts';
import { Forbidden, HubError, Unauthorized } from '../platform/errors/hub-errors.ts';
import { ADMIN_TOKEN_COOKIE, type RequestAuthenticator, readCookie } from './authenticate-request.ts';
import {
  type FlowNode,
  flowHash,
  LIBRARY_DIR,
  nodesOfTab,
  planLibraryDeployment,
  readLibrary,
  readLibraryState,
  withLibraryFlows,
  writeLibraryState,
} from './flows-library.ts';
import type { GatewayRequest } from './idempotency-middleware.ts';
import { sendProblem, toProblem } from './problem-details.ts';

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** The part of Node-RED's embedding API the hub uses (`node-red` ships no types). */
interface NodeRedRuntime {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpAdmin: Middleware;
  readonly runtime: {
    flows: {
      getFlows(opts: object): Promise<{ flows: FlowNode[]; rev: string }>;
      setFlows(opts: { flows: { flows: FlowNode[]; rev?: string }; deploymentType: string }): Promise<{
        rev: string;
      }>;
    };
  };
}

export const FLOWS_PATH = '/flows';
export const FLOWS_PERMISSION = 'flows.admin';
/** The header the guard hands Node-RED the caller's hub token in (never taken from the client). */
const FLOWS_TOKEN_HEADER = 'x-hub-flows-token';
const NODES_DIR = path.resolve(import.meta.dirname, '../../flows/nodes');
const LOGIN_BODY_MAX_BYTES = 4096;

/** Node-RED's numeric log levels (`@node-red/util` log.js) and the pino method each goes to. */
const NODE_RED_LEVELS: Record<number, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'> = {
  10: 'fatal',
  20: 'error',
  30: 'warn',
  40: 'info',
  50: 'debug',
  60: 'trace',
  98: 'info',
  99: 'debug',
};

/** Node-RED is one runtime per process: a second gateway in the same process runs without it. */
let runtimeOwner: FlowsEditor | undefined;

export interface FlowsEditorOptions {
  config: FlowsConfig;
  tokens: AccessTokens;
  authenticator: () => RequestAuthenticator;
  broker: moleculer.ServiceBroker;
  logger: Logger;
}

/** The Node-RED user a hub staff member is in the editor: the id, for Node-RED's audit log. */
function nodeRedUser(auth: AuthContext) {
  return { username: `staff:${auth.principalId}`, permissions: '*' };
}

function mayEditFlows(auth: AuthContext | undefined): auth is AuthContext {
  return auth?.kind === 'staff' && hasPermission(auth, FLOWS_PERMISSION);
}

function wantsHtml(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function loginPage(message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hub flows · staff login</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:22rem;margin:4rem auto}label{display:block;margin:.8rem 0}
input{width:100%;padding:.4rem}button{padding:.5rem 1.2rem}.error{color:#b00}</style></head>
<body><h1>Hub flows</h1><p>Staff login (the hub's own account).</p>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="${FLOWS_PATH}/login">
<label>Email <input name="email" type="email" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form></body></html>`;
}

async function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HubError(413, 'payload-too-large', 'Login form too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Node-RED 5 inside the gateway's HTTP server at `/flows`: the editor and its admin API, behind
 * the hub's staff login. A guard in front of Node-RED accepts the hub's own credentials (Bearer
 * token, the admin token cookie, HTTP Basic with staff email and password, or the login form at
 * `/flows/login`, which sets the cookie) and lets through staff holding `flows.admin` only; it
 * hands Node-RED the caller's hub token in a header of its own, which Node-RED's `adminAuth.tokens`
 * resolves back to the staff user, so Node-RED's audit log names who deployed. The editor's
 * websocket carries the same cookie. Flow HTTP-in endpoints are off (`httpNodeRoot: false`).
 */
export class FlowsEditor {
  readonly #options: FlowsEditorOptions;
  readonly #sockets = new Set<Socket>();
  #red: NodeRedRuntime | undefined;
  #server: Server | undefined;
  #onUpgrade: ((req: IncomingMessage, socket: Socket) => void) | undefined;
  #nodeRedUpgradeListeners: Array<(...args: unknown[]) => void> = [];

  constructor(options: FlowsEditorOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#red !== undefined;
  }

  settings(): Record<string, unknown> {
    const { config, tokens, logger, broker } = this.#options;
    return {
      httpAdminRoot: FLOWS_PATH,
      httpNodeRoot: false,
      userDir: config.userDir,
      flowFile: 'flows.json',
      flowFilePretty: true,
      credentialSecret: config.credentialSecret,
      nodesDir: [NODES_DIR],
      uiPort: 0,
      adminAuth: {
        // No `type`: Node-RED offers no login of its own; the guard has already checked the caller.
        tokens: async (token: string) => {
          try {
            const auth = await tokens.verify(token);
            return mayEditFlows(auth) ? nodeRedUser(auth) : null;
          } catch {
            return null;
          }
        },
        tokenHeader: FLOWS_TOKEN_HEADER,
      },
      editorTheme: {
        page: { title: 'Hub flows' },
        header: { title: 'Hub flows' },
        projects: { enabled: false },
        tours: false,
        multiplayer: { enabled: false },
      },
      externalModules: {
        autoInstall: false,
        palette: { allowInstall: false, allowUpload: false },
        modules: { allowInstall: false },
      },
      functionExternalModules: false,
      diagnostics: { enabled: false },
      runtimeState: { enabled: false },
      telemetry: { enabled: false },
      logging: {
        console: { level: 'off' },
        hub: {
          level: 'info',
          audit: true,
          handler: () => (msg: { level: number; msg?: unknown; timestamp?: number; event?: string }) => {
            const method = NODE_RED_LEVELS[msg.level] ?? 'info';
            const { level, msg: text, timestamp: _timestamp, ...fields } = msg;
            logger[method](
              { nodeRed: fields, audit: level === 98 || undefined },
              String(text ?? msg.event ?? ''),
            );
          },
        },
      },
      // What the hub nodes read (`RED.settings.hub`): the in-process broker.
      hub: { broker },
    };
  }

  /** Starts Node-RED on the gateway's server; false when another gateway of this process has it. */
  async start(server: Server): Promise<boolean> {
    if (runtimeOwner) {
      this.#options.logger.warn('Node-RED already runs in this process; /flows is not served here');
      return false;
    }
    runtimeOwner = this;
    let red: NodeRedRuntime;
    try {
      mkdirSync(this.#options.config.userDir, { recursive: true });
      red = createRequire(import.meta.url)('node-red') as NodeRedRuntime;
      // Before Node-RED's own upgrade listener: the editor's websocket authenticates with the cookie.
      this.#onUpgrade = (req, socket) => this.#prepareUpgrade(req, socket);
      server.prependListener('upgrade', this.#onUpgrade);
      const before = new Set(server.listeners('upgrade'));
      red.init(server, this.settings());
      await red.start();
      this.#nodeRedUpgradeListeners = server
        .listeners('upgrade')
        .filter((listener) => !before.has(listener)) as Array<(...args: unknown[]) => void>;
      this.#red = red;
      this.#server = server;
    } catch (error) {
      runtimeOwner = undefined;
      if (this.#onUpgrade) server.off('upgrade', this.#onUpgrade);
      throw error;
    }
    try {
      await this.#deployLibrary(red);
    } catch (error) {
      // A broken library file must not take the hub down; the editor still works.
      this.#options.logger.error({ err: error }, 'flow library not deployed');
    }
    return true;
  }

  /** Deploys the flow library by the rule of `planLibraryDeployment`; see flows/README.md. */
  async #deployLibrary(red: NodeRedRuntime) {
    const { config, logger } = this.#options;
    const library = await readLibrary(config.libraryDir ?? LIBRARY_DIR);
    if (library.length === 0) return;
    const stateFile = path.join(config.userDir, 'library-state.json');
    const state = await readLibraryState(stateFile);
    const { flows, rev } = await red.runtime.flows.getFlows({});
    const plan = planLibraryDeployment(flows, library, state);
    for (const flow of plan.keptEdited) {
      logger.warn(
        { flow: flow.name, tab: flow.tabId },
        'library flow changed in the editor: kept as it is (export it to flows/library, or delete the tab to get the library version)',
      );
    }
    let deployed = flows;
    if (plan.deploy.length > 0) {
      await red.runtime.flows.setFlows({
        flows: { flows: withLibraryFlows(flows, plan.deploy), rev },
        deploymentType: 'full',
      });
      deployed = (await red.runtime.flows.getFlows({})).flows;
      logger.info({ flows: plan.deploy.map((flow) => flow.name) }, 'library flows deployed');
    }
    for (const flow of [...plan.deploy, ...plan.inSync]) {
      state[flow.tabId] = {
        library: flowHash(flow.nodes),
        deployed: flowHash(nodesOfTab(deployed, flow.tabId)),
      };
    }
    await writeLibraryState(stateFile, state);
  }

  async stop(): Promise<void> {
    const red = this.#red;
    if (!red) return;
    this.#red = undefined;
    try {
      await red.stop();
    } finally {
      for (const socket of this.#sockets) socket.destroy();
      this.#sockets.clear();
      if (this.#onUpgrade) this.#server?.off('upgrade', this.#onUpgrade);
      // Node-RED's comms listener stays on the server after stop; the server may outlive it.
      for (const listener of this.#nodeRedUpgradeListeners) this.#server?.off('upgrade', listener);
      this.#nodeRedUpgradeListeners = [];
      runtimeOwner = undefined;
    }
  }

  #prepareUpgrade(req: IncomingMessage, socket: Socket) {
    if (!(req.url ?? '').startsWith(`${FLOWS_PATH}/`)) return;
    delete req.headers[FLOWS_TOKEN_HEADER];
    const token = bearerOf(req) ?? readCookie(req.headers.cookie, ADMIN_TOKEN_COOKIE);
    if (token) req.headers[FLOWS_TOKEN_HEADER] = token;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** The moleculer-web middleware for the `/flows` route (the route strips the prefix). */
  readonly handle = (req: GatewayRequest, res: ServerResponse, next: Next): void => {
    void this.#guard(req, res, next);
  };

  async #guard(req: GatewayRequest, res: ServerResponse, next: Next) {
    delete req.headers[FLOWS_TOKEN_HEADER];
    // The editor and its login are never framed by another site (clickjacking a deploy).
    res.setHeader('X-Frame-Options', 'SAMEORIGIN');
    res.setHeader('Content-Security-Policy', "frame-ancestors 'self'");
    const pathname = (req.url ?? '/').split('?')[0];
    try {
      if (pathname === '/login') return await this.#login(req, res);
      const red = this.#red;
      if (!red) throw new HubError(503, 'flows-unavailable', 'The flow editor does not run in this process');
      const token = await this.#callerToken(req, res);
      if (!token) {
        if (wantsHtml(req)) return redirect(res, `${FLOWS_PATH}/login`);
        throw new Unauthorized('Staff login required');
      }
      req.headers[FLOWS_TOKEN_HEADER] = token;
      red.httpAdmin(req, res, next);
    } catch (error) {
      const problem = toProblem(error, req.originalUrl ?? req.url ?? '', req.$requestId);
      sendProblem(res, problem, 'Basic realm="hub admin", charset="UTF-8"');
    }
  }

  /**
   * The caller's hub token once they are known to hold `flows.admin`; undefined when anonymous.
   * A Basic login gets a token minted and set as the admin cookie, for the editor's websocket.
   */
  async #callerToken(req: GatewayRequest, res: ServerResponse): Promise<string | undefined> {
    const auth = await this.#options.authenticator().authenticateAdmin(req.headers);
    if (!auth) return undefined;
    if (!mayEditFlows(auth)) throw new Forbidden(`Missing permission ${FLOWS_PERMISSION}`);
    req.$hubAuth = auth;
    const presented = bearerOf(req) ?? readCookie(req.headers.cookie, ADMIN_TOKEN_COOKIE);
    if (presented) return presented;
    const minted = await this.#options.tokens.issue(auth);
    setAdminCookie(req, res, minted, this.#options.tokens.ttlSeconds);
    return minted;
  }

  async #login(req: GatewayRequest, res: ServerResponse) {
    if (req.method === 'GET') return sendHtml(res, 200, loginPage());
    if (req.method !== 'POST') throw new HubError(405, 'method-not-allowed', 'GET or POST only');
    const form = new URLSearchParams(await readBoundedBody(req, LOGIN_BODY_MAX_BYTES));
    let accessToken: string;
    try {
      ({ accessToken } = (await this.#options.broker.call('accounts.login', {
        email: form.get('email') ?? '',
        password: form.get('password') ?? '',
      })) as { accessToken: string });
    } catch {
      return sendHtml(res, 401, loginPage('Wrong email or password.'));
    }
    const auth = await this.#options.tokens.verify(accessToken);
    if (!mayEditFlows(auth))
      return sendHtml(res, 403, loginPage(`This account may not edit flows (${FLOWS_PERMISSION}).`));
    setAdminCookie(req, res, accessToken, this.#options.tokens.ttlSeconds);
    redirect(res, `${FLOWS_PATH}/`);
  }
}

function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S{1,4096})$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function setAdminCookie(req: IncomingMessage, res: ServerResponse, token: string, maxAge: number) {
  const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  res.setHeader(
    'Set-Cookie',
    `${ADMIN_TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`,
  );
}

function redirect(res: ServerResponse, location: string) {
  res.statusCode = 303;
  res.setHeader('Location', location);
  res.end();
}

function sendHtml(res: ServerResponse, status: number, html: string) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}
