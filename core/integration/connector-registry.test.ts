import { describe, expect, it } from '@jest/globals';
import type { ConnectorManifest } from '../../schemas/generated/types.ts';
import { ConnectorEntry } from './connector-registry.ts';

const entry = new ConnectorEntry({
  manifest: { id: 'demo' } as ConnectorManifest,
  configSchema: {
    type: 'object',
    properties: {
      host: { type: 'string', minLength: 1, maxLength: 100 },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 22 },
      password: { type: 'string', minLength: 8, maxLength: 100, 'x-secret': true },
    },
    required: ['host', 'password'],
    additionalProperties: false,
  },
});

describe('ConnectorEntry settings', () => {
  it('knows the credential fields and fills the defaults into the config', () => {
    expect(entry.secretFields).toEqual(['password']);
    const config: Record<string, unknown> = { host: 'sftp.example' };
    expect(entry.errors(config, { password: 'correct-horse' })).toEqual([]);
    expect(config).toEqual({ host: 'sftp.example', port: 22 });
  });

  it('refuses a credential sent as config and a plain field sent as a credential', () => {
    expect(entry.errors({ host: 'h', password: 'correct-horse' }, {}).map((e) => e.pointer)).toEqual([
      '/config/password',
    ]);
    expect(entry.errors({}, { host: 'h', password: 'correct-horse' }).map((e) => e.pointer)).toEqual([
      '/credentials/host',
    ]);
  });

  it('points at the side of a wrong field and never repeats a value', () => {
    const errors = entry.errors({ host: 'h', port: 70000 }, { password: 'short' });
    expect(errors.map((e) => e.pointer).sort()).toEqual(['/config/port', '/credentials/password']);
    expect(JSON.stringify(errors)).not.toContain('short');
  });
});
