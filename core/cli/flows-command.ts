import { type FlowNode, LIBRARY_DIR, readLibrary, withLibraryFlows } from '../gateway/flows-library.ts';

export interface FlowsDeployOptions {
  /** The hub's base URL, e.g. `http://localhost:3000`. */
  url: string;
  /** A staff access token; or email and password to log in with. */
  token?: string;
  email?: string;
  password?: string;
  /** The library folder (default `flows/library`). */
  library?: string;
  /** Only these library flows (file names without `.flow.json`). */
  only?: string[];
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const REQUEST_TIMEOUT_MS = 30_000;

async function request(url: string, init: RequestInit): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
}

async function staffToken(options: FlowsDeployOptions): Promise<string> {
  if (options.token) return options.token;
  if (!options.email || !options.password)
    throw new Error('give --token (or HUB_TOKEN), or --email with HUB_PASSWORD of a staff account');
  const response = await request(`${options.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: options.email, password: options.password }),
  });
  if (response.status !== 200) throw new Error(`login as ${options.email} failed: ${response.status}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

/**
 * `hub flows deploy`: pushes the flow library to a running hub through Node-RED's admin API at
 * `/flows`, with a staff token (`flows.admin`). Each library flow replaces its tab (an explicit
 * deploy overwrites editor changes to library tabs; other flows are kept as they are), in one
 * deployment guarded by the runtime's revision: a deploy made meanwhile is a conflict, not lost.
 * Exit code 0 deployed, 1 refused by the hub, 2 the library cannot be read.
 */
export async function runFlowsDeploy(options: FlowsDeployOptions, output: Output): Promise<number> {
  let library: Awaited<ReturnType<typeof readLibrary>>;
  try {
    library = await readLibrary(options.library ?? LIBRARY_DIR);
    if (options.only?.length) {
      const unknown = options.only.filter((name) => !library.some((flow) => flow.name === name));
      if (unknown.length > 0) throw new Error(`no library flow named ${unknown.join(', ')}`);
      library = library.filter((flow) => options.only!.includes(flow.name));
    }
    if (library.length === 0) throw new Error('the library holds no flows');
  } catch (error) {
    output.err(`hub flows deploy: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const base = options.url.replace(/\/+$/, '');
    const headers = {
      authorization: `Bearer ${await staffToken({ ...options, url: base })}`,
      'node-red-api-version': 'v2',
    };
    const current = await request(`${base}/flows/flows`, { headers });
    if (current.status !== 200)
      throw new Error(`reading the deployed flows: ${current.status} ${await current.text()}`);
    const { rev, flows } = (await current.json()) as { rev: string; flows: FlowNode[] };
    const deployed = await request(`${base}/flows/flows`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: JSON.stringify({ rev, flows: withLibraryFlows(flows, library) }),
    });
    if (deployed.status === 409)
      throw new Error('the flows changed on the hub meanwhile; run the deploy again');
    if (deployed.status !== 200) throw new Error(`deploying: ${deployed.status} ${await deployed.text()}`);
    const { rev: newRev } = (await deployed.json()) as { rev: string };
    output.out(`deployed ${library.map((flow) => flow.name).join(', ')} (revision ${newRev})\n`);
    return 0;
  } catch (error) {
    output.err(`hub flows deploy: ${(error as Error).message}\n`);
    return 1;
  }
}
