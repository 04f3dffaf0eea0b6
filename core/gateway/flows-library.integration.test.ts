import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';

/** The library rule across restarts of a real hub sharing one Node-RED user directory. */
describe('the flow library across hub restarts', () => {
  let scratch: string;
  let library: string;
  let userDir: string;
  let running: TestHub | undefined;

  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'hub-flows-library-'));
    library = path.join(scratch, 'library');
    userDir = path.join(scratch, 'user');
    mkdirSync(library);
  });

  afterAll(async () => {
    await running?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  function writeLibraryFlow(label: string) {
    const nodes = [
      { id: 'nightly', type: 'tab', label, disabled: false, info: '', env: [] },
      { id: 'nightly-note', type: 'comment', z: 'nightly', name: label, info: '', x: 160, y: 60, wires: [] },
    ];
    writeFileSync(path.join(library, 'nightly.flow.json'), `${JSON.stringify(nodes, null, 2)}\n`);
  }

  async function restart(): Promise<{ hub: TestHub; token: string }> {
    await running?.stop();
    running = await startTestHub({
      env: { HUB_FLOWS: 'on', HUB_FLOWS_USER_DIR: userDir, HUB_FLOWS_LIBRARY_DIR: library },
    });
    return { hub: running, token: await logInAs(running.baseUrl, 'admin@hub.local', 'demo-admin-password') };
  }

  async function tabLabel(hub: TestHub, token: string) {
    const { body } = await http(hub.baseUrl, 'GET', '/flows/flows', { token });
    return (body as Array<{ id: string; label?: string }>).find((node) => node.id === 'nightly')?.label;
  }

  it('deploys, updates an untouched flow, and keeps a flow edited in the editor', async () => {
    writeLibraryFlow('v1');
    let { hub, token } = await restart();
    expect(await tabLabel(hub, token)).toBe('v1');

    writeLibraryFlow('v2');
    ({ hub, token } = await restart());
    expect(await tabLabel(hub, token)).toBe('v2');

    const { body } = await http(hub.baseUrl, 'GET', '/flows/flows', { token });
    const edited = (body as Array<{ id: string; label?: string }>).map((node) =>
      node.id === 'nightly' ? { ...node, label: 'edited in the editor' } : node,
    );
    const deployed = await http(hub.baseUrl, 'POST', '/flows/flows', {
      token,
      body: edited,
      headers: { 'node-red-deployment-type': 'full' },
    });
    expect(deployed.status).toBe(204);

    writeLibraryFlow('v3');
    ({ hub, token } = await restart());
    expect(await tabLabel(hub, token)).toBe('edited in the editor');
  }, 240_000);
});
