import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { runFlowsDeploy } from './flows-command.ts';

const repository = path.resolve(import.meta.dirname, '../..');

function capture() {
  const lines = { out: '', err: '' };
  return { lines, output: { out: (t: string) => (lines.out += t), err: (t: string) => (lines.err += t) } };
}

const tab = (id: string, label: string) => [
  { id, type: 'tab', label },
  { id: `${id}-inject`, type: 'inject', z: id, name: label, wires: [[]] },
];

describe('hub flows deploy against a running hub', () => {
  let testHub: TestHub;
  let scratch: string;
  let library: string;
  let adminToken: string;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'hub-flows-cli-'));
    library = path.join(scratch, 'library');
    mkdirSync(library);
    writeFileSync(
      path.join(library, 'nightly.flow.json'),
      JSON.stringify(tab('nightly', 'Nightly (library)'), null, 2),
    );
    writeFileSync(
      path.join(library, 'other.flow.json'),
      JSON.stringify(tab('other', 'Other (library)'), null, 2),
    );
    testHub = await startTestHub({
      env: {
        HUB_FLOWS: 'on',
        HUB_FLOWS_USER_DIR: path.join(scratch, 'user'),
        HUB_FLOWS_LIBRARY_DIR: path.join(scratch, 'empty-library'),
      },
    });
    adminToken = await logInAs(testHub.baseUrl, 'admin@hub.local', 'demo-admin-password');
  }, 120_000);

  afterAll(async () => {
    await testHub?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  const deployedFlows = async () =>
    (await http(testHub.baseUrl, 'GET', '/flows/flows', { token: adminToken })).body as Array<{
      id: string;
      label?: string;
      z?: string;
    }>;

  it('puts the library tabs back as the library has them and keeps the operator’s own flows', async () => {
    await http(testHub.baseUrl, 'POST', '/flows/flows', {
      token: adminToken,
      headers: { 'node-red-deployment-type': 'full' },
      body: [...tab('nightly', 'Nightly (edited in the editor)'), ...tab('mine', 'An operator’s own')],
    });
    const { lines, output } = capture();
    const code = await runFlowsDeploy({ url: testHub.baseUrl, token: adminToken, library }, output);
    expect(lines.err).toBe('');
    expect(code).toBe(0);
    expect(lines.out).toMatch(/^deployed nightly, other \(revision [0-9a-f]+\)\n$/);
    const flows = await deployedFlows();
    const tabs = Object.fromEntries(flows.filter((n) => !n.z).map((n) => [n.id, n.label]));
    expect(tabs).toEqual({
      mine: 'An operator’s own',
      nightly: 'Nightly (library)',
      other: 'Other (library)',
    });
    expect(flows.filter((n) => n.id === 'nightly-inject')).toHaveLength(1);
  });

  it('logs in with a staff email and password, and is refused for a buyer', async () => {
    const staff = capture();
    expect(
      await runFlowsDeploy(
        {
          url: testHub.baseUrl,
          email: 'admin@hub.local',
          password: 'demo-admin-password',
          library,
          only: ['other'],
        },
        staff.output,
      ),
    ).toBe(0);
    expect(staff.lines.out).toMatch(/^deployed other /);
    const buyer = capture();
    const code = await runFlowsDeploy(
      { url: testHub.baseUrl, email: 'buyer@acme.example', password: 'demo-buyer-password', library },
      buyer.output,
    );
    expect(code).toBe(1);
    expect(buyer.lines.err).toMatch(/403/);
  });

  it('says so and deploys nothing when the library cannot be read', async () => {
    writeFileSync(path.join(scratch, 'broken.flow.json'), '[{"id": "a", "type": "tab"}, {"id": "b"');
    const before = await deployedFlows();
    const { lines, output } = capture();
    expect(await runFlowsDeploy({ url: testHub.baseUrl, token: adminToken, library: scratch }, output)).toBe(
      2,
    );
    expect(lines.err).toMatch(/broken\.flow\.json is not JSON/);
    expect(await deployedFlows()).toEqual(before);
  });

  it('runs as the hub command, with the token from HUB_TOKEN', async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          path.join(repository, 'core/cli/hub.ts'),
          'flows',
          'deploy',
          '--url',
          testHub.baseUrl,
          '--library',
          library,
          '--only',
          'nightly',
        ],
        { cwd: repository, timeout: 120_000, env: { ...process.env, HUB_TOKEN: adminToken } },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^deployed nightly \(revision [0-9a-f]+\)\n$/);
  }, 130_000);
});
