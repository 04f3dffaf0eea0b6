import { type JsonSchema, loadSchemas, SCHEMA_ID_PREFIX, schemaId } from '../../../schemas/index.ts';
import type { RouteSpec } from '../../platform/http/route-spec.ts';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** The parts of an OpenAPI 3.1 document this builder writes. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: OpenApiInfo;
  tags: { name: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
  };
}

export interface OpenApiOperation {
  operationId: string;
  tags: string[];
  summary: string;
  parameters?: OpenApiParameter[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  security: Record<string, string[]>[];
  'x-audience': RouteSpec['audience'];
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

const PROBLEM_SCHEMA = schemaId('api/common/problem');
const JSON_MEDIA = 'application/json';
const PROBLEM_MEDIA = 'application/problem+json';

/** Reusable error answers; operations point at them by status. */
const ERROR_RESPONSES: Record<string, { name: string; description: string }> = {
  '400': {
    name: 'BadRequest',
    description: 'The request does not match its schema; `errors` points at each field',
  },
  '401': { name: 'Unauthorized', description: 'No credentials, or invalid ones' },
  '403': { name: 'Forbidden', description: 'The caller may not do this' },
  '404': { name: 'NotFound', description: 'No such resource (or not visible to the caller)' },
  '409': { name: 'Conflict', description: 'Conflicts with the current state (duplicate, concurrent change)' },
  '413': { name: 'ContentTooLarge', description: 'The uploaded file is larger than the operation takes' },
  '415': {
    name: 'UnsupportedMediaType',
    description: 'The uploaded file is not of a media type the operation takes',
  },
  '422': { name: 'UnprocessableContent', description: 'Well-formed but breaks a business rule' },
  default: {
    name: 'UnexpectedError',
    description: 'Unexpected failure; quote `requestId` when reporting it',
  },
};

const SUCCESS_DESCRIPTIONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
};

const PATH_PARAM = /:([A-Za-z_][A-Za-z0-9_]*)/g;

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Canonical schemas become components; every `$ref` is rewritten to point inside the document. */
class ComponentSchemas {
  readonly #canonical: ReadonlyMap<string, JsonSchema>;
  readonly #titles = new Map<string, string>();
  readonly components: Record<string, JsonSchema> = {};

  constructor(canonical: ReadonlyMap<string, JsonSchema>) {
    this.#canonical = canonical;
  }

  /** The canonical schema itself; throws naming `usedBy` when it does not exist. */
  canonical(ref: string, usedBy: string): JsonSchema {
    let id: string;
    try {
      id = schemaId(ref);
    } catch {
      id = ref;
    }
    const schema = this.#canonical.get(id);
    if (!schema) throw new Error(`${usedBy} references unknown schema "${ref}"`);
    return schema;
  }

  /** `$ref` to the component of a canonical schema (by id or short name), adding it on first use. */
  ref(ref: string, usedBy: string): JsonSchema {
    return { $ref: this.#pointerTo(ref, usedBy) };
  }

  #pointerTo(ref: string, usedBy: string): string {
    const [base = '', fragment = ''] = ref.split('#');
    const schema = this.canonical(base, usedBy);
    const id = schema.$id as string;
    let title = this.#titles.get(id);
    if (!title) {
      title = schema.title as string;
      const clash = Object.hasOwn(this.components, title);
      if (clash) throw new Error(`two canonical schemas share the title "${title}"`);
      this.#titles.set(id, title);
      const { $schema: _dialect, $id: _id, ...body } = schema;
      // Registered before rewriting so a schema that refers to itself ends the recursion.
      this.components[title] = {};
      this.components[title] = this.rewrite(body, title, `schema ${id}`) as JsonSchema;
    }
    return `#/components/schemas/${title}${fragment}`;
  }

