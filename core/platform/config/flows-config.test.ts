import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadHubConfig } from './hub-config.ts';

const secrets = () => ({
  HUB_JWT_SECRET: randomBytes(32).toString('base64'),
  HUB_MASTER_KEY: randomBytes(32).toString('base64'),
  DATABASE_URL: 'postgres://127.0.0.1/never-opened',
});

describe('the flows settings of a hub process', () => {
  it('runs Node-RED by default with its user directory under the data directory', () => {
    const config = loadHubConfig({ ...secrets(), HUB_DATA_DIR: '/srv/hub' });
    expect(config.flows.enabled).toBe(true);
    expect(config.flows.userDir).toBe(path.resolve('/srv/hub/flows'));
    expect(config.flows.libraryDir).toBeUndefined();
  });

  it('turns Node-RED off with HUB_FLOWS=off and refuses anything but on or off', () => {
    expect(loadHubConfig({ ...secrets(), HUB_FLOWS: 'off' }).flows.enabled).toBe(false);
    expect(() => loadHubConfig({ ...secrets(), HUB_FLOWS: 'no' })).toThrow(ConfigError);
  });

  it('derives the credential secret from the master key: stable for one key, another for another key', () => {
    const env = secrets();
    const first = loadHubConfig(env).flows.credentialSecret;
    expect(loadHubConfig(env).flows.credentialSecret).toBe(first);
    expect(
      loadHubConfig({ ...env, HUB_MASTER_KEY: randomBytes(32).toString('base64') }).flows.credentialSecret,
    ).not.toBe(first);
    expect(first).not.toBe(env.HUB_MASTER_KEY);
    expect(Buffer.from(first, 'base64')).toHaveLength(32);
  });

  it('takes HUB_FLOWS_CREDENTIAL_SECRET as given when set, and refuses a short one', () => {
    const secret = 'a-credential-secret-of-at-least-32-characters';
    expect(loadHubConfig({ ...secrets(), HUB_FLOWS_CREDENTIAL_SECRET: secret }).flows.credentialSecret).toBe(
      secret,
    );
    expect(() => loadHubConfig({ ...secrets(), HUB_FLOWS_CREDENTIAL_SECRET: 'short' })).toThrow(
      /at least 32/,
    );
  });

  it('refuses to start a clustered hub without a master key, so flows never get a made-up key', () => {
    const { HUB_MASTER_KEY: _omitted, ...withoutMasterKey } = secrets();
    expect(() => loadHubConfig(withoutMasterKey)).toThrow(/HUB_MASTER_KEY is not set/);
  });
});
