import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { waitFor } from '../platform/testing/wait-for.ts';

const ADMIN = { email: 'admin@hub.local', password: 'demo-admin-password' };
const BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };
const basic = (email: string, password: string) =>
  `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;

describe('Node-RED embedded at /flows behind the staff login', () => {
  let testHub: TestHub;
  let userDir: string;
  let adminToken: string;
  let buyerToken: string;

  beforeAll(async () => {
    userDir = mkdtempSync(path.join(tmpdir(), 'hub-flows-'));
    testHub = await startTestHub({ env: { HUB_FLOWS: 'on', HUB_FLOWS_USER_DIR: userDir } });
    adminToken = await logInAs(testHub.baseUrl, ADMIN.email, ADMIN.password);
    buyerToken = await logInAs(testHub.baseUrl, BUYER.email, BUYER.password);
  }, 120_000);

  afterAll(async () => {
    await testHub?.stop();
    rmSync(userDir, { recursive: true, force: true });
  }, 60_000);

  it('refuses anonymous callers: 401 for the admin API, the login page for a browser', async () => {
    const api = await http(testHub.baseUrl, 'GET', '/flows/settings');
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toMatch(/^Basic/);
    const page = await fetch(`${testHub.baseUrl}/flows/`, {
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/flows/login');
  });

  it('refuses a buyer token with 403, and a token of its own Node-RED header from outside', async () => {
    const buyer = await http(testHub.baseUrl, 'GET', '/flows/settings', { token: buyerToken });
    expect(buyer.status).toBe(403);
    const smuggled = await http(testHub.baseUrl, 'GET', '/flows/settings', {
      headers: { 'x-hub-flows-token': adminToken },
    });
    expect(smuggled.status).toBe(401);
  });

  it('lets staff with flows.admin in with the hub token, and Node-RED sees the staff user', async () => {
    const { status, body } = await http(testHub.baseUrl, 'GET', '/flows/settings', { token: adminToken });
    expect(status).toBe(200);
    expect(body.user.username).toMatch(/^staff:[0-9a-f-]{36}$/);
    expect(body.user.anonymous).toBeUndefined();
  });

  it('takes HTTP Basic with the staff password and answers with the admin cookie, which works alone', async () => {
    const viaBasic = await fetch(`${testHub.baseUrl}/flows/settings`, {
      headers: { authorization: basic(ADMIN.email, ADMIN.password) },
    });
    expect(viaBasic.status).toBe(200);
    const cookie = viaBasic.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^hub_admin_token=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const viaCookie = await fetch(`${testHub.baseUrl}/flows/settings`, {
      headers: { cookie: cookie.split(';')[0]! },
    });
    expect(viaCookie.status).toBe(200);
    const wrongPassword = await fetch(`${testHub.baseUrl}/flows/settings`, {
      headers: { authorization: basic(ADMIN.email, 'not-the-password') },
    });
    expect(wrongPassword.status).toBe(401);
  });

  it('logs staff in through the login form; a buyer account is turned away there too', async () => {
    const form = (email: string, password: string) =>
      fetch(`${testHub.baseUrl}/flows/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email, password }).toString(),
        redirect: 'manual',
      });
    const staff = await form(ADMIN.email, ADMIN.password);
    expect(staff.status).toBe(303);
    expect(staff.headers.get('location')).toBe('/flows/');
    const cookie = (staff.headers.get('set-cookie') ?? '').split(';')[0]!;
    const editor = await fetch(`${testHub.baseUrl}/flows/`, { headers: { cookie, accept: 'text/html' } });
    expect(editor.status).toBe(200);
    expect(await editor.text()).toContain('Hub flows');
    expect(editor.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(staff.headers.get('content-security-policy')).toBe("frame-ancestors 'self'");
    expect((await form(ADMIN.email, 'wrong')).status).toBe(401);
    const buyer = await form(BUYER.email, BUYER.password);
    expect(buyer.status).toBe(403);
    expect(buyer.headers.get('set-cookie')).toBeNull();
  });

  it('has deployed the flow library at start', async () => {
    const { body } = await http(testHub.baseUrl, 'GET', '/flows/flows', { token: adminToken });
    const tab = body.find((node: { id: string }) => node.id === 'large-order-approval');
    expect(tab).toMatchObject({ type: 'tab', label: 'Large-order approval' });
    expect(
      body
        .filter((node: { z?: string }) => node.z === 'large-order-approval')
        .map((n: { type: string }) => n.type),
    ).toEqual(expect.arrayContaining(['hub-config', 'hub-event', 'hub-call', 'hub-approval']));
    const state = JSON.parse(readFileSync(path.join(userDir, 'library-state.json'), 'utf8'));
    expect(Object.keys(state)).toEqual(['large-order-approval']);
  });

  it('deploys a flow through the admin API into the user directory, without installing modules', async () => {
    const flow = [
      { id: 'tab1', type: 'tab', label: 'Deployed by a test' },
      { id: 'inject1', type: 'inject', z: 'tab1', name: 'tick', wires: [[]] },
    ];
    const deployed = await http(testHub.baseUrl, 'POST', '/flows/flows', {
      token: adminToken,
      body: flow,
      headers: { 'node-red-deployment-type': 'full' },
    });
    expect(deployed.status).toBe(204);
    await waitFor(() => {
      try {
        return readFileSync(path.join(userDir, 'flows.json'), 'utf8').includes('Deployed by a test');
      } catch {
        return false;
      }
    }, 'the flows file');
    const read = await http(testHub.baseUrl, 'GET', '/flows/flows', { token: adminToken });
    expect(read.body.map((n: { id: string }) => n.id)).toEqual(['tab1', 'inject1']);
    const install = await http(testHub.baseUrl, 'POST', '/flows/nodes', {
      token: adminToken,
      body: { module: 'node-red-contrib-anything' },
    });
    expect(install.status).toBeGreaterThanOrEqual(400);
    const settings = await http(testHub.baseUrl, 'GET', '/flows/settings', { token: adminToken });
    expect(settings.body.externalModules.palette).toMatchObject({ allowInstall: false, allowUpload: false });
  });

  it('loads the hub node package into the palette', async () => {
    const { status, body } = await http(testHub.baseUrl, 'GET', '/flows/nodes', {
      token: adminToken,
      headers: { accept: 'application/json' },
    });
    expect(status).toBe(200);
    const hubSets = (body as Array<{ module: string; types: string[]; enabled: boolean }>).filter(
      (set) => set.module === 'node-red-contrib-b2b-hub',
    );
    expect(hubSets.flatMap((set) => set.types).sort()).toEqual([
      'hub-approval',
      'hub-call',
      'hub-config',
      'hub-event',
    ]);
    expect(hubSets.every((set) => set.enabled)).toBe(true);
  });

  it('keeps hub connection credentials out of the flows it hands out, encrypted at rest', async () => {
    const natsPassword = 'nats-secret-that-must-not-leak';
    const flow = [
      { id: 'tab2', type: 'tab', label: 'Remote hub' },
      {
        id: 'remote',
        type: 'hub-config',
        mode: 'nats',
        natsUrl: 'nats://127.0.0.1:4222',
        namespace: 'elsewhere',
        callerKind: 'system',
        callerId: '00000000-0000-4000-8000-00000000f105',
        callerPermissions: '',
        credentials: { natsUser: 'flows', natsPassword },
      },
    ];
    const deployed = await http(testHub.baseUrl, 'POST', '/flows/flows', {
      token: adminToken,
      body: flow,
      headers: { 'node-red-deployment-type': 'full' },
    });
    expect(deployed.status).toBe(204);
    const read = await http(testHub.baseUrl, 'GET', '/flows/flows', { token: adminToken });
    expect(JSON.stringify(read.body)).not.toContain(natsPassword);
    expect(read.body.find((n: { id: string }) => n.id === 'remote').credentials).toBeUndefined();
    const credentialsFile = readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    expect(credentialsFile).not.toContain(natsPassword);
    expect(JSON.parse(credentialsFile).$).toEqual(expect.any(String));
    const shown = await http(testHub.baseUrl, 'GET', '/flows/credentials/hub-config/remote', {
      token: adminToken,
    });
    expect(shown.body).toEqual({ natsUser: 'flows', has_natsPassword: true, has_natsToken: false });
  });
});
