import path from 'node:path';
import Big from 'big.js';
import type { MappingLookup } from '../../../schemas/generated/types.ts';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import { MappingFileError } from './mapping-error.ts';
import { checkAgainstMetaSchema, readYamlFile } from './mapping-yaml.ts';

type Code = string | number | boolean;

/** A code table: the same code as each system writes it, e.g. units (hub pcs, Kingdee Pcs or 个, WMS EA). */
export class CodeTable {
  readonly name: string;
  readonly columns: readonly string[];
  readonly #caseInsensitive: boolean;
  /** column → code as read (normalised) → row index */
  readonly #index = new Map<string, Map<string, number>>();
  readonly #rows: readonly Record<string, Code | Code[]>[];

  constructor(name: string, lookup: MappingLookup, problem: (pointer: string, message: string) => never) {
    this.name = name;
    this.columns = lookup.columns ?? [];
    this.#caseInsensitive = lookup.match === 'case-insensitive';
    this.#rows = (lookup.rows ?? []) as Record<string, Code | Code[]>[];
    for (const column of this.columns) this.#index.set(column, new Map());
    this.#rows.forEach((row, rowIndex) => {
      for (const [column, cell] of Object.entries(row)) {
        const index = this.#index.get(column);
        if (!index)
          problem(
            `/rows/${rowIndex}/${column}`,
            `"${column}" is not one of the columns ${this.columns.join(', ')}`,
          );
        for (const code of Array.isArray(cell) ? cell : [cell]) {
          const key = this.#key(code);
          const earlier = index.get(key);
          // A code that means two things cannot be read back: the table is ambiguous.
          if (earlier !== undefined && earlier !== rowIndex) {
            problem(
              `/rows/${rowIndex}/${column}`,
              `code ${JSON.stringify(code)} of column ${column} is also in row ${earlier + 1}`,
            );
          }
          index.set(key, rowIndex);
        }
      }
    });
  }

  #key(code: unknown): string {
    const text = String(code);
    return this.#caseInsensitive ? text.toLowerCase() : text;
  }

  hasColumn(column: string): boolean {
    return this.#index.has(column);
  }

  /** The code of column `to` for `code` in column `from`, or undefined when unknown or empty there. */
  translate(from: string, to: string, code: unknown): Code | undefined {
    const rowIndex = this.#index.get(from)?.get(this.#key(code));
    if (rowIndex === undefined) return undefined;
    const cell = this.#rows[rowIndex]?.[to];
    return Array.isArray(cell) ? cell[0] : cell;
  }
}

/** Sizes of units in one base unit, for exact conversion (decimal arithmetic, never floats). */
export class UnitFactorTable {
  readonly name: string;
  readonly base: string;
  readonly #factors = new Map<string, Big>();

  constructor(name: string, lookup: MappingLookup) {
    this.name = name;
    this.base = lookup.base ?? '';
    for (const [unit, factor] of Object.entries(lookup.factors ?? {}))
      this.#factors.set(unit, new Big(factor as number | string));
  }

  has(unit: string): boolean {
    return this.#factors.has(unit);
  }

  /** How many `to` one `from` is, or undefined when a unit is not in the table. */
  factor(from: string, to: string): Big | undefined {
    const fromFactor = this.#factors.get(from);
    const toFactor = this.#factors.get(to);
    if (!fromFactor || !toFactor) return undefined;
    return fromFactor.div(toFactor);
  }
}

/** Lookups of one mappings folder, each file read and checked once. */
export class LookupDirectory {
  readonly directory: string;
  readonly #loaded = new Map<string, CodeTable | UnitFactorTable>();

  constructor(directory: string) {
    this.directory = directory;
  }

  #load(name: string): CodeTable | UnitFactorTable {
    const cached = this.#loaded.get(name);
    if (cached) return cached;
    const yaml = readYamlFile(path.join(this.directory, `${name}.yaml`));
    const validate = validators[schemaId('meta/mapping-lookup')];
    if (!validate) throw new Error('meta/mapping-lookup schema missing: run npm run generate');
    checkAgainstMetaSchema(yaml, validate);
    const lookup = yaml.data as MappingLookup;
    const problem = (pointer: string, message: string): never => {
      throw new MappingFileError([yaml.problem(pointer, message)]);
    };
    const table =
      lookup.kind === 'code-table' ? new CodeTable(name, lookup, problem) : new UnitFactorTable(name, lookup);
    this.#loaded.set(name, table);
    return table;
  }

  codeTable(name: string): CodeTable {
    const table = this.#load(name);
    if (!(table instanceof CodeTable))
      throw new Error(`lookup "${name}" is a unit-factors table, not a code table`);
    return table;
  }

  unitFactors(name: string): UnitFactorTable {
    const table = this.#load(name);
    if (!(table instanceof UnitFactorTable))
      throw new Error(`lookup "${name}" is a code table, not a unit-factors table`);
    return table;
  }
}
