/**
 * Build step of the canonical schemas (`npm run generate`, run before start, test and bench).
 *
 * Loads every `schemas/<area>/**\/<name>.schema.json`, checks it against the 2020-12 meta-schema and
 * our conventions (see schemas/README.md), and writes into `schemas/generated/` (git-ignored):
 *
 * - `types.ts`             one exported TypeScript type per schema, named by its `title`;
 * - `validators.js` (+ `.d.ts`)  ajv standalone validators keyed by `$id` — no schema compilation
 *                          at run time, so a process starts fast and needs no `new Function`;
 * - `query-validators.js`  the validators of `*-query` schemas, compiled with type coercion;
 * - `schemas.json`         every schema keyed by `$id`, for the OpenAPI builder and `loadSchemas()`.
 *
 * Output is byte-for-byte deterministic (sorted input, no timestamps). Exits 1 on the first
 * problem, naming the file. `--schemas <dir>` and `--out <dir>` point it elsewhere (for its tests).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { _, Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCodeModule from 'ajv/dist/standalone/index.js';
import { compile as compileTypes } from 'json-schema-to-typescript';

/** The same formats the generated validators load at run time (see bounded-formats.cjs). */
const { boundedFormats } = createRequire(import.meta.url)('./bounded-formats.cjs') as {
  boundedFormats: Record<string, unknown>;
};

const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const ID_PREFIX = 'https://hub.local/schemas/';
const AREAS = new Set(['entities', 'api', 'events', 'commands', 'meta']);
/** Names (last path segment) of schemas whose values all arrive as URL text (path + query string). */
const COERCED_SUFFIX = '-query';
/** Inputs from outside: closed to unknown properties. */
const CLOSED_SUFFIXES = ['-request', '-params', '-query'];
/** Formats whose ajv check is a fixed-size match, so the string needs no maxLength of its own. */
const SELF_BOUNDED_FORMATS = new Set(['uuid', 'date', 'date-time']);

// Other folders are for the generator's own tests; the project always uses the defaults.
const { values: cli } = parseArgs({ options: { schemas: { type: 'string' }, out: { type: 'string' } } });
const root = path.resolve(cli.schemas ?? path.join(import.meta.dirname, '..'));
const outDir = path.resolve(cli.out ?? path.join(root, 'generated'));

type JsonObject = { [key: string]: unknown };

interface SchemaFile {
  file: string;
  name: string;
  id: string;
  title: string;
  schema: JsonObject;
}

class SchemaProblem extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function findSchemaFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full === outDir || entry.name === 'node_modules' || entry.name === 'tools') continue;
      found.push(...(await findSchemaFiles(full)));
    } else if (entry.name.endsWith('.schema.json')) {
      found.push(full);
    }
  }
  return found;
}

/** Every subschema with the JSON Pointer that leads to it, so problems can be located. */
function* walkSchemas(node: unknown, pointer = ''): Generator<[JsonObject, string]> {
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) yield* walkSchemas(item, `${pointer}/${index}`);
    return;
  }
  if (!isObject(node)) return;
  yield [node, pointer];
  for (const [key, value] of Object.entries(node)) {
    // Values of these keywords are data, not subschemas.
    if (key === 'const' || key === 'enum' || key === 'default' || key === 'examples') continue;
    if (
      key === 'properties' ||
      key === '$defs' ||
      key === 'patternProperties' ||
      key === 'dependentSchemas'
    ) {
      if (isObject(value)) {
        for (const [name, sub] of Object.entries(value)) yield* walkSchemas(sub, `${pointer}/${key}/${name}`);
      }
      continue;
    }
    yield* walkSchemas(value, `${pointer}/${key}`);
  }
}

function typesOf(schema: JsonObject): string[] {
  const { type } = schema;
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : [];
}

function checkConventions(entry: SchemaFile, ids: Set<string>): void {
  const { schema, file, name } = entry;
  for (const [node, pointer] of walkSchemas(schema)) {
    const at = pointer || '(root)';
    const ref = node.$ref;
    if (typeof ref === 'string' && !ref.startsWith('#')) {
      const base = ref.split('#')[0]!;
      if (!base.startsWith(ID_PREFIX)) {
        throw new SchemaProblem(
          file,
          `${at}: $ref "${ref}" must be a canonical id (${ID_PREFIX}...) or local (#...)`,
        );
      }
      if (!ids.has(base)) throw new SchemaProblem(file, `${at}: $ref "${ref}" names no known schema`);
    }
    const types = typesOf(node);
    const enumerated = 'enum' in node || 'const' in node;
    if (
      types.includes('string') &&
      !enumerated &&
      typeof node.maxLength !== 'number' &&
      !SELF_BOUNDED_FORMATS.has(node.format as string)
    ) {
      throw new SchemaProblem(file, `${at}: string without maxLength (every input must be bounded)`);
    }
    if (types.includes('array') && typeof node.maxItems !== 'number') {
      throw new SchemaProblem(file, `${at}: array without maxItems (every input must be bounded)`);
    }
  }
  const last = name.split('/').at(-1)!;
  if (name.startsWith('api/') && CLOSED_SUFFIXES.some((suffix) => last.endsWith(suffix))) {
    if (schema.type !== 'object' || schema.additionalProperties !== false) {
      throw new SchemaProblem(
        file,
        'request bodies and action params must be objects with additionalProperties: false',
      );
    }
  }
}

