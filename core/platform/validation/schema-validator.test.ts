import moleculer, { type Context } from 'moleculer';
import { schemaRef } from '../../../schemas/index.ts';
import { ValidationFailed } from '../errors/hub-errors.ts';
import { createSchemaValidator } from './schema-validator.ts';

const { ServiceBroker } = moleculer;

let broker: moleculer.ServiceBroker;
const seenEvents: unknown[] = [];

function echo(params: ReturnType<typeof schemaRef>) {
  return { params, handler: (ctx: Context) => ctx.params };
}

beforeAll(async () => {
  broker = new ServiceBroker({ logger: false, validator: createSchemaValidator() });
  broker.createService({
    name: 'probe',
    actions: {
      login: echo(schemaRef('api/accounts/login-request')),
      createCompany: echo(schemaRef('api/accounts/create-company-request')),
      createUser: echo(schemaRef('api/accounts/create-user-request')),
      list: echo(schemaRef('api/common/list-query')),
      listJobs: echo(schemaRef('api/jobs/list-jobs-query')),
      byFullId: echo({ $ref: 'https://hub.local/schemas/api/common/id-params' }),
      unchecked: { handler: (ctx: Context) => ctx.params },
    },
    events: {
      'company.created': {
        params: schemaRef('events/company-created'),
        handler(ctx: Context) {
          seenEvents.push(ctx.params);
        },
      },
    },
  });
  await broker.start();
});

afterAll(async () => {
  await broker.stop();
});

async function rejection(action: string, params: unknown): Promise<ValidationFailed> {
  try {
    await broker.call(`probe.${action}`, params);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailed);
    return error as ValidationFailed;
  }
  throw new Error(`probe.${action} accepted ${JSON.stringify(params).slice(0, 100)}`);
}

async function fieldErrors(action: string, params: unknown) {
  return ((await rejection(action, params)).data as { errors: unknown[] }).errors;
}

describe('valid params', () => {
  test('reach the handler unchanged', async () => {
    const params = { email: 'ana@buyer.example', password: 'correct horse' };
    await expect(broker.call('probe.login', params)).resolves.toEqual(params);
  });

  test('nested objects are checked as a whole', async () => {
    const params = {
      name: 'Acme',
      admin: { email: 'a@acme.example', displayName: 'Ana', password: 'correct-horse-1' },
    };
    await expect(broker.call('probe.createCompany', params)).resolves.toEqual(params);
  });

  test('a full $id works like the short name', async () => {
    const id = '0b8e4c1a-3f7e-4c2b-9a41-5e0f2b7d9c11';
    await expect(broker.call('probe.byFullId', { id })).resolves.toEqual({ id });
    expect((await fieldErrors('byFullId', { id: 'not-a-uuid' }))[0]).toEqual({
      pointer: '/id',
      detail: 'must be a valid uuid',
    });
  });

  test('an action without params is not checked', async () => {
    await expect(broker.call('probe.unchecked', { anything: 1 })).resolves.toEqual({ anything: 1 });
  });
});