  /** A deep copy of `node` with every `$ref` pointing inside the document (`owner` anchors local refs). */
  rewrite(node: unknown, owner: string, usedBy: string): unknown {
    if (Array.isArray(node)) return node.map((item) => this.rewrite(item, owner, usedBy));
    if (!isObject(node)) return node;
    const copy: JsonSchema = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        copy.$ref = value.startsWith('#')
          ? `#/components/schemas/${owner}${value.slice(1)}`
          : this.#pointerTo(value.startsWith(SCHEMA_ID_PREFIX) ? value : schemaId(value), usedBy);
      } else if (key === 'const' || key === 'enum' || key === 'default' || key === 'examples') {
        copy[key] = structuredClone(value);
      } else {
        copy[key] = this.rewrite(value, owner, usedBy);
      }
    }
    return copy;
  }
}

/** Top-level properties of an object schema, following `$ref` and `allOf` to their sources. */
function objectProperties(
  schemas: ComponentSchemas,
  schema: JsonSchema,
  usedBy: string,
  owner: string,
): { properties: Map<string, JsonSchema>; required: Set<string> } {
  const properties = new Map<string, JsonSchema>();
  const required = new Set<string>();
  const visit = (node: JsonSchema, nodeOwner: string, depth: number) => {
    if (depth > 10) return;
    if (typeof node.$ref === 'string' && !node.$ref.startsWith('#')) {
      const target = schemas.canonical(node.$ref, usedBy);
      visit(target, target.title as string, depth + 1);
    }
    for (const member of Array.isArray(node.allOf) ? node.allOf : []) {
      if (isObject(member)) visit(member, nodeOwner, depth + 1);
    }
    if (isObject(node.properties)) {
      for (const [name, sub] of Object.entries(node.properties)) {
        properties.set(name, schemas.rewrite(sub, nodeOwner, usedBy) as JsonSchema);
      }
    }
    if (Array.isArray(node.required)) for (const name of node.required) required.add(String(name));
  };
  visit(schema, owner, 0);
  return { properties, required };
}

function parameter(
  name: string,
  location: 'path' | 'query' | 'header',
  required: boolean,
  schema: JsonSchema,
): OpenApiParameter {
  const parameterObject: OpenApiParameter = { name, in: location, required, schema };
  if (typeof schema.description === 'string') parameterObject.description = schema.description;
  return parameterObject;
}

function errorStatuses(route: RouteSpec, hasPathParams: boolean): string[] {
  const statuses: string[] = [];
  const writes = route.method !== 'GET';
  if (hasPathParams || route.requestSchema || route.querySchema) statuses.push('400');
  if (route.audience !== 'public') statuses.push('401', '403');
  if (hasPathParams) statuses.push('404');
  if (route.upload) statuses.push('413', '415');
  if (writes) statuses.push('409', '422');
  statuses.push('default');
  return statuses;
}

/** A file body or answer: OpenAPI 3.1 describes raw bytes by media type alone. */
function binaryContent(contentTypes: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(contentTypes.map((type) => [type, {}]));
}