async function loadSchemaFiles(): Promise<SchemaFile[]> {
  const files = (await findSchemaFiles(root)).sort();
  const entries: SchemaFile[] = [];
  for (const full of files) {
    const file = path.relative(path.dirname(root), full);
    const name = path
      .relative(root, full)
      .split(path.sep)
      .join('/')
      .replace(/\.schema\.json$/, '');
    let schema: unknown;
    try {
      schema = JSON.parse(await readFile(full, 'utf8'));
    } catch (error) {
      throw new SchemaProblem(file, `not valid JSON: ${(error as Error).message}`);
    }
    if (!isObject(schema)) throw new SchemaProblem(file, 'a schema file must hold a JSON object');
    if (!AREAS.has(name.split('/')[0]!) || !name.includes('/')) {
      throw new SchemaProblem(file, `must live under one of ${[...AREAS].join(', ')}/`);
    }
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name.split('/').at(-1)!)) {
      throw new SchemaProblem(file, 'file names are kebab-case: <name>.schema.json');
    }
    if (schema.$schema !== SCHEMA_DIALECT)
      throw new SchemaProblem(file, `"$schema" must be "${SCHEMA_DIALECT}"`);
    const id = `${ID_PREFIX}${name}`;
    if (schema.$id !== id)
      throw new SchemaProblem(file, `"$id" must be "${id}" (its path), found ${JSON.stringify(schema.$id)}`);
    const { title } = schema;
    if (typeof title !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(title)) {
      throw new SchemaProblem(file, '"title" must be a PascalCase name: it becomes the TypeScript type name');
    }
    const clash = entries.find((other) => other.title === title);
    if (clash) throw new SchemaProblem(file, `title "${title}" is already used by ${clash.file}`);
    entries.push({ file, name, id, title, schema });
  }
  if (entries.length === 0) throw new Error(`no *.schema.json found under ${root}`);
  const ids = new Set(entries.map((entry) => entry.id));
  for (const entry of entries) checkConventions(entry, ids);
  return entries;
}

function newAjv(coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    // `if: {...} then: { required: [...] }` names properties defined beside the if, not in the then.
    strictRequired: false,
    // Report every failing field, so a form can mark them all at once. ajv advises against this
    // for unbounded input; ours is bounded: the generator refuses strings without maxLength and
    // arrays without maxItems, bodies are capped at 1 MB and 32 levels, and at most
    // MAX_FIELD_ERRORS reach the client.
    allErrors: true,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    code: {
      source: true,
      esm: true,
      optimize: true,
      formats: _`require("../tools/bounded-formats.cjs").boundedFormats`,
    },
  });
  for (const [name, format] of Object.entries(boundedFormats)) ajv.addFormat(name, format as never);
  return ajv;
}

function compileAll(entries: SchemaFile[], coerce: boolean): Ajv2020 {
  const ajv = newAjv(coerce);
  for (const entry of entries) {
    if (!ajv.validateSchema(entry.schema)) {
      throw new SchemaProblem(entry.file, `not a valid JSON Schema 2020-12: ${ajv.errorsText(ajv.errors)}`);
    }
    ajv.addSchema(entry.schema);
  }
  for (const entry of entries) {
    try {
      ajv.getSchema(entry.id);
    } catch (error) {
      throw new SchemaProblem(entry.file, `ajv cannot compile it: ${(error as Error).message}`);
    }
  }
  return ajv;
}

const BANNER =
  '// Generated by schemas/tools/generate.ts from the *.schema.json files under schemas/. Do not edit.';
// The standalone code of ajv 8 loads its runtime helpers with require(), even as ESM.
const ESM_PRELUDE = `${BANNER}\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n`;

function validatorExportName(entry: SchemaFile): string {
  return `validate${entry.title}`;
}

function standaloneModule(ajv: Ajv2020, entries: SchemaFile[]): string {
  const exports = Object.fromEntries(entries.map((entry) => [validatorExportName(entry), entry.id]));
  return `${ESM_PRELUDE}${standaloneCodeModule.default(ajv, exports)}\n`;
}

function validatorsModule(ajv: Ajv2020, entries: SchemaFile[], coerced: SchemaFile[]): string {
  const coercedImports = coerced.map((entry) => `${validatorExportName(entry)} as coerced${entry.title}`);
  const map = [
    ...entries.map((entry) => `  ${JSON.stringify(entry.id)}: ${validatorExportName(entry)},`),
    ...coerced.map((entry) => `  ${JSON.stringify(entry.id)}: coerced${entry.title},`),
  ].sort();
  return [
    standaloneModule(ajv, entries).trimEnd(),
    `import { ${coercedImports.join(', ')} } from './query-validators.js';`,
    '/** Every canonical validator, keyed by schema $id. */',
    `export const validators = Object.freeze({\n${map.join('\n')}\n});`,
    'export default validators;',
    '',
  ].join('\n');
}