describe('invalid params reject with ValidationFailed and a JSON Pointer per field', () => {
  test('a missing property points at the property itself', async () => {
    const failed = await rejection('login', { email: 'ana@buyer.example' });
    expect(failed.code).toBe(400);
    expect(failed.type).toBe('validation-failed');
    expect((failed.data as { errors: unknown[] }).errors).toEqual([
      { pointer: '/password', detail: 'is required' },
    ]);
  });

  test('an extra property points at the extra property', async () => {
    expect(await fieldErrors('login', { email: 'ana@buyer.example', password: 'x', isAdmin: true })).toEqual([
      { pointer: '/isAdmin', detail: 'is not an allowed property' },
    ]);
  });

  test('a JSON "__proto__" key is an extra property, not a prototype', async () => {
    const params = JSON.parse('{"email":"ana@buyer.example","password":"x","__proto__":{"admin":true}}');
    expect(await fieldErrors('login', params)).toEqual([
      { pointer: '/__proto__', detail: 'is not an allowed property' },
    ]);
  });

  test('a bad format names the field and the format, never the value', async () => {
    const errors = await fieldErrors('login', { email: 'secret-not-an-email', password: 'x' });
    expect(errors).toEqual([{ pointer: '/email', detail: 'must be a valid email' }]);
    expect(JSON.stringify(errors)).not.toContain('secret-not-an-email');
  });

  test('errors deep inside nested objects and arrays get the full path', async () => {
    expect(
      await fieldErrors('createCompany', {
        name: 'Acme',
        admin: { email: 'a@acme.example', displayName: 'Ana' },
      }),
    ).toEqual([{ pointer: '/admin/password', detail: 'is required' }]);
    expect(
      await fieldErrors('createUser', {
        email: 'a@acme.example',
        displayName: 'Ana',
        password: 'correct-horse-1',
        roles: ['buyer-admin', 'purchaser', 'Not A Role'],
      }),
    ).toEqual([{ pointer: '/roles/2', detail: 'must match pattern "^[a-z][a-z0-9-]{0,63}$"' }]);
  });

  test('enum errors list the allowed values', async () => {
    expect(await fieldErrors('createCompany', { name: 'Acme', status: 'deleted' })).toEqual([
      { pointer: '/status', detail: 'must be one of "pending", "active", "suspended", "closed"' },
    ]);
  });

  test('params that are not an object point at the whole document', async () => {
    expect(await fieldErrors('login', ['ana@buyer.example', 'x'])).toEqual([
      { pointer: '', detail: 'must be object' },
    ]);
  });

  test('the error survives serialisation as a plain Moleculer error with its data', async () => {
    const failed = await rejection('login', {});
    const plain = JSON.parse(
      JSON.stringify({ name: failed.name, code: failed.code, type: failed.type, data: failed.data }),
    );
    expect(plain).toEqual({
      name: 'ValidationFailed',
      code: 400,
      type: 'validation-failed',
      data: {
        errors: [
          { pointer: '/email', detail: 'is required' },
          { pointer: '/password', detail: 'is required' },
        ],
      },
    });
  });
});

describe('defaults and URL coercion', () => {
  test('defaults are filled in before the handler runs', async () => {
    await expect(broker.call('probe.list', {})).resolves.toEqual({ limit: 50 });
    await expect(broker.call('probe.list')).resolves.toEqual({ limit: 50 });
    await expect(
      broker.call('probe.createUser', {
        email: 'a@acme.example',
        displayName: 'Ana',
        password: 'correct-horse-1',
      }),
    ).resolves.toMatchObject({ roles: [] });
  });

  test('-query schemas turn URL text into numbers and single values into arrays', async () => {
    await expect(broker.call('probe.list', { limit: '20', cursor: 'abc' })).resolves.toEqual({
      limit: 20,
      cursor: 'abc',
    });
    await expect(
      broker.call('probe.listJobs', { queue: 'kingdee.orders.push', state: 'failed' }),
    ).resolves.toEqual({
      queue: 'kingdee.orders.push',
      state: ['failed'],
      limit: 50,
    });
  });

  test('coercion still rejects text that is not a number, and limits still apply', async () => {
    expect(await fieldErrors('list', { limit: 'ten' })).toEqual([
      { pointer: '/limit', detail: 'must be integer' },
    ]);
    expect(await fieldErrors('list', { limit: '' })).toEqual([
      { pointer: '/limit', detail: 'must be integer' },
    ]);
    expect(await fieldErrors('list', { limit: '201' })).toEqual([
      { pointer: '/limit', detail: 'must be <= 200' },
    ]);
  });

  test('body schemas are not coerced: a number is not a password', async () => {
    expect(await fieldErrors('login', { email: 'ana@buyer.example', password: 12345 })).toEqual([
      { pointer: '/password', detail: 'must be string' },
    ]);
  });
});

