import { type JsonSchema, loadSchemas, schemaId } from '../../../schemas/index.ts';

/**
 * The rules of one product or SKU field, taken from its canonical schema (`entities/product`,
 * `entities/product-sku`), so a cell is held to exactly what the API would accept: the import never
 * keeps a second copy of lengths and patterns. Only the keywords those property schemas use are
 * understood; a property that gains another one fails loudly here instead of being half-checked.
 */
const UNDERSTOOD = new Set([
  'type',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'enum',
  'minItems',
  'maxItems',
  'items',
  'description',
  'examples',
  'default',
]);

export interface FieldRule {
  schema: JsonSchema;
  pattern: RegExp | undefined;
  items: FieldRule | undefined;
}

function compile(schema: JsonSchema, where: string): FieldRule {
  for (const keyword of Object.keys(schema)) {
    if (!UNDERSTOOD.has(keyword)) throw new Error(`${where}: the import does not understand "${keyword}"`);
  }
  return {
    schema,
    pattern: typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined,
    items: schema.items ? compile(schema.items as JsonSchema, `${where}/items`) : undefined,
  };
}

/** The rule of `entity`'s property (`fieldRule('entities/product', 'slug')`). */
export function fieldRule(entity: string, property: string): FieldRule {
  const schema = loadSchemas().get(schemaId(entity));
  const found = (schema?.properties as Record<string, JsonSchema> | undefined)?.[property];
  if (!found) throw new Error(`${entity} has no property ${property}`);
  return compile(found, `${entity}#/properties/${property}`);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Why `value` breaks the rule, as a sentence that does not echo it; undefined when it is fine. */
export function ruleViolation(rule: FieldRule, value: unknown): string | undefined {
  const { schema } = rule;
  const types = schema.type === undefined ? [] : ([] as string[]).concat(schema.type as string | string[]);
  const actual = typeOf(value);
  if (types.length && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
    return `must be ${types.filter((type) => type !== 'null').join(' or ')}`;
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    return `must be one of ${schema.enum.join(', ')}`;
  }
  if (typeof value === 'string') {
    // Characters are code points; counting them is only needed near the bound (code units ≥ code points).
    const length =
      typeof schema.maxLength === 'number' && value.length > schema.maxLength
        ? [...value].length
        : value.length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) {
      return schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`;
    }
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
      return `must be at most ${schema.maxLength} characters`;
    }
    if (rule.pattern && !rule.pattern.test(value)) return `must match ${String(schema.pattern)}`;
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      return `must be at least ${schema.minimum}`;
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      return `must be at most ${schema.maximum}`;
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      return `must have at most ${schema.maxItems} entries`;
    }
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      return `must have at least ${schema.minItems} entries`;
    }
    if (rule.items) {
      for (const [index, item] of value.entries()) {
        const problem = ruleViolation(rule.items, item);
        if (problem) return `entry ${index + 1} ${problem}`;
      }
    }
  }
  return undefined;
}
