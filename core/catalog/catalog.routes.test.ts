import { describe, expect, it } from '@jest/globals';
import { validators } from '../../schemas/generated/validators.js';
import { loadSchemas, schemaId } from '../../schemas/index.ts';
import type { Platform } from '../platform/platform.ts';
import { catalogModule } from './catalog.module.ts';

const PATH_PARAM = /:([A-Za-z]+)/g;

describe('catalog routes', () => {
  const service = catalogModule.service({ db: {} } as Platform);
  const actions = service.actions as Record<string, { params?: { $ref: string }; visibility?: string }>;
  const schemas = loadSchemas();
  const routes = catalogModule.routes ?? [];

  it('are served by the module own, published actions, tagged catalog, with unique operation ids', () => {
    expect(catalogModule.name).toBe('catalog');
    for (const route of routes) {
      const name = route.action.replace(/^catalog\./, '');
      expect([route.action, actions[name] !== undefined]).toEqual([route.action, true]);
      expect(actions[name]!.visibility).toBeUndefined();
      expect(route.tag).toBe('catalog');
    }
    expect(new Set(routes.map((route) => route.operationId)).size).toBe(routes.length);
  });

  it('name canonical schemas, and every path parameter is in the schema the action validates', () => {
    for (const route of routes) {
      for (const name of [route.requestSchema, route.responseSchema, route.paramsSchema, route.querySchema]) {
        if (name) expect([name, schemas.has(schemaId(name))]).toEqual([name, true]);
      }
      const params = schemas.get(actions[route.action.replace(/^catalog\./, '')]!.params!.$ref)!;
      const declared = Object.keys(params.properties as object);
      for (const [, name] of route.path.matchAll(PATH_PARAM)) expect(declared).toContain(name);
      if (route.method === 'GET') expect(route.requestSchema).toBeUndefined();
      if (route.path.startsWith('/api/staff/')) expect(route.audience).toBe('staff');
      if (route.successStatus === 201) expect(route.location).toMatch(/\{id\}$/);
    }
  });

  it('document request bodies and entities with examples that match their schemas', () => {
    const documented = routes.flatMap((route) =>
      [route.requestSchema, route.responseSchema].filter(
        (name) =>
          (name?.startsWith('api/catalog/') && /-(request|params)$/.test(name)) ||
          name?.startsWith('entities/'),
      ),
    );
    expect(documented.length).toBeGreaterThan(10);
    for (const name of new Set(documented)) {
      const id = schemaId(name!);
      const examples = schemas.get(id)!.examples as unknown[];
      expect([name, examples?.length > 0]).toEqual([name, true]);
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
