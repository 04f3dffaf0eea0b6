import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The versioned flow library: `flows/library/<name>.flow.json`, one Node-RED tab each. */
export const LIBRARY_DIR = path.resolve(import.meta.dirname, '../../flows/library');
const FLOW_FILE_MAX_BYTES = 1024 * 1024;
const FLOW_NODES_MAX = 2000;

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  [key: string]: unknown;
}

export interface LibraryFlow {
  /** The file name without `.flow.json`. */
  name: string;
  /** The id of its tab: every other node of the flow sits on it (`z`). */
  tabId: string;
  nodes: FlowNode[];
}

export class FlowLibraryError extends Error {}

/** Reads and checks every library flow: one tab, every node on it, no credentials, bounded size. */
export async function readLibrary(dir: string = LIBRARY_DIR): Promise<LibraryFlow[]> {
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir)).filter((file) => file.endsWith('.flow.json')).sort();
  const flows: LibraryFlow[] = [];
  for (const file of files) {
    const full = path.join(dir, file);
    if ((await stat(full)).size > FLOW_FILE_MAX_BYTES)
      throw new FlowLibraryError(`${file} is larger than ${FLOW_FILE_MAX_BYTES} bytes`);
    let nodes: unknown;
    try {
      nodes = JSON.parse(await readFile(full, 'utf8'));
    } catch (error) {
      throw new FlowLibraryError(`${file} is not JSON: ${(error as Error).message}`);
    }
    flows.push(checkFlow(file.slice(0, -'.flow.json'.length), nodes));
  }
  const tabs = new Set<string>();
  for (const flow of flows) {
    if (tabs.has(flow.tabId)) throw new FlowLibraryError(`two library flows use the tab id ${flow.tabId}`);
    tabs.add(flow.tabId);
  }
  return flows;
}

function checkFlow(name: string, nodes: unknown): LibraryFlow {
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > FLOW_NODES_MAX)
    throw new FlowLibraryError(`${name}: a flow file is an array of 1 to ${FLOW_NODES_MAX} nodes`);
  const tabs = nodes.filter((node) => (node as FlowNode)?.type === 'tab') as FlowNode[];
  if (tabs.length !== 1) throw new FlowLibraryError(`${name}: a flow file holds exactly one tab`);
  const tabId = tabs[0]!.id;
  const ids = new Set<string>();
  for (const node of nodes as FlowNode[]) {
    if (typeof node?.id !== 'string' || typeof node.type !== 'string')
      throw new FlowLibraryError(`${name}: every node needs a string id and type`);
    if (ids.has(node.id)) throw new FlowLibraryError(`${name}: node id ${node.id} appears twice`);
    ids.add(node.id);
    if (node.type !== 'tab' && node.z !== tabId)
      throw new FlowLibraryError(`${name}: node ${node.id} is not on the flow's tab ${tabId}`);
    if ('credentials' in node) throw new FlowLibraryError(`${name}: node ${node.id} carries credentials`);
  }
  return { name, tabId, nodes: nodes as FlowNode[] };
}

/** The nodes of one tab (the tab itself and everything on it). */
export function nodesOfTab(flows: readonly FlowNode[], tabId: string): FlowNode[] {
  return flows.filter((node) => node.id === tabId || node.z === tabId);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** Identity of a flow's content: SHA-256 of its nodes, sorted by id, keys sorted. */
export function flowHash(nodes: readonly FlowNode[]): string {
  const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify(canonical(sorted)))
    .digest('hex');
}

/** `flows` with each given library flow's tab replaced by (or added as) the library version. */
export function withLibraryFlows(flows: readonly FlowNode[], library: readonly LibraryFlow[]): FlowNode[] {
  const replaced = new Set(library.map((flow) => flow.tabId));
  const kept = flows.filter((node) => !replaced.has(node.id) && !(node.z && replaced.has(node.z)));
  return [...kept, ...library.flatMap((flow) => flow.nodes)];
}

/** What the runtime last deployed from the library, per tab: the library's hash and the deployed one. */
export type LibraryState = Record<string, { library: string; deployed: string }>;

export interface LibraryPlan {
  /** Library flows to deploy: missing, or unchanged since the library deployed them and updated since. */
  deploy: LibraryFlow[];
  /** Library flows changed in the editor: left as they are. */
  keptEdited: LibraryFlow[];
  /** Library flows already deployed as they are in the library. */
  inSync: LibraryFlow[];
}

/**
 * The rule for deploying the library at start: a library flow missing from the runtime is
 * deployed; one whose deployed content is what the library last deployed is replaced when the
 * library has changed; one changed in the editor since (or never deployed by the library) is
 * never overwritten silently: it is kept, and the hub logs which.
 */
export function planLibraryDeployment(
  deployed: readonly FlowNode[],
  library: readonly LibraryFlow[],
  state: LibraryState,
): LibraryPlan {
  const plan: LibraryPlan = { deploy: [], keptEdited: [], inSync: [] };
  for (const flow of library) {
    const current = nodesOfTab(deployed, flow.tabId);
    const libraryHash = flowHash(flow.nodes);
    const currentHash = flowHash(current);
    const last = state[flow.tabId];
    if (current.length === 0) plan.deploy.push(flow);
    else if (currentHash === libraryHash) plan.inSync.push(flow);
    else if (last && last.deployed === currentHash) {
      if (last.library === libraryHash) plan.inSync.push(flow);
      else plan.deploy.push(flow);
    } else plan.keptEdited.push(flow);
  }
  return plan;
}

export async function readLibraryState(file: string): Promise<LibraryState> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as LibraryState) : {};
  } catch {
    return {};
  }
}

export async function writeLibraryState(file: string, state: LibraryState): Promise<void> {
  await writeFile(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}
