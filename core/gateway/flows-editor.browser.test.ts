/**
 * The flow editor in a real browser: Debian's Chromium driven by playwright-core, against a whole
 * hub in this process with Node-RED on. Staff log in through the hub's login, reach the editor,
 * find the hub nodes in the palette and deploy a flow; a buyer is refused.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium } from 'playwright-core';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { waitFor } from '../platform/testing/wait-for.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UI_TIMEOUT_MS = 90_000;

describe('the flow editor in Chromium', () => {
  let testHub: TestHub;
  let userDir: string;
  let browser: Browser;

  beforeAll(async () => {
    userDir = mkdtempSync(path.join(tmpdir(), 'hub-flows-browser-'));
    testHub = await startTestHub({ env: { HUB_FLOWS: 'on', HUB_FLOWS_USER_DIR: userDir } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await testHub?.stop();
    rmSync(userDir, { recursive: true, force: true });
  }, 60_000);

  it('logs staff in through the hub, shows the hub nodes and deploys a flow', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const framesReceived: string[] = [];
    page.on('websocket', (socket) => {
      socket.on('framereceived', ({ payload }) => framesReceived.push(String(payload)));
    });
    try {
      await page.goto(`${testHub.baseUrl}/flows/`);
      expect(new URL(page.url()).pathname).toBe('/flows/login');
      await page.fill('input[name="email"]', 'admin@hub.local');
      await page.fill('input[name="password"]', 'demo-admin-password');
      await Promise.all([page.waitForURL(`${testHub.baseUrl}/flows/`), page.click('button[type="submit"]')]);

      for (const type of ['hub-call', 'hub-event', 'hub-approval']) {
        await page.waitForSelector(`.red-ui-palette-node[data-palette-type="${type}"]`, {
          state: 'attached',
        });
      }
      // The library flow deployed at start is open in the editor.
      await page.waitForSelector('.red-ui-tab:has-text("Large-order approval")', { state: 'attached' });

      // The hub-call form lists the running hub's actions, in the editor's language.
      await page.evaluate(() => {
        const RED = (
          globalThis as unknown as {
            RED: { editor: { edit(node: unknown): void }; nodes: { node(id: string): unknown } };
          }
        ).RED;
        RED.editor.edit(RED.nodes.node('loa-hold'));
      });
      const actionCount = page.locator('#hub-call-action-count');
      await expect(
        actionCount.evaluate(
          (element) =>
            new Promise<string>((resolve) => {
              const check = () =>
                /^\d+ actions in the running hub$/.test(element.textContent ?? '')
                  ? resolve(element.textContent ?? '')
                  : setTimeout(check, 50);
              check();
            }),
          undefined,
          { timeout: UI_TIMEOUT_MS },
        ),
      ).resolves.toMatch(/^\d+ actions in the running hub$/);
      expect(await page.inputValue('#node-input-action')).toBe('orders.staff.transition');
      expect(await page.textContent('label[for="node-input-action"]')).toContain('Action');
      await page.click('#node-dialog-cancel');

      await page.evaluate(() => {
        const RED = (globalThis as unknown as { RED: { view: { importNodes(nodes: unknown[]): void } } }).RED;
        RED.view.importNodes([
          { id: 'browser-tab', type: 'tab', label: 'Deployed from a browser' },
          {
            id: 'browser-inject',
            type: 'inject',
            z: 'browser-tab',
            name: 'from the browser',
            props: [{ p: 'payload' }],
            repeat: '',
            crontab: '',
            once: false,
            onceDelay: 0.1,
            topic: '',
            payload: '',
            payloadType: 'date',
            x: 140,
            y: 80,
            wires: [[]],
          },
        ]);
      });
      await page.click('#red-ui-header-button-deploy');
      const token = await logInAs(testHub.baseUrl, 'admin@hub.local', 'demo-admin-password');
      await waitFor(
        async () => {
          const { body } = await http(testHub.baseUrl, 'GET', '/flows/flows', { token });
          return (
            Array.isArray(body) && body.some((node: { name?: string }) => node.name === 'from the browser')
          );
        },
        'the flow deployed from the browser',
        UI_TIMEOUT_MS,
      );
      // The editor's websocket is signed in: it hears the runtime announce the deployment.
      await waitFor(
        () => framesReceived.some((frame) => frame.includes('runtime-deploy')),
        'the deploy notification on the editor websocket',
        UI_TIMEOUT_MS,
      );
    } finally {
      await context.close();
    }
  }, 240_000);

  it('refuses a buyer: their token is 403, and the login turns them away', async () => {
    const buyerToken = await logInAs(testHub.baseUrl, 'buyer@acme.example', 'demo-buyer-password');
    const context = await browser.newContext();
    try {
      const origin = new URL(testHub.baseUrl);
      await context.addCookies([
        { name: 'hub_admin_token', value: buyerToken, domain: origin.hostname, path: '/' },
      ]);
      const page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      const response = await page.goto(`${testHub.baseUrl}/flows/`);
      expect(response?.status()).toBe(403);
      await context.clearCookies();
      await page.goto(`${testHub.baseUrl}/flows/login`);
      await page.fill('input[name="email"]', 'buyer@acme.example');
      await page.fill('input[name="password"]', 'demo-buyer-password');
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/flows/login') && r.request().method() === 'POST'),
        page.click('button[type="submit"]'),
      ]);
      expect(refused.status()).toBe(403);
      expect(await page.locator('[role="alert"]').textContent()).toContain('may not edit flows');
      expect((await context.cookies()).some((cookie) => cookie.name === 'hub_admin_token')).toBe(false);
    } finally {
      await context.close();
    }
  }, 120_000);
});
