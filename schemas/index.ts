/**
 * The canonical schemas as the rest of the code base sees them. Domains and connectors may import
 * this module (boundary rule), so it depends on nothing but Node itself.
 */
import { readFileSync } from 'node:fs';

export const SCHEMA_ID_PREFIX = 'https://hub.local/schemas/';

/** A JSON Schema 2020-12 document or subschema, as plain data. */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * What an action or event declares as `params`: a reference to one canonical schema. A type alias,
 * not an interface, so it is assignable to Moleculer's index-signature `ActionParams`.
 */
export type SchemaRef = { $ref: string };

/**
 * The `$id` of a canonical schema from its short name (its path under schemas/ without
 * `.schema.json`): `schemaId('api/accounts/login-request')`. A full id is returned unchanged.
 */
export function schemaId(name: string): string {
  if (name.startsWith(SCHEMA_ID_PREFIX)) return name;
  if (!/^[a-z]+(\/[a-z0-9]+(-[a-z0-9]+)*)+$/.test(name)) {
    throw new Error(`"${name}" is not a canonical schema name such as "api/accounts/login-request"`);
  }
  return `${SCHEMA_ID_PREFIX}${name}`;
}

/** `params` of an action or event: `params: schemaRef('api/accounts/login-request')`. */
export function schemaRef(name: string): SchemaRef {
  return { $ref: schemaId(name) };
}

let loaded: ReadonlyMap<string, JsonSchema> | undefined;

/**
 * Every canonical schema by `$id`, as built by `npm run generate` (schemas/generated/schemas.json).
 * Read once per process; callers must treat the schemas as read-only.
 */
export function loadSchemas(): ReadonlyMap<string, JsonSchema> {
  if (!loaded) {
    const file = new URL('./generated/schemas.json', import.meta.url);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error('schemas/generated/schemas.json is missing: run `npm run generate`', { cause: error });
    }
    loaded = new Map(Object.entries(JSON.parse(text) as Record<string, JsonSchema>));
  }
  return loaded;
}
