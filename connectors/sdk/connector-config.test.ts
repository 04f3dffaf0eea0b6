import { describe, expect, it } from '@jest/globals';
import { compileConfigSchema, secretFieldNames } from './connector-config.ts';
import { NotConnectedError } from './connector-errors.ts';

const schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    host: { type: 'string', maxLength: 100 },
    port: { type: 'integer', default: 22 },
    password: { type: 'string', maxLength: 100, 'x-secret': true },
  },
  required: ['host', 'password'],
  additionalProperties: false,
};

describe('connector config schemas', () => {
  it('names the x-secret fields as credentials and splits settings by them', () => {
    expect(secretFieldNames(schema)).toEqual(['password']);
    const settings = compileConfigSchema(schema);
    expect(settings.split({ host: 'h', password: 'p' })).toEqual({
      config: { host: 'h' },
      credentials: { password: 'p' },
    });
    expect(settings.redact({ host: 'h', password: 'p' })).toEqual({ host: 'h', password: '********' });
  });

  it('fills defaults into the config and reports errors by pointer without values', () => {
    const settings = compileConfigSchema(schema);
    const config: Record<string, unknown> = { host: 'h' };
    expect(settings.errors(config, { password: 'p' })).toEqual([]);
    expect(config).toEqual({ host: 'h', port: 22 });
    const errors = settings.errors({ host: 'h', port: 'twenty-two' }, { password: 'top-secret' });
    expect(errors.map((error) => error.pointer)).toEqual(['/port']);
    expect(JSON.stringify(errors)).not.toContain('top-secret');
  });

  it('refuses a secret passed as configuration and configuration passed as a credential', () => {
    const settings = compileConfigSchema(schema);
    expect(() => settings.assertValid({ host: 'h', password: 'p' }, {})).toThrow(NotConnectedError);
    expect(() => settings.assertValid({}, { host: 'h', password: 'p' })).toThrow(NotConnectedError);
    expect(() => settings.assertValid({ host: 'h' }, {})).toThrow(/password/);
  });

  it('refuses a schema that is not an object schema or uses an unknown keyword', () => {
    expect(() => compileConfigSchema({ type: 'string' })).toThrow();
    expect(() =>
      compileConfigSchema({ type: 'object', properties: { a: { type: 'string', 'x-unknown': 1 } } }),
    ).toThrow();
  });
});
