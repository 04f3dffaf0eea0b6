import { Validator } from '@seriousme/openapi-schema-validator';
import type { RouteSpec } from '../../platform/http/route-spec.ts';
import { buildOpenApi, type OpenApiDocument } from './build-openapi.ts';

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/auth/login',
    action: 'accounts.login',
    operationId: 'logIn',
    tag: 'accounts',
    summary: 'Log in',
    audience: 'public',
    requestSchema: 'api/accounts/login-request',
    responseSchema: 'api/accounts/token-response',
  },
  {
    method: 'GET',
    path: '/api/companies/:id',
    action: 'accounts.companies.get',
    operationId: 'getCompany',
    tag: 'accounts',
    summary: 'One company',
    audience: 'authenticated',
    responseSchema: 'https://hub.local/schemas/entities/company',
  },
  {
    method: 'GET',
    path: '/api/staff/companies',
    action: 'accounts.companies.list',
    operationId: 'listCompanies',
    tag: 'accounts',
    summary: 'All companies',
    audience: 'staff',
    querySchema: 'api/common/list-query',
    responseSchema: 'api/accounts/company-list-response',
  },
  {
    method: 'POST',
    path: '/api/users',
    action: 'accounts.users.create',
    operationId: 'createCompanyUser',
    tag: 'accounts',
    summary: 'Add a user',
    audience: 'buyer',
    requestSchema: 'api/accounts/create-user-request',
    responseSchema: 'entities/user',
    successStatus: 201,
  },
  {
    method: 'GET',
    path: '/api/staff/queues/:queue/jobs',
    action: 'jobs.list',
    operationId: 'listJobs',
    tag: 'jobs',
    summary: 'Jobs of one queue',
    audience: 'staff',
    querySchema: 'api/jobs/list-jobs-query',
  },
  {
    method: 'DELETE',
    path: '/api/staff/queues/:queue/jobs/:id',
    action: 'jobs.remove',
    operationId: 'removeJob',
    tag: 'jobs',
    summary: 'Remove a job',
    audience: 'staff',
    successStatus: 204,
  },
  {
    method: 'PUT',
    path: '/api/staff/connectors/:connectorId/manifest',
    action: 'connectors.putManifest',
    operationId: 'putConnectorManifest',
    tag: 'connectors',
    summary: 'Register a connector manifest',
    audience: 'staff',
    requestSchema: 'meta/connector-manifest',
  },
  {
    method: 'GET',
    path: '/health/live',
    action: 'gateway.live',
    operationId: 'getLiveness',
    tag: 'operations',
    summary: 'Liveness',
    audience: 'public',
  },
];

type Operation = OpenApiDocument['paths'][string][string];

function operations(document: OpenApiDocument): Operation[] {
  return Object.values(document.paths).flatMap((item) => Object.values(item));
}

function operation(document: OpenApiDocument, path: string, method: string): Operation {
  const found = document.paths[path]?.[method];
  if (!found) throw new Error(`no ${method} ${path}`);
  return found;
}

/** Resolves a local `$ref` the way a client would: a JSON Pointer into the document. */
function resolve(document: unknown, ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true);
  let node = document;
  for (const token of ref.slice(2).split('/')) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return node;
}

function allRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) allRefs(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else allRefs(value, found);
    }
  }
  return found;
}

const document = buildOpenApi(ROUTES, { title: 'Test Hub', version: '1.2.3' });

test('the document is valid OpenAPI 3.1', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
  expect(document.info).toEqual({ title: 'Test Hub', version: '1.2.3' });
});

test('every route is one operation with its operationId, tag and summary', () => {
  expect(
    operations(document)
      .map((op) => op.operationId)
      .sort(),
  ).toEqual(ROUTES.map((r) => r.operationId).sort());
  for (const route of ROUTES) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const op = operation(document, path, route.method.toLowerCase());
    expect(op).toMatchObject({ operationId: route.operationId, tags: [route.tag], summary: route.summary });
  }
  expect(document.tags).toEqual([
    { name: 'accounts' },
    { name: 'connectors' },
    { name: 'jobs' },
    { name: 'operations' },
  ]);
});

test('every $ref points inside the document and resolves', () => {
  const refs = allRefs(document);
  expect(refs.length).toBeGreaterThan(20);
  for (const ref of refs) expect([ref, resolve(document, ref)]).toEqual([ref, expect.anything()]);
});

test('canonical schemas become components named by title, with their own references followed', () => {
  expect(Object.keys(document.components.schemas)).toEqual([
    'Company',
    'CompanyListResponse',
    'ConnectorManifest',
    'CreateUserRequest',
    'ListQuery',
    'LoginRequest',
    'Problem',
    'QueueName',
    'RoleName',
    'TokenResponse',
    'User',
  ]);
  expect(document.components.schemas.CompanyListResponse!.properties).toMatchObject({
    items: { items: { $ref: '#/components/schemas/Company' } },
  });
  const company = document.components.schemas.Company!;
  expect(company.$id).toBeUndefined();
  expect(company.$schema).toBeUndefined();
  // Local references of a schema point into its own component.
  const manifest = document.components.schemas.ConnectorManifest!;
  expect(resolve(manifest, '#/properties/capabilities/properties/streams/items')).toEqual({
    $ref: '#/components/schemas/ConnectorManifest/$defs/stream',
  });
});

test('request bodies and answers reference their schemas', () => {
  const login = operation(document, '/api/auth/login', 'post');
  expect(login.requestBody).toEqual({
    required: true,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/LoginRequest' } } },
  });
  expect(login.responses['200']).toEqual({
    description: 'OK',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } } },
  });
  expect(operation(document, '/api/users', 'post').responses['201']).toMatchObject({
    content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } },
  });
  const removed = operation(document, '/api/staff/queues/{queue}/jobs/{id}', 'delete').responses['204'];
  expect(removed).toEqual({ description: 'No Content' });
});

