import { describe, expect, it } from '@jest/globals';
import { type AttributeDefinition, checkAttributeValues, checkDefinition } from './attributes.ts';

const at = '2026-01-01T00:00:00.000Z';
function definition(partial: Partial<AttributeDefinition> & Pick<AttributeDefinition, 'key' | 'type'>) {
  return {
    id: `id-${partial.key}`,
    nameZh: partial.key,
    nameEn: partial.key,
    unit: null,
    options: [],
    filterable: false,
    sort: 0,
    categoryIds: [],
    createdAt: at,
    updatedAt: at,
    ...partial,
  } satisfies AttributeDefinition;
}

const definitions = new Map(
  [
    definition({ key: 'length', type: 'number', unit: 'mm' }),
    definition({ key: 'torque', type: 'number', unit: 'N·m' }),
    definition({
      key: 'material',
      type: 'enum',
      options: [
        { value: 'a2', nameZh: '不锈钢A2', nameEn: 'Stainless A2' },
        { value: 'a4', nameZh: '不锈钢A4', nameEn: 'Stainless A4' },
      ],
    }),
    definition({ key: 'note', type: 'text' }),
    definition({ key: 'rohs', type: 'boolean' }),
    definition({ key: 'temperature', type: 'range', unit: '°C' }),
    definition({ key: 'thread', type: 'text', categoryIds: ['fasteners'] }),
  ].map((d) => [d.key, d]),
);

function check(inputs: Parameters<typeof checkAttributeValues>[1], path = ['fasteners', 'bolts']) {
  return checkAttributeValues(definitions, inputs, path, '/attributes');
}

describe('attribute values', () => {
  it('accept a valid value of every type, typed into its column', () => {
    const { values, errors } = check([
      { key: 'length', value: 30, unit: 'mm' },
      { key: 'torque', value: 25.5 },
      { key: 'material', value: 'a2' },
      { key: 'note', value: 'DIN 933' },
      { key: 'rohs', value: true },
      { key: 'temperature', min: -20, max: 120, unit: '°C' },
      { key: 'thread', value: 'M8' },
    ]);
    expect(errors).toEqual([]);
    expect(values.map((v) => [v.definition.key, v.num, v.min, v.max, v.text, v.bool])).toEqual([
      ['length', 30, null, null, null, null],
      ['torque', 25.5, null, null, null, null],
      ['material', null, null, null, 'a2', null],
      ['note', null, null, null, 'DIN 933', null],
      ['rohs', null, null, null, null, true],
      ['temperature', null, -20, 120, null, null],
      ['thread', null, null, null, 'M8', null],
    ]);
  });

  it('reject a wrong type per attribute type, pointing at the field', () => {
    const { errors, values } = check([
      { key: 'length', value: 'thirty' },
      { key: 'material', value: 'brass' },
      { key: 'note', value: '  ' },
      { key: 'rohs', value: 'yes' },
      { key: 'temperature', value: 5 },
      { key: 'material', value: 3 },
    ]);
    expect(values).toEqual([]);
    expect(errors).toEqual([
      { pointer: '/attributes/0/value', detail: 'must be a number' },
      { pointer: '/attributes/1/value', detail: 'must be one of a2, a4' },
      { pointer: '/attributes/2/value', detail: 'must be a non-empty text' },
      { pointer: '/attributes/3/value', detail: 'must be true or false' },
      { pointer: '/attributes/4/value', detail: 'a range has min and max, not value' },
      { pointer: '/attributes/4/min', detail: 'must be a number' },
      { pointer: '/attributes/4/max', detail: 'must be a number' },
      { pointer: '/attributes/5/key', detail: 'appears twice' },
    ]);
  });

  it('check units, range order, min/max on non-ranges, unknown keys and applicability', () => {
    const { errors } = check(
      [
        { key: 'length', value: 30, unit: 'cm' },
        { key: 'note', value: 'x', unit: 'mm' },
        { key: 'temperature', min: 120, max: -20 },
        { key: 'length', value: 3, min: 1 },
        { key: 'colour', value: 'red' },
        { key: 'thread', value: 'M8' },
      ],
      ['bearings'],
    );
    expect(errors).toEqual([
      { pointer: '/attributes/0/unit', detail: 'must be mm' },
      { pointer: '/attributes/1/unit', detail: 'note has no unit' },
      { pointer: '/attributes/2/max', detail: 'must not be less than min' },
      { pointer: '/attributes/3/key', detail: 'appears twice' },
      { pointer: '/attributes/4/key', detail: 'is not a known attribute' },
      { pointer: '/attributes/5/key', detail: "does not apply to the product's category" },
    ]);
    expect(check([{ key: 'length', value: 3, min: 1 }]).errors).toEqual([
      { pointer: '/attributes/0/min', detail: 'a number value has no min' },
    ]);
  });
});

describe('attribute definitions', () => {
  it('need options exactly when they are enums, and a unit only on numbers and ranges', () => {
    expect(checkDefinition({ type: 'enum', unit: null, options: [] })).toEqual([
      { pointer: '/options', detail: 'an enum attribute needs at least one option' },
    ]);
    expect(
      checkDefinition({
        type: 'enum',
        unit: 'mm',
        options: [
          { value: 'a', nameZh: 'a', nameEn: 'a' },
          { value: 'a', nameZh: 'b', nameEn: 'b' },
        ],
      }),
    ).toEqual([
      { pointer: '/unit', detail: 'a enum attribute has no unit' },
      { pointer: '/options/1/value', detail: 'appears twice' },
    ]);
    expect(
      checkDefinition({ type: 'text', unit: null, options: [{ value: 'a', nameZh: 'a', nameEn: 'a' }] }),
    ).toEqual([{ pointer: '/options', detail: 'only an enum attribute has options' }]);
    expect(checkDefinition({ type: 'range', unit: '°C', options: [] })).toEqual([]);
    expect(checkDefinition({ type: 'number', unit: null, options: [] })).toEqual([]);
  });
});
