import { describe, expect, it } from '@jest/globals';
import { validators } from '../../schemas/generated/validators.js';
import { loadSchemas, schemaId } from '../../schemas/index.ts';
import type { Platform } from '../platform/platform.ts';
import { cartsModule } from './carts.module.ts';

const PATH_PARAM = /:([A-Za-z]+)/g;

describe('carts routes', () => {
  const service = cartsModule.service({ db: {} } as Platform);
  const actions = service.actions as Record<string, { params?: { $ref: string }; visibility?: string }>;
  const schemas = loadSchemas();
  const routes = cartsModule.routes ?? [];
  const actionOf = (name: string) => actions[name.replace(/^carts\./, '')];

  it('are buyer routes served by the module own, published actions, with unique operation ids', () => {
    expect(routes.length).toBe(16);
    for (const route of routes) {
      expect([route.action, actionOf(route.action) !== undefined]).toEqual([route.action, true]);
      expect(actionOf(route.action)!.visibility).toBeUndefined();
      expect([route.operationId, route.audience, route.tag]).toEqual([route.operationId, 'buyer', 'carts']);
    }
    expect(new Set(routes.map((route) => route.operationId)).size).toBe(routes.length);
  });

  it('name canonical schemas, and every path parameter is in the schema the action validates', () => {
    for (const route of routes) {
      for (const name of [route.requestSchema, route.responseSchema, route.paramsSchema, route.querySchema]) {
        if (name) expect([name, schemas.has(schemaId(name))]).toEqual([name, true]);
      }
      const params = schemas.get(actionOf(route.action)!.params!.$ref)!;
      const declared = Object.keys(params.properties as object);
      for (const [, name] of route.path.matchAll(PATH_PARAM)) expect(declared).toContain(name);
      if (['GET', 'DELETE'].includes(route.method)) expect(route.requestSchema).toBeUndefined();
    }
  });

  it('take quick-order files as CSV or XLSX only, bounded', () => {
    const upload = routes.find((route) => route.operationId === 'quickOrderFromFile')!.upload!;
    expect(upload.contentTypes).toContain('text/csv');
    expect(upload.contentTypes).toContain(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(upload.maxBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it('document request bodies with examples that match their schemas', () => {
    const requests = [
      ...new Set(routes.flatMap((route) => (route.requestSchema ? [route.requestSchema] : []))),
    ];
    expect(requests.length).toBeGreaterThanOrEqual(8);
    for (const name of requests) {
      const id = schemaId(name);
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
