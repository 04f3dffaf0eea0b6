import { describe, expect, it } from '@jest/globals';
import { validators } from '../../schemas/generated/validators.js';
import { loadSchemas, schemaId } from '../../schemas/index.ts';
import type { Platform } from '../platform/platform.ts';
import { spendingModule } from './spending.module.ts';

const PATH_PARAM = /:([A-Za-z]+)/g;

describe('spending routes', () => {
  const service = spendingModule.service({ db: {} } as Platform);
  const actions = service.actions as Record<string, { params?: { $ref: string }; visibility?: string }>;
  const schemas = loadSchemas();

  it('are served by the module own, published actions, tagged spending', () => {
    expect(spendingModule.name).toBe('spending');
    for (const route of spendingModule.routes ?? []) {
      const name = route.action.replace(/^spending\./, '');
      expect(actions[name]).toBeDefined();
      expect(actions[name]!.visibility).toBeUndefined();
      expect(route.tag).toBe('spending');
    }
    expect(new Set(spendingModule.routes!.map((route) => route.operationId)).size).toBe(
      spendingModule.routes!.length,
    );
  });

  it('keeps check, commit, settle and release off the gateway (mesh-only)', () => {
    for (const name of ['check', 'commit', 'settle', 'release']) {
      expect(actions[name]!.visibility).toBe('public');
      expect(spendingModule.routes!.some((route) => route.action === `spending.${name}`)).toBe(false);
    }
  });

  it('name canonical schemas, and every path parameter is in the schema the action validates', () => {
    for (const route of spendingModule.routes ?? []) {
      for (const name of [route.requestSchema, route.responseSchema, route.paramsSchema, route.querySchema]) {
        if (name) expect(schemas.has(schemaId(name))).toBe(true);
      }
      const params = schemas.get(actions[route.action.replace(/^spending\./, '')]!.params!.$ref)!;
      const declared = Object.keys(params.properties as object);
      for (const [, name] of route.path.matchAll(PATH_PARAM)) expect(declared).toContain(name);
      if (route.method === 'GET') expect(route.requestSchema).toBeUndefined();
      if (route.audience === 'staff')
        expect(route.path.startsWith('/api/staff/companies/:companyId/')).toBe(true);
      else expect(route.audience).toBe('buyer');
    }
  });

  it('document request bodies and entities with examples that match their schemas', () => {
    const documented = (spendingModule.routes ?? []).flatMap((route) =>
      [route.requestSchema, route.responseSchema].filter(
        (name) =>
          (name?.startsWith('api/spending/') && name.endsWith('-request')) || name?.startsWith('entities/'),
      ),
    );
    expect(documented.length).toBeGreaterThan(4);
    for (const name of new Set(documented)) {
      const id = schemaId(name!);
      const examples = schemas.get(id)!.examples as unknown[];
      expect(examples?.length).toBeGreaterThan(0);
      for (const example of examples) {
        const validate = validators[id]!;
        expect([name, validate(structuredClone(example)) ? 'valid' : validate.errors]).toEqual([
          name,
          'valid',
        ]);
      }
    }
  });
});