function operationFor(route: RouteSpec, schemas: ComponentSchemas): OpenApiOperation {
  const usedBy = `route ${route.operationId} (${route.method} ${route.path})`;
  const pathParams = [...route.path.matchAll(PATH_PARAM)].map((match) => match[1]!);

  const declared = new Map<string, { schema: JsonSchema; required: boolean }>();
  const queryParams: OpenApiParameter[] = [];
  if (route.paramsSchema) {
    const params = schemas.canonical(route.paramsSchema, usedBy);
    const { properties } = objectProperties(schemas, params, usedBy, params.title as string);
    for (const name of pathParams) {
      const schema = properties.get(name);
      if (schema) declared.set(name, { schema, required: true });
    }
  }
  if (route.querySchema) {
    const query = schemas.canonical(route.querySchema, usedBy);
    const { properties, required } = objectProperties(schemas, query, usedBy, query.title as string);
    for (const [name, schema] of properties) {
      if (pathParams.includes(name)) declared.set(name, { schema, required: true });
      else queryParams.push(parameter(name, 'query', required.has(name), schema));
    }
  }
  if (route.requestSchema) {
    const body = schemas.canonical(route.requestSchema, usedBy);
    const { properties } = objectProperties(schemas, body, usedBy, body.title as string);
    for (const name of pathParams) {
      const schema = properties.get(name);
      if (schema && !declared.has(name)) declared.set(name, { schema, required: true });
    }
  }
  const parameters = [
    ...pathParams.map((name) =>
      parameter(name, 'path', true, declared.get(name)?.schema ?? { type: 'string' }),
    ),
    ...queryParams,
    // A webhook's signature headers, which the gateway hands to the action.
    ...(route.forwardHeaders ?? []).map((name) =>
      parameter(name, 'header', false, { type: 'string', maxLength: 2048 }),
    ),
  ];

  const status = route.successStatus ?? 200;
  const success: Record<string, unknown> = { description: SUCCESS_DESCRIPTIONS[status] ?? 'Success' };
  if (route.responseSchema)
    success.content = { [JSON_MEDIA]: { schema: schemas.ref(route.responseSchema, usedBy) } };
  if (route.download) success.content = binaryContent(route.download.contentTypes);

  const responses: Record<string, unknown> = { [String(status)]: success };
  for (const errorStatus of errorStatuses(route, pathParams.length > 0)) {
    responses[errorStatus] = { $ref: `#/components/responses/${ERROR_RESPONSES[errorStatus]!.name}` };
  }

  const operation: OpenApiOperation = {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    responses,
    security: route.audience === 'public' ? [] : [{ bearerAuth: [] }, { apiKeyAuth: [] }],
    'x-audience': route.audience,
  };
  if (parameters.length > 0) operation.parameters = parameters;
  if (route.requestSchema) {
    operation.requestBody = {
      required: true,
      content: { [JSON_MEDIA]: { schema: schemas.ref(route.requestSchema, usedBy) } },
    };
  }
  if (route.upload) {
    operation.requestBody = {
      required: true,
      description: `The file itself as the body (at most ${route.upload.maxBytes} bytes); its name in \`Content-Disposition: attachment; filename*=UTF-8''...\` or \`X-Filename\` (percent-encoded)`,
      content: binaryContent(route.upload.contentTypes),
    };
  }
  return operation;
}

/**
 * The OpenAPI 3.1 document of the hub's REST API, built from the same route list the gateway
 * serves, so the two cannot drift. Bodies, query strings and answers are the canonical schemas,
 * placed under `components/schemas/<title>`; errors are RFC 9457 problem+json. Throws on a
 * duplicate operationId or route, or a route naming a schema that does not exist.
 */
export function buildOpenApi(
  routes: readonly RouteSpec[],
  info: OpenApiInfo,
  canonicalSchemas: ReadonlyMap<string, JsonSchema> = loadSchemas(),
): OpenApiDocument {
  const schemas = new ComponentSchemas(canonicalSchemas);
  const operationIds = new Map<string, RouteSpec>();
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const earlier = operationIds.get(route.operationId);
    if (earlier) {
      throw new Error(
        `operationId "${route.operationId}" is used twice: ${earlier.method} ${earlier.path} and ${route.method} ${route.path}`,
      );
    }
    operationIds.set(route.operationId, route);
    const path = route.path.replace(PATH_PARAM, '{$1}');
    const method = route.method.toLowerCase();
    const item = paths[path] ?? {};
    paths[path] = item;
    if (item[method]) throw new Error(`${route.method} ${route.path} is declared twice`);
    item[method] = operationFor(route, schemas);
  }

  const problem = schemas.ref(PROBLEM_SCHEMA, 'error responses');
  const responses = Object.fromEntries(
    Object.values(ERROR_RESPONSES).map(({ name, description }) => [
      name,
      { description, content: { [PROBLEM_MEDIA]: { schema: problem } } },
    ]),
  );
  const sortedPaths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  const sortedSchemas = Object.fromEntries(
    Object.entries(schemas.components).sort(([a], [b]) => a.localeCompare(b)),
  );
  return {
    openapi: '3.1.0',
    info,
    tags: [...new Set(routes.map((route) => route.tag))].sort().map((name) => ({ name })),
    paths: sortedPaths,
    components: {
      schemas: sortedSchemas,
      responses,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'Access token from POST /api/auth/login',
        },
        apiKeyAuth: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Api-Key',
          description: 'API key of a system (ERP, WMS, storefront)',
        },
      },
    },
  };
}
