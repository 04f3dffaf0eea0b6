import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  type FlowNode,
  flowHash,
  LIBRARY_DIR,
  type LibraryFlow,
  planLibraryDeployment,
  readLibrary,
  withLibraryFlows,
} from './flows-library.ts';

const flow = (tabId: string, label: string): LibraryFlow => ({
  name: tabId,
  tabId,
  nodes: [
    { id: tabId, type: 'tab', label },
    { id: `${tabId}-inject`, type: 'inject', z: tabId, wires: [[]] },
  ],
});

describe('deploying the flow library at start', () => {
  const v1 = flow('lib', 'v1');
  const v2 = flow('lib', 'v2');
  const other: FlowNode[] = [
    { id: 'mine', type: 'tab', label: 'an operator’s own flow' },
    { id: 'mine-node', type: 'debug', z: 'mine' },
  ];
  const deployedV1 = withLibraryFlows(other, [v1]);
  const stateV1 = { lib: { library: flowHash(v1.nodes), deployed: flowHash(v1.nodes) } };

  it('deploys a library flow the runtime does not have, next to the operator’s own flows', () => {
    expect(planLibraryDeployment(other, [v1], {}).deploy).toEqual([v1]);
    expect(deployedV1.map((node) => node.id)).toEqual(['mine', 'mine-node', 'lib', 'lib-inject']);
  });

  it('leaves a flow alone that is deployed as the library has it', () => {
    expect(planLibraryDeployment(deployedV1, [v1], stateV1)).toEqual({
      deploy: [],
      keptEdited: [],
      inSync: [v1],
    });
    // Even when the state file was lost: same content is in sync.
    expect(planLibraryDeployment(deployedV1, [v1], {}).inSync).toEqual([v1]);
  });

  it('replaces a flow nobody touched since the library deployed it when the library changed', () => {
    const plan = planLibraryDeployment(deployedV1, [v2], stateV1);
    expect(plan.deploy).toEqual([v2]);
    const next = withLibraryFlows(deployedV1, plan.deploy);
    expect(next.find((node) => node.id === 'lib')?.label).toBe('v2');
    expect(next.filter((node) => node.id === 'lib-inject')).toHaveLength(1);
  });

  it('never overwrites a flow changed in the editor, nor one the library did not deploy', () => {
    const edited = deployedV1.map((node) => (node.id === 'lib-inject' ? { ...node, name: 'tweaked' } : node));
    expect(planLibraryDeployment(edited, [v2], stateV1).keptEdited).toEqual([v2]);
    expect(planLibraryDeployment(edited, [v2], {}).keptEdited).toEqual([v2]);
  });
});

describe('reading the library', () => {
  it('reads the repository’s library: one tab per file, every node on it, no credentials', async () => {
    const library = await readLibrary(LIBRARY_DIR);
    expect(library.map((f) => f.name)).toContain('large-order-approval');
    for (const { tabId, nodes } of library) {
      expect(nodes.every((node) => node.id === tabId || node.z === tabId)).toBe(true);
      expect(JSON.stringify(nodes)).not.toContain('"credentials"');
    }
  });

  it.each([
    [
      'two tabs',
      [
        { id: 'a', type: 'tab' },
        { id: 'b', type: 'tab' },
      ],
      /exactly one tab/,
    ],
    [
      'a node off the tab',
      [
        { id: 'a', type: 'tab' },
        { id: 'n', type: 'inject', z: 'elsewhere' },
      ],
      /not on the flow's tab/,
    ],
    [
      'credentials',
      [
        { id: 'a', type: 'tab' },
        { id: 'h', type: 'hub-config', z: 'a', credentials: { natsPassword: 'x' } },
      ],
      /carries credentials/,
    ],
    [
      'a repeated id',
      [
        { id: 'a', type: 'tab' },
        { id: 'a', type: 'inject', z: 'a' },
      ],
      /appears twice/,
    ],
  ])('refuses a flow file with %s', async (_what, nodes, message) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flow-library-'));
    try {
      writeFileSync(path.join(dir, 'bad.flow.json'), JSON.stringify(nodes));
      await expect(readLibrary(dir)).rejects.toThrow(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
