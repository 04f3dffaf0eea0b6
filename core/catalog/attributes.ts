import type { Queryable } from '../platform/database/database.ts';
import { Conflict, type FieldError, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import { conflictOnDuplicate } from './catalog-area.ts';

/**
 * Specification attributes (规格参数): their definitions, and the typed values products and SKUs
 * carry. A value is checked against its definition — type, unit, enum option, range order and the
 * categories the attribute applies to — with a JSON pointer per problem.
 */
export const ATTRIBUTE_TYPES = ['number', 'enum', 'text', 'boolean', 'range'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export interface AttributeOption {
  value: string;
  nameZh: string;
  nameEn: string;
}

export interface AttributeDefinition {
  id: string;
  key: string;
  nameZh: string;
  nameEn: string;
  type: AttributeType;
  /** Unit of number and range values (mm, N·m, °C); null for the other types or unitless numbers. */
  unit: string | null;
  /** The allowed values of an enum; empty for the other types. */
  options: AttributeOption[];
  /** Whether search offers it as a facet. */
  filterable: boolean;
  sort: number;
  /** Categories (with their subtrees) the attribute applies to; empty = every category. */
  categoryIds: string[];
  createdAt: string;
  updatedAt: string;
}

export interface AttributeInput {
  key: string;
  nameZh: string;
  nameEn: string;
  type: AttributeType;
  unit?: string | null;
  options?: AttributeOption[];
  filterable?: boolean;
  sort?: number;
  categoryIds?: string[];
}

export type AttributeChanges = Partial<Omit<AttributeInput, 'key' | 'type'>> & { type?: AttributeType };

/** A value as a request carries it: `value` for number, enum, text and boolean; `min`/`max` for range. */
export interface AttributeValueInput {
  key: string;
  value?: number | string | boolean;
  min?: number;
  max?: number;
  /** When given, must be the definition's unit. */
  unit?: string;
}

/** A checked value, in the typed columns it is stored in. */
export interface ResolvedValue {
  definition: AttributeDefinition;
  num: number | null;
  min: number | null;
  max: number | null;
  text: string | null;
  bool: boolean | null;
}

/** A value as answers show it, with its definition's names and unit. */
export interface AttributeValue {
  key: string;
  nameZh: string;
  nameEn: string;
  type: AttributeType;
  unit: string | null;
  value: number | string | boolean | null;
  min: number | null;
  max: number | null;
  /** The enum option's names; null for the other types. */
  label: { zh: string; en: string } | null;
}

const COLUMNS = `d.id, d.key, d.name_zh, d.name_en, d.type, d.unit, d.options, d.filterable, d.sort,
  d.created_at, d.updated_at,
  COALESCE((SELECT array_agg(ac.category_id::text ORDER BY ac.category_id)
              FROM catalog.attribute_categories ac WHERE ac.attribute_id = d.id), '{}') AS category_ids`;

function toDefinition(row: Record<string, unknown>): AttributeDefinition {
  return {
    id: row.id as string,
    key: row.key as string,
    nameZh: row.name_zh as string,
    nameEn: row.name_en as string,
    type: row.type as AttributeType,
    unit: (row.unit as string | null) ?? null,
    options: row.options as AttributeOption[],
    filterable: row.filterable as boolean,
    sort: row.sort as number,
    categoryIds: row.category_ids as string[],
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

/** Problems with a definition as a whole (after applying changes), as pointers into the request. */
export function checkDefinition(definition: {
  type: AttributeType;
  unit: string | null;
  options: AttributeOption[];
}): FieldError[] {
  const errors: FieldError[] = [];
  if (definition.unit !== null && definition.type !== 'number' && definition.type !== 'range') {
    errors.push({ pointer: '/unit', detail: `a ${definition.type} attribute has no unit` });
  }
  if (definition.type === 'enum') {
    if (definition.options.length === 0) {
      errors.push({ pointer: '/options', detail: 'an enum attribute needs at least one option' });
    }
    const seen = new Set<string>();
    definition.options.forEach((option, index) => {
      if (seen.has(option.value)) {
        errors.push({ pointer: `/options/${index}/value`, detail: 'appears twice' });
      }
      seen.add(option.value);
    });
  } else if (definition.options.length > 0) {
    errors.push({ pointer: '/options', detail: 'only an enum attribute has options' });
  }
  return errors;
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Checks values against their definitions. `categoryPath` (root first) is the product's category,
 * for applicability; `pointer` is where the values sit in the request (`/attributes`). Problems
 * come back as field errors; nothing is thrown.
 */
export function checkAttributeValues(
  definitions: ReadonlyMap<string, AttributeDefinition>,
  inputs: readonly AttributeValueInput[],
  categoryPath: readonly string[],
  pointer: string,
): { values: ResolvedValue[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const values: ResolvedValue[] = [];
  const seen = new Set<string>();
  inputs.forEach((input, index) => {
    const at = `${pointer}/${index}`;
    const fail = (field: string, detail: string): void => {
      errors.push({ pointer: `${at}${field}`, detail });
    };
    const definition = definitions.get(input.key);
    if (!definition) {
      fail('/key', 'is not a known attribute');
      return;
    }
    if (seen.has(input.key)) {
      fail('/key', 'appears twice');
      return;
    }
    seen.add(input.key);
    if (
      definition.categoryIds.length > 0 &&
      !definition.categoryIds.some((categoryId) => categoryPath.includes(categoryId))
    ) {
      fail('/key', "does not apply to the product's category");
      return;
    }
    const before = errors.length;
    if (input.unit !== undefined) {
      if (definition.unit === null) fail('/unit', `${definition.key} has no unit`);
      else if (input.unit !== definition.unit) fail('/unit', `must be ${definition.unit}`);
    }
    const resolved: ResolvedValue = { definition, num: null, min: null, max: null, text: null, bool: null };
    if (definition.type === 'range') {
      if (input.value !== undefined) fail('/value', 'a range has min and max, not value');
      if (!isNumber(input.min)) fail('/min', 'must be a number');
      if (!isNumber(input.max)) fail('/max', 'must be a number');
      if (isNumber(input.min) && isNumber(input.max) && input.min > input.max) {
        fail('/max', 'must not be less than min');
      }
      resolved.min = input.min ?? null;
      resolved.max = input.max ?? null;
    } else {
      if (input.min !== undefined) fail('/min', `a ${definition.type} value has no min`);
      if (input.max !== undefined) fail('/max', `a ${definition.type} value has no max`);
      const { value } = input;
      if (definition.type === 'number') {
        if (!isNumber(value)) fail('/value', 'must be a number');
        else resolved.num = value;
      } else if (definition.type === 'boolean') {
        if (typeof value !== 'boolean') fail('/value', 'must be true or false');
        else resolved.bool = value;
      } else if (definition.type === 'text') {
        if (typeof value !== 'string' || value.trim() === '') fail('/value', 'must be a non-empty text');
        else resolved.text = value;
      } else if (typeof value !== 'string') {
        fail('/value', 'must be one of the options');
      } else if (!definition.options.some((option) => option.value === value)) {
        fail('/value', `must be one of ${definition.options.map((option) => option.value).join(', ')}`);
      } else resolved.text = value;
    }
    if (errors.length === before) values.push(resolved);
  });
  return { values, errors };
}

/** The stored columns of a value as answers show it. */
export function attributeValueOf(
  definition: AttributeDefinition,
  row: { num: unknown; min: unknown; max: unknown; text: unknown; bool: unknown },
): AttributeValue {
  const numberOf = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  let value: AttributeValue['value'] = null;
  let label: AttributeValue['label'] = null;
  if (definition.type === 'number') value = numberOf(row.num);
  else if (definition.type === 'boolean') value = (row.bool as boolean | null) ?? null;
  else if (definition.type === 'text' || definition.type === 'enum')
    value = (row.text as string | null) ?? null;
  if (definition.type === 'enum') {
    const option = definition.options.find((o) => o.value === value);
    label = option ? { zh: option.nameZh, en: option.nameEn } : null;
  }
  return {
    key: definition.key,
    nameZh: definition.nameZh,
    nameEn: definition.nameEn,
    type: definition.type,
    unit: definition.unit,
    value,
    min: definition.type === 'range' ? numberOf(row.min) : null,
    max: definition.type === 'range' ? numberOf(row.max) : null,
    label,
  };
}

export async function findAttribute(db: Queryable, id: string): Promise<AttributeDefinition | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM catalog.attribute_definitions d WHERE d.id = $1`, [
    id,
  ]);
  return rows[0] ? toDefinition(rows[0]) : undefined;
}

/** Every definition, in display order (there are hundreds at most). */
export async function listAttributes(db: Queryable): Promise<AttributeDefinition[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.attribute_definitions d ORDER BY d.sort, d.key`,
  );
  return rows.map(toDefinition);
}

/** Definitions by key (unknown keys are simply absent). */
export async function attributesByKey(
  db: Queryable,
  keys: readonly string[],
): Promise<Map<string, AttributeDefinition>> {
  if (keys.length === 0) return new Map();
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.attribute_definitions d WHERE d.key = ANY($1::text[])`,
    [[...new Set(keys)]],
  );
  return new Map(rows.map((row) => [row.key as string, toDefinition(row)]));
}

/** Definitions by id. */
export async function attributesById(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, AttributeDefinition>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.attribute_definitions d WHERE d.id = ANY($1::uuid[])`,
    [[...new Set(ids)]],
  );
  return new Map(rows.map((row) => [row.id as string, toDefinition(row)]));
}

async function requireCategories(db: Queryable, categoryIds: readonly string[]): Promise<void> {
  if (categoryIds.length === 0) return;
  const { rows } = await db.query(`SELECT id FROM catalog.categories WHERE id = ANY($1::uuid[])`, [
    [...categoryIds],
  ]);
  const known = new Set(rows.map((row) => row.id as string));
  const errors = categoryIds.flatMap((id, index) =>
    known.has(id) ? [] : [{ pointer: `/categoryIds/${index}`, detail: 'is not a category' }],
  );
  if (errors.length) throw new ValidationFailed(errors, 'Unknown categories');
}

async function setCategories(db: Queryable, attributeId: string, categoryIds: readonly string[]) {
  await db.query('DELETE FROM catalog.attribute_categories WHERE attribute_id = $1', [attributeId]);
  if (categoryIds.length) {
    await db.query(
      `INSERT INTO catalog.attribute_categories (attribute_id, category_id)
       SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
      [attributeId, [...categoryIds]],
    );
  }
}

export async function insertAttribute(db: Queryable, input: AttributeInput): Promise<AttributeDefinition> {
  const unit = input.unit ?? null;
  const options = input.options ?? [];
  const errors = checkDefinition({ type: input.type, unit, options });
  if (errors.length) throw new ValidationFailed(errors, 'The attribute definition is not consistent');
  await requireCategories(db, input.categoryIds ?? []);
  let id: string;
  try {
    const { rows } = await db.query(
      `INSERT INTO catalog.attribute_definitions (key, name_zh, name_en, type, unit, options, filterable, sort)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) RETURNING id`,
      [
        input.key,
        input.nameZh,
        input.nameEn,
        input.type,
        unit,
        JSON.stringify(options),
        input.filterable ?? false,
        input.sort ?? 0,
      ],
    );
    id = rows[0]!.id as string;
  } catch (error) {
    conflictOnDuplicate(error, 'Another attribute has this key', '/key');
  }
  await setCategories(db, id, input.categoryIds ?? []);
  return (await findAttribute(db, id))!;
}

/** How many product and SKU values use the attribute (and which enum option values). */
async function usage(db: Queryable, id: string): Promise<{ count: number; options: Set<string> }> {
  const { rows } = await db.query(
    `SELECT text, count(*)::int AS n FROM (
       SELECT text FROM catalog.product_attribute_values WHERE attribute_id = $1
       UNION ALL SELECT text FROM catalog.sku_attribute_values WHERE attribute_id = $1) v
     GROUP BY text`,
    [id],
  );
  return {
    count: rows.reduce((sum, row) => sum + (row.n as number), 0),
    options: new Set(rows.flatMap((row) => (row.text === null ? [] : [row.text as string]))),
  };
}

/**
 * Changes a definition. Type and unit are fixed once values use the attribute (they would change
 * what stored values mean), and an enum option in use cannot be removed.
 */
export async function updateAttribute(
  db: Queryable,
  id: string,
  changes: AttributeChanges,
): Promise<{ before: AttributeDefinition; after: AttributeDefinition }> {
  const { rows: locked } = await db.query(
    'SELECT id FROM catalog.attribute_definitions WHERE id = $1 FOR UPDATE',
    [id],
  );
  const before = locked[0] ? await findAttribute(db, id) : undefined;
  if (!before) throw new NotFound('Attribute');
  const next = {
    type: changes.type ?? before.type,
    unit: changes.unit !== undefined ? changes.unit : before.unit,
    options: changes.options ?? before.options,
  };
  const errors = checkDefinition(next);
  if (errors.length) throw new ValidationFailed(errors, 'The attribute definition is not consistent');
  const used = await usage(db, id);
  if (used.count > 0 && (next.type !== before.type || next.unit !== before.unit)) {
    throw new Conflict(`${used.count} values use this attribute: its type and unit cannot change`, {
      errors: [
        { pointer: next.type !== before.type ? '/type' : '/unit', detail: 'is fixed while values use it' },
      ],
    });
  }
  const removed = [...used.options].filter(
    (value) => before.type === 'enum' && !next.options.some((option) => option.value === value),
  );
  if (removed.length) {
    throw new Conflict(`Options in use cannot be removed: ${removed.join(', ')}`, {
      errors: [{ pointer: '/options', detail: `still used: ${removed.join(', ')}` }],
    });
  }
  if (changes.categoryIds) await requireCategories(db, changes.categoryIds);
  await db.query(
    `UPDATE catalog.attribute_definitions
        SET name_zh = $2, name_en = $3, type = $4, unit = $5, options = $6::jsonb, filterable = $7, sort = $8,
            updated_at = now()
      WHERE id = $1`,
    [
      id,
      changes.nameZh ?? before.nameZh,
      changes.nameEn ?? before.nameEn,
      next.type,
      next.unit,
      JSON.stringify(next.options),
      changes.filterable ?? before.filterable,
      changes.sort ?? before.sort,
    ],
  );
  if (changes.categoryIds) await setCategories(db, id, changes.categoryIds);
  return { before, after: (await findAttribute(db, id))! };
}

/** Deletes a definition no value uses. */
export async function deleteAttribute(db: Queryable, id: string): Promise<AttributeDefinition> {
  const definition = await findAttribute(db, id);
  if (!definition) throw new NotFound('Attribute');
  const used = await usage(db, id);
  if (used.count > 0) throw new Conflict(`${used.count} values use this attribute: remove them first`);
  await db.query('DELETE FROM catalog.attribute_definitions WHERE id = $1', [id]);
  return definition;
}

/** Ids of products whose values (or SKUs' values) use the attribute: they re-index on a rename. */
export async function productsUsingAttribute(db: Queryable, id: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT product_id AS id FROM catalog.product_attribute_values WHERE attribute_id = $1
     UNION SELECT s.product_id FROM catalog.sku_attribute_values v JOIN catalog.skus s ON s.id = v.sku_id
      WHERE v.attribute_id = $1`,
    [id],
  );
  return rows.map((row) => row.id as string);
}