test('path params are declared, typed from the route schemas when they know them', () => {
  expect(operation(document, '/api/companies/{id}', 'get').parameters).toEqual([
    { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
  ]);
  const listJobs = operation(document, '/api/staff/queues/{queue}/jobs', 'get');
  expect(listJobs.parameters?.map((p) => [p.name, p.in, p.required])).toEqual([
    ['queue', 'path', true],
    ['state', 'query', false],
    ['limit', 'query', false],
    ['cursor', 'query', false],
  ]);
  expect(listJobs.parameters?.[0]?.schema).toEqual({ $ref: '#/components/schemas/QueueName' });
  expect(listJobs.parameters?.[2]?.schema).toEqual({
    $ref: '#/components/schemas/ListQuery/properties/limit',
    default: 50,
  });
});

test('query params come from the query schema', () => {
  const list = operation(document, '/api/staff/companies', 'get');
  expect(list.parameters).toEqual([
    {
      name: 'limit',
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    },
    {
      name: 'cursor',
      in: 'query',
      required: false,
      description: 'The `nextCursor` of the previous page.',
      schema: {
        type: 'string',
        minLength: 1,
        maxLength: 512,
        description: 'The `nextCursor` of the previous page.',
      },
    },
  ]);
});

test('errors are problem+json, chosen by audience and method', () => {
  const problem = { $ref: '#/components/schemas/Problem' };
  for (const response of Object.values(document.components.responses)) {
    expect(response).toMatchObject({ content: { 'application/problem+json': { schema: problem } } });
  }
  const statuses = (path: string, method: string) =>
    Object.keys(operation(document, path, method).responses).sort();
  expect(statuses('/api/auth/login', 'post')).toEqual(['200', '400', '409', '422', 'default']);
  expect(statuses('/api/companies/{id}', 'get')).toEqual(['200', '400', '401', '403', '404', 'default']);
  expect(statuses('/health/live', 'get')).toEqual(['200', 'default']);
  expect(operation(document, '/api/companies/{id}', 'get').responses['404']).toEqual({
    $ref: '#/components/responses/NotFound',
  });
});

test('public operations need no credentials; the others take a bearer token or an API key', () => {
  expect(document.components.securitySchemes).toMatchObject({
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    apiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
  });
  expect(operation(document, '/api/auth/login', 'post').security).toEqual([]);
  for (const path of ['/api/companies/{id}', '/api/staff/companies']) {
    expect(operation(document, path, 'get').security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
  }
});

test('the same routes give the same document', () => {
  expect(
    JSON.stringify(buildOpenApi([...ROUTES].reverse(), { title: 'Test Hub', version: '1.2.3' })),
  ).toEqual(JSON.stringify(document));
});

describe('mistakes in the route list are refused', () => {
  const login = ROUTES[0]!;

  test('two routes with one operationId', () => {
    expect(() =>
      buildOpenApi([login, { ...login, path: '/api/auth/login2' }], { title: 't', version: '1' }),
    ).toThrow('operationId "logIn" is used twice: POST /api/auth/login and POST /api/auth/login2');
  });

  test('one method and path twice', () => {
    expect(() =>
      buildOpenApi([login, { ...login, operationId: 'logInAgain' }], { title: 't', version: '1' }),
    ).toThrow('POST /api/auth/login is declared twice');
  });

  test('an unknown schema', () => {
    expect(() =>
      buildOpenApi([{ ...login, responseSchema: 'api/accounts/no-such-response' }], {
        title: 't',
        version: '1',
      }),
    ).toThrow('route logIn (POST /api/auth/login) references unknown schema "api/accounts/no-such-response"');
  });
});

test('path parameters take their schema from paramsSchema', () => {
  const document = buildOpenApi(
    [
      {
        method: 'GET',
        path: '/api/companies/:id',
        action: 'accounts.companies.get',
        operationId: 'getCompany',
        tag: 'accounts',
        summary: 'A company',
        audience: 'authenticated',
        paramsSchema: 'api/common/id-params',
      },
    ],
    { title: 'T', version: '1' },
  ) as unknown as {
    paths: Record<string, { get: { parameters: Array<{ name: string; in: string; schema: unknown }> } }>;
  };
  const [param] = document.paths['/api/companies/{id}']!.get.parameters;
  expect(param).toMatchObject({ name: 'id', in: 'path', schema: { type: 'string', format: 'uuid' } });
});

test('a webhook’s forwarded signature headers are documented as header parameters', async () => {
  const document = buildOpenApi(
    [
      {
        method: 'POST',
        path: '/hooks/esign/fasc-simulator',
        action: 'contracts.hooks.esign',
        operationId: 'esignCallback',
        tag: 'contracts',
        summary: 'Signed callback',
        audience: 'public',
        upload: { contentTypes: ['application/x-www-form-urlencoded'], maxBytes: 65536 },
        forwardHeaders: ['x-fasc-sign', 'x-fasc-timestamp'],
      },
    ],
    { title: 'T', version: '1' },
  );
  const result = await new Validator().validate(
    structuredClone(document) as unknown as Record<string, unknown>,
  );
  expect(result.errors).toBeUndefined();
  expect(operation(document, '/hooks/esign/fasc-simulator', 'post').parameters).toEqual([
    { name: 'x-fasc-sign', in: 'header', required: false, schema: { type: 'string', maxLength: 2048 } },
    { name: 'x-fasc-timestamp', in: 'header', required: false, schema: { type: 'string', maxLength: 2048 } },
  ]);
});