describe('events', () => {
  test('a handler sees only payloads that match the event schema', async () => {
    seenEvents.length = 0;
    await broker.emit('company.created', { companyId: 'nope', name: 'Acme' });
    const valid = { companyId: '0b8e4c1a-3f7e-4c2b-9a41-5e0f2b7d9c11', name: 'Acme', region: 'east' };
    await broker.emit('company.created', valid);
    expect(seenEvents).toEqual([valid]);
  });
});

describe('declaring params wrongly fails at createService', () => {
  let other: moleculer.ServiceBroker;
  beforeEach(() => {
    other = new ServiceBroker({ logger: false, validator: createSchemaValidator() });
  });

  test('an unknown schema', () => {
    expect(() =>
      other.createService({ name: 'bad', actions: { go: echo(schemaRef('api/accounts/no-such-request')) } }),
    ).toThrow(
      /action "bad\.go": unknown canonical schema "https:\/\/hub\.local\/schemas\/api\/accounts\/no-such-request"/,
    );
  });

  test('fastest-validator style params in a hub service', () => {
    expect(() =>
      other.createService({
        name: 'bad',
        actions: { go: { params: { id: 'string' }, handler: () => null } },
      }),
    ).toThrow(/action "bad\.go": params must be \{ \$ref/);
  });

  test("Moleculer's own $node actions keep their params and still start", async () => {
    await other.start();
    await expect(other.call('$node.list', { withServices: 'true' })).resolves.toEqual(expect.any(Array));
    await expect(other.call('$node.list', { withServices: 'maybe' })).rejects.toBeInstanceOf(
      ValidationFailed,
    );
    await other.stop();
  });
});

describe('hostile input is rejected quickly and without a crash', () => {
  test('10,000 levels of nesting', async () => {
    const deepJson = `${'{"a":'.repeat(10_000)}{}${'}'.repeat(10_000)}`;
    const started = performance.now();
    const company = JSON.parse(`{"name":"Acme","admin":${deepJson}}`);
    expect(await fieldErrors('createCompany', company)).toEqual([
      { pointer: '/admin/email', detail: 'is required' },
      { pointer: '/admin/displayName', detail: 'is required' },
      { pointer: '/admin/password', detail: 'is required' },
      { pointer: '/admin/a', detail: 'is not an allowed property' },
    ]);
    const deep = JSON.parse(deepJson);
    expect(await fieldErrors('login', { email: deep, password: deep })).toEqual([
      { pointer: '/email', detail: 'must be string' },
      { pointer: '/password', detail: 'must be string' },
    ]);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  test('a 10 MB string and a million-item array', async () => {
    const started = performance.now();
    expect(
      await fieldErrors('login', { email: `${'a'.repeat(10_000_000)}@x.example`, password: 'x' }),
    ).toEqual([
      { pointer: '/email', detail: 'must NOT have more than 254 characters' },
      // Longer than any email: refused before the format's regex runs (which, over 10 MB, could
      // overflow V8's regex stack and throw a RangeError instead of a validation error).
      { pointer: '/email', detail: 'must be a valid email' },
    ]);
    const roles = Array.from({ length: 1_000_000 }, () => 'x');
    expect(
      await fieldErrors('createUser', {
        email: 'a@acme.example',
        displayName: 'Ana',
        password: 'correct-horse-1',
        roles,
      }),
    ).toEqual([
      { pointer: '/roles', detail: 'must NOT have more than 20 items' },
      {
        pointer: '/roles',
        detail: 'must NOT have duplicate items (items ## 999998 and 999999 are identical)',
      },
    ]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test('a pathological email (format regex backtracking bait) within maxLength', async () => {
    const started = performance.now();
    const bait = `${'a.'.repeat(120)}@${'a-'.repeat(5)}`;
    expect(await fieldErrors('login', { email: bait, password: 'x' })).toEqual([
      { pointer: '/email', detail: 'must be a valid email' },
    ]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