const VALIDATORS_DTS = `${BANNER}
import type { ErrorObject } from 'ajv';

/** An ajv standalone validator: returns whether \`data\` is valid and, if not, sets \`errors\`. */
export interface CanonicalValidator {
  (data: unknown, context?: { instancePath?: string }): boolean;
  errors?: ErrorObject[] | null;
}

/** Every canonical validator, keyed by schema $id. */
export declare const validators: Readonly<Record<string, CanonicalValidator>>;
export default validators;
`;

function pascalCase(key: string): string {
  return key.replace(/(^|[-_.\s]+)([a-zA-Z0-9])/g, (_match, _sep, char: string) => char.toUpperCase());
}

function resolvePointer(document: unknown, pointer: string): unknown {
  let node = document;
  for (const raw of pointer.split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = isObject(node) || Array.isArray(node) ? (node as JsonObject)[key] : undefined;
  }
  return node;
}

/**
 * The copy of a schema handed to json-schema-to-typescript: a `$ref` to a whole canonical schema
 * becomes its type name (`tsType`), so each type is declared once, by its own schema, instead of
 * copied into every schema that uses it; a `$ref` into part of another schema is inlined; local
 * `$defs` get a name prefixed by the owner's title so they cannot clash across schemas.
 */
function typeSource(entry: SchemaFile, byId: Map<string, SchemaFile>): JsonObject {
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isObject(node)) return node;
    const { $ref, ...rest } = node;
    if (typeof $ref === 'string' && !$ref.startsWith('#')) {
      const [base, fragment] = $ref.split('#') as [string, string | undefined];
      const target = byId.get(base)!;
      if (!fragment) return { ...rewriteMembers(rest), tsType: target.title };
      const part = resolvePointer(target.schema, fragment);
      if (!isObject(part)) throw new Error(`$ref ${$ref} points at nothing`);
      return { ...(rewrite(part) as JsonObject), ...rewriteMembers(rest) };
    }
    return rewriteMembers(node);
  };
  const rewriteMembers = (node: JsonObject): JsonObject => {
    const copy: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      copy[key] =
        key === 'const' || key === 'enum' || key === 'default' || key === 'examples' ? value : rewrite(value);
    }
    return copy;
  };
  const source = rewrite(entry.schema) as JsonObject;
  if (isObject(source.$defs)) {
    for (const [key, def] of Object.entries(source.$defs)) {
      if (isObject(def) && typeof def.title !== 'string') def.title = `${entry.title}${pascalCase(key)}`;
    }
  }
  return source;
}

/** TypeScript types, one compile per schema, declaring the schema's own type and its `$defs`. */
async function generateTypes(entries: SchemaFile[]): Promise<string> {
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const chunks: string[] = [];
  for (const entry of entries) {
    let source: string;
    try {
      source = await compileTypes(typeSource(entry, byId) as never, entry.title, {
        bannerComment: '',
        declareExternallyReferenced: true,
        additionalProperties: false,
        ignoreMinAndMaxItems: true,
        unknownAny: true,
        strictIndexSignatures: true,
        format: true,
        cwd: root,
        $refOptions: { resolve: { file: false, http: false } } as never,
      });
    } catch (error) {
      throw new SchemaProblem(entry.file, `cannot generate its TypeScript type: ${(error as Error).message}`);
    }
    chunks.push(`// ${entry.id}\n${source.trim()}`);
  }
  return `${BANNER}\n\n${chunks.join('\n\n')}\n`;
}

function schemasDocument(entries: SchemaFile[]): string {
  const byId = Object.fromEntries(
    [...entries].sort((a, b) => a.id.localeCompare(b.id)).map((e) => [e.id, e.schema]),
  );
  return `${JSON.stringify(byId, null, 2)}\n`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const entries = await loadSchemaFiles();
  const isCoerced = (entry: SchemaFile) => entry.name.endsWith(COERCED_SUFFIX);
  const strictEntries = entries.filter((entry) => !isCoerced(entry));
  const coercedEntries = entries.filter(isCoerced);
  const strictAjv = compileAll(entries, false);
  const coercingAjv = compileAll(entries, true);
  const types = await generateTypes(entries);

  await mkdir(outDir, { recursive: true });
  const outputs: [string, string][] = [
    ['types.ts', types],
    ['validators.js', validatorsModule(strictAjv, strictEntries, coercedEntries)],
    ['validators.d.ts', VALIDATORS_DTS],
    ['query-validators.js', standaloneModule(coercingAjv, coercedEntries)],
    ['schemas.json', schemasDocument(entries)],
  ];
  for (const [name, content] of outputs) await writeFile(path.join(outDir, name), content);
  const ms = Math.round(performance.now() - started);
  console.log(
    `schemas: ${entries.length} canonical schemas -> ${path.relative(process.cwd(), outDir)}/ in ${ms} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(`schemas: generation failed\n  ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
