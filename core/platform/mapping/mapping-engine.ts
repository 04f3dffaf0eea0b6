import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { MappingFile, MappingFileField, MappingFileFields } from '../../../schemas/generated/types.ts';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import { toFieldErrors } from '../validation/schema-validator.ts';
import type { LinkResolver } from './link-resolver.ts';
import { type CodeTable, LookupDirectory, type UnitFactorTable } from './lookup-tables.ts';
import {
  FieldMappingFailure,
  MAX_MAPPING_ERRORS,
  MappingError,
  type MappingErrorCode,
  type MappingErrorEntry,
  MappingFileError,
  shown,
} from './mapping-error.ts';
import {
  type CompiledExpression,
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  type ExpressionLimits,
} from './mapping-expressions.ts';
import { checkAgainstMetaSchema, type LocatedYaml, readYamlFile } from './mapping-yaml.ts';
import { type CompiledPath, compilePath } from './source-path.ts';
import {
  castValue,
  checkDateConversion,
  convertDate,
  type DateConversion,
  decimalToMinor,
  finalValue,
  minorToDecimal,
  type Rounding,
  roundDecimal,
  toDecimal,
  type ValueType,
} from './value-conversions.ts';

export type MappingDirection = 'inbound' | 'outbound';

export interface MappingOptions {
  /** Where code tables and unit-factor tables live; default: `lookups/` beside the connector folders. */
  lookupsDirectory?: string;
  expressionLimits?: Partial<ExpressionLimits>;
}

export interface MapContext {
  /** Needed by mappings with `link` fields; without one, every link is an `unlinked` error. */
  links?: LinkResolver;
}

/**
 * The outcome of one record: the mapped record, or every error found. `unvalidated` is the mapped
 * record that failed only its target schema, for tools that show it next to the errors (the CLI);
 * callers that act on records must not use it.
 */
export type MappingResult =
  | { ok: true; value: unknown }
  | { ok: false; errors: MappingErrorEntry[]; unvalidated?: unknown };

/** The most nested `fields` a mapping may have (record → lines → sub-lines ...). */
const MAX_NESTING = 8;
const DEFAULT_MAX_ITEMS = 10_000;
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const OMIT = Symbol('omit');
type Produced = unknown | typeof OMIT;

interface Scope {
  current: unknown;
  root: unknown;
}

interface Run {
  errors: MappingErrorEntry[];
  links: LinkResolver | undefined;
}

/**
 * Producers answer synchronously unless a step needs to wait (a JSONata evaluation, a link
 * lookup): most fields of most mappings are paths, codes and conversions, and a promise per field
 * per record would cost more than the field itself.
 */
type MaybePromise<T> = T | Promise<T>;
type Producer = (scope: Scope, run: Run, pointer: string) => MaybePromise<Produced>;

interface CompiledField {
  segments: string[];
  pointer: string;
  when: CompiledExpression | undefined;
  produce: Producer;
}

function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function record(run: Run, path: string, code: MappingErrorCode, message: string): void {
  if (run.errors.length < MAX_MAPPING_ERRORS) run.errors.push({ path, code, message });
}

/** Constants and defaults are shared by every record: each record gets its own copy of an object. */
function copyOf<T>(value: T): T {
  return value !== null && typeof value === 'object' ? structuredClone(value) : value;
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0 && value.some(isTruthy);
  return Boolean(value);
}

function setPath(target: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let object = target;
  for (const segment of segments.slice(0, -1)) {
    let next = object[segment];
    if (next === undefined) {
      next = {};
      object[segment] = next;
    }
    object = next as Record<string, unknown>;
  }
  object[segments[segments.length - 1] as string] = value;
}

function produceField(field: CompiledField, scope: Scope, run: Run, pointer: string): MaybePromise<Produced> {
  if (!field.when) return field.produce(scope, run, pointer);
  const condition = field.when.evaluate(scope.current, { root: scope.root });
  if (condition instanceof Promise) {
    return condition.then((holds) => (isTruthy(holds) ? field.produce(scope, run, pointer) : OMIT));
  }
  return isTruthy(condition) ? field.produce(scope, run, pointer) : OMIT;
}

function recordFailure(run: Run, pointer: string, error: unknown): void {
  if (!(error instanceof FieldMappingFailure)) throw error;
  record(run, pointer, error.code, error.message);
}

type Output = Record<string, unknown>;
type Step = (value: unknown, scope: Scope, run: Run, at: string) => MaybePromise<Produced>;

function applyFields(
  fields: readonly CompiledField[],
  scope: Scope,
  run: Run,
  base: string,
): MaybePromise<Output> {
  const output: Output = {};
  for (let index = 0; index < fields.length; index++) {
    const field = fields[index] as CompiledField;
    const pointer = base + field.pointer;
    let value: MaybePromise<Produced>;
    try {
      value = produceField(field, scope, run, pointer);
    } catch (error) {
      recordFailure(run, pointer, error);
      continue;
    }
    if (value instanceof Promise) return applyRemainingFields(fields, index, value, output, scope, run, base);
    if (value !== OMIT) setPath(output, field.segments, value);
  }
  return output;
}

/** The rest of applyFields once one field had to wait: fields still run one after the other, in order. */
async function applyRemainingFields(
  fields: readonly CompiledField[],
  waitingIndex: number,
  waiting: Promise<Produced>,
  output: Output,
  scope: Scope,
  run: Run,
  base: string,
): Promise<Output> {
  for (let index = waitingIndex; index < fields.length; index++) {
    const field = fields[index] as CompiledField;
    const pointer = base + field.pointer;
    try {
      const value = await (index === waitingIndex ? waiting : produceField(field, scope, run, pointer));
      if (value !== OMIT) setPath(output, field.segments, value);
    } catch (error) {
      recordFailure(run, pointer, error);
    }
  }
  return output;
}

/** Compiles the `fields` of one level; `fail` throws a MappingFileError at a pointer of the file. */
class FieldCompiler {
  readonly #yaml: LocatedYaml;
  readonly #lookups: LookupDirectory;
  readonly #limits: ExpressionLimits;
  readonly #columns: ReadonlySet<string> | undefined;

  constructor(
    yaml: LocatedYaml,
    lookups: LookupDirectory,
    limits: ExpressionLimits,
    columns: ReadonlySet<string> | undefined,
  ) {
    this.#yaml = yaml;
    this.#lookups = lookups;
    this.#limits = limits;
    this.#columns = columns;
  }

  fail(pointer: string, message: string): never {
    throw new MappingFileError([this.#yaml.problem(pointer, message)]);
  }

  #attempt<T>(pointer: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof MappingFileError) throw error;
      return this.fail(pointer, (error as Error).message);
    }
  }

  #path(text: string, pointer: string, atRoot: boolean): CompiledPath {
    return this.#attempt(pointer, () => compilePath(text, atRoot ? this.#columns : undefined));
  }

  #expression(text: string, pointer: string): CompiledExpression {
    return this.#attempt(pointer, () => compileExpression(text, this.#limits));
  }

  compileFields(fields: MappingFileFields, pointer: string, depth: number, atRoot: boolean): CompiledField[] {
    if (depth > MAX_NESTING) this.fail(pointer, `fields nest deeper than ${MAX_NESTING} levels`);
    const compiled: CompiledField[] = [];
    const targets = Object.keys(fields);
    for (const target of targets) {
      const fieldPointer = `${pointer}/${escapeToken(target)}`;
      const segments = target.split('.');
      const unsafe = segments.find((segment) => UNSAFE_KEYS.has(segment));
      if (unsafe) this.fail(fieldPointer, `"${unsafe}" cannot be a target name`);
      const clash = targets.find((other) => other !== target && other.startsWith(`${target}.`));
      if (clash) this.fail(fieldPointer, `"${target}" is written as a value and also holds "${clash}"`);
      const spec = fields[target] as MappingFileField;
      compiled.push({
        segments,
        pointer: segments.map((segment) => `/${escapeToken(segment)}`).join(''),
        when: spec.when === undefined ? undefined : this.#expression(spec.when, `${fieldPointer}/when`),
        produce: this.#producer(spec, fieldPointer, depth, atRoot),
      });
    }
    return compiled;
  }

  #producer(spec: MappingFileField, pointer: string, depth: number, atRoot: boolean): Producer {
    const sources = (['from', 'const', 'expr', 'fields'] as const).filter((key) => key in spec);
    if (sources.length !== 1) {
      this.fail(
        pointer,
        sources.length === 0
          ? 'a field needs one of from, const, expr, fields (or each with fields)'
          : `a field takes exactly one of from, const, expr, fields; this one has ${sources.join(', ')}`,
      );
    }
    if (spec.fields !== undefined) {
      const steps = (['default', 'map', 'unit', 'number', 'money', 'date', 'link', 'type'] as const).filter(
        (key) => key in spec,
      );
      if (steps.length > 0) {
        this.fail(pointer, `fields (an object, or with each an array) take no ${steps.join(', ')}`);
      }
      if (spec.each !== undefined) return this.#eachProducer(spec, pointer, depth, atRoot);
      const nested = this.compileFields(spec.fields, `${pointer}/fields`, depth + 1, atRoot);
      return (scope, run, at) => applyFields(nested, scope, run, at);
    }
    // A constant null is written as null: it is what the mapping says, not a missing value.
    if ('const' in spec && spec.const === null) return () => null;
    const read = this.#sourceReader(spec, pointer, atRoot);
    const steps = this.#steps(spec, pointer, atRoot);
    const hasDefault = 'default' in spec;
    const fallback = spec.default;
    const required = spec.required === true;
    const runSteps = (
      start: number,
      value: unknown,
      scope: Scope,
      run: Run,
      at: string,
    ): MaybePromise<Produced> => {
      let current = value;
      for (let index = start; index < steps.length; index++) {
        const next = (steps[index] as Step)(current, scope, run, at);
        if (next instanceof Promise) {
          return next.then((resolved) =>
            resolved === OMIT ? OMIT : runSteps(index + 1, resolved, scope, run, at),
          );
        }
        if (next === OMIT) return OMIT;
        current = next;
      }
      return finalValue(current);
    };
    const fromValue = (value: unknown, scope: Scope, run: Run, at: string): MaybePromise<Produced> => {
      if (isMissing(value)) {
        if (hasDefault) {
          if (fallback === null) return null;
          return runSteps(0, copyOf(fallback), scope, run, at);
        }
        if (required)
          throw new FieldMappingFailure('required', 'is required but the record has no value for it');
        return OMIT;
      }
      return runSteps(0, value, scope, run, at);
    };
    return (scope, run, at) => {
      const value = read(scope);
      return value instanceof Promise
        ? value.then((resolved) => fromValue(resolved, scope, run, at))
        : fromValue(value, scope, run, at);
    };
  }

  #sourceReader(spec: MappingFileField, pointer: string, atRoot: boolean): (scope: Scope) => unknown {
    if (spec.from !== undefined) {
      const path = this.#path(spec.from, `${pointer}/from`, atRoot);
      return (scope) => path.read(path.fromRoot ? scope.root : scope.current);
    }
    if (spec.expr !== undefined) {
      const expression = this.#expression(spec.expr, `${pointer}/expr`);
      return (scope) => expression.evaluate(scope.current, { root: scope.root });
    }
    const constant: unknown = spec.const;
    return () => copyOf(constant);
  }

  #eachProducer(spec: MappingFileField, pointer: string, depth: number, atRoot: boolean): Producer {
    const items = this.#path(spec.each as string, `${pointer}/each`, atRoot);
    const fields = this.compileFields(
      spec.fields as MappingFileFields,
      `${pointer}/fields`,
      depth + 1,
      false,
    );
    const maxItems = spec.maxItems ?? DEFAULT_MAX_ITEMS;
    const where = spec.where === undefined ? undefined : this.#expression(spec.where, `${pointer}/where`);
    const required = spec.required === true;
    // Errors point at the target item, which is the source item's place only without `where`.
    const mapItems = (
      list: unknown[],
      start: number,
      output: unknown[],
      scope: Scope,
      run: Run,
      at: string,
    ): MaybePromise<unknown[]> => {
      for (let index = start; index < list.length; index++) {
        const itemScope = { current: list[index], root: scope.root };
        const keep = where ? where.evaluate(itemScope.current, { root: scope.root }) : true;
        const mapOne = (holds: unknown): MaybePromise<void> => {
          if (!isTruthy(holds)) return;
          const item = applyFields(fields, itemScope, run, `${at}/${output.length}`);
          if (item instanceof Promise) {
            const slot = output.length;
            output.push(undefined);
            return item.then((mapped) => {
              output[slot] = mapped;
            });
          }
          output.push(item);
        };
        const done = keep instanceof Promise ? keep.then(mapOne) : mapOne(keep);
        if (done instanceof Promise)
          return done.then(() => mapItems(list, index + 1, output, scope, run, at));
      }
      return output;
    };
    return (scope, run, at) => {
      const list = items.read(items.fromRoot ? scope.root : scope.current);
      if (list === undefined || list === null) {
        if (required) throw new FieldMappingFailure('required', `is required but ${items.text} is missing`);
        return OMIT;
      }
      if (!Array.isArray(list))
        throw new FieldMappingFailure('not-an-array', `${items.text} is not an array`);
      if (list.length > maxItems) {
        throw new FieldMappingFailure(
          'too-many-items',
          `${items.text} has ${list.length} items, more than ${maxItems}`,
        );
      }
      return mapItems(list, 0, [], scope, run, at);
    };
  }

  #steps(spec: MappingFileField, pointer: string, atRoot: boolean) {
    const steps: Step[] = [];
    if (spec.map) steps.push(this.#mapStep(spec.map, `${pointer}/map`));
    if (spec.unit) {
      const unit = spec.unit;
      const table: UnitFactorTable = this.#attempt(`${pointer}/unit/table`, () =>
        this.#lookups.unitFactors(unit.table),
      );
      if (!table.has(unit.toUnit))
        this.fail(`${pointer}/unit/toUnit`, `"${unit.toUnit}" is not a unit of table ${unit.table}`);
      if (unit.fromUnit !== undefined && !table.has(unit.fromUnit)) {
        this.fail(`${pointer}/unit/fromUnit`, `"${unit.fromUnit}" is not a unit of table ${unit.table}`);
      }
      const fromPath =
        unit.fromPath === undefined
          ? undefined
          : this.#path(unit.fromPath, `${pointer}/unit/fromPath`, atRoot);
      steps.push((value, scope) => {
        const fromUnit = fromPath
          ? fromPath.read(fromPath.fromRoot ? scope.root : scope.current)
          : unit.fromUnit;
        const factor = table.factor(String(fromUnit), unit.toUnit);
        if (isMissing(fromUnit) || !factor) {
          throw new FieldMappingFailure(
            'unknown-unit',
            `unit ${shown(fromUnit)} is not in unit table ${unit.table}`,
          );
        }
        return toDecimal(value).times(factor);
      });
    }
    if (spec.number) {
      const scale = spec.number.scale;
      const rounding = (spec.number.rounding ?? 'reject') as Rounding;
      steps.push((value) =>
        scale === undefined ? toDecimal(value) : roundDecimal(toDecimal(value), scale, rounding),
      );
    }
    if (spec.money) {
      const money = spec.money;
      const currencyPath =
        money.currencyPath === undefined
          ? undefined
          : this.#path(money.currencyPath, `${pointer}/money/currencyPath`, atRoot);
      const rounding = (money.rounding ?? 'reject') as Rounding;
      steps.push((value, scope) => {
        const currency = currencyPath
          ? currencyPath.read(currencyPath.fromRoot ? scope.root : scope.current)
          : money.currency;
        return money.to === 'minor'
          ? decimalToMinor(value, currency, rounding)
          : minorToDecimal(value, currency);
      });
    }
    if (spec.date) {
      const conversion = spec.date as DateConversion;
      this.#attempt(`${pointer}/date`, () => checkDateConversion(conversion));
      steps.push((value) => convertDate(value, conversion));
    }
    if (spec.link) {
      const { entity, to } = spec.link;
      const missing = spec.link.missing ?? 'error';
      steps.push(async (value, _scope, run) => {
        const id = String(value);
        const linked = run.links
          ? to === 'external'
            ? await run.links.toExternal(entity, id)
            : await run.links.toCanonical(entity, id)
          : undefined;
        if (linked !== undefined) return linked;
        if (missing === 'null') return null;
        if (missing === 'omit') return OMIT;
        throw new FieldMappingFailure(
          'unlinked',
          run.links
            ? `${entity} ${shown(id)} has no ${to} link`
            : `${entity} ${shown(id)}: no link resolver was given`,
        );
      });
    }
    if (spec.type) {
      const type = spec.type as ValueType;
      steps.push((value) => (value === null ? null : castValue(value, type)));
    }
    return steps;
  }

  #mapStep(map: NonNullable<MappingFileField['map']>, pointer: string) {
    const unknown = map.unknown ?? 'error';
    const fallback: unknown = map.default;
    let translate: (value: unknown) => unknown;
    let where: string;
    if (map.values) {
      const values = new Map(Object.entries(map.values));
      translate = (value) => values.get(String(value));
      where = 'the inline values';
    } else {
      const table: CodeTable = this.#attempt(`${pointer}/table`, () =>
        this.#lookups.codeTable(map.table as string),
      );
      for (const column of [map.from, map.to] as string[]) {
        if (!table.hasColumn(column)) this.fail(pointer, `code table ${table.name} has no column ${column}`);
      }
      translate = (value) => table.translate(map.from as string, map.to as string, value);
      where = `code table ${table.name} (column ${map.from})`;
    }
    return (value: unknown) => {
      const translated = translate(value);
      if (translated !== undefined) return translated;
      if (unknown === 'pass-through') return value;
      if (unknown === 'default') return copyOf(fallback);
      throw new FieldMappingFailure('unknown-code', `${shown(value)} is not in ${where}`);
    };
  }
}

type RecordCheck = (value: unknown) => { pointer: string; detail: string }[];

const payloadSchemas = new Map<string, ValidateFunction>();

function newPayloadAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormatsModule.default(ajv);
  return ajv;
}

/** A canonical schema by name, or a JSON Schema file beside the mapping (remote payload shapes). */
function schemaCheck(reference: string, mappingFile: string): RecordCheck {
  if (reference.startsWith('./')) {
    const directory = path.dirname(mappingFile);
    const file = path.resolve(directory, reference);
    if (!file.startsWith(`${directory}${path.sep}`))
      throw new Error(`${reference} is outside the mapping's folder`);
    if (!existsSync(file)) throw new Error(`${reference} does not exist`);
    let validate = payloadSchemas.get(file);
    if (!validate) {
      validate = newPayloadAjv().compile(JSON.parse(readFileSync(file, 'utf8')) as object);
      payloadSchemas.set(file, validate);
    }
    const compiled = validate;
    return (value) => (compiled(value) ? [] : toFieldErrors((compiled.errors ?? []) as ErrorObject[]));
  }
  const validate = validators[schemaId(reference)];
  if (!validate)
    throw new Error(`unknown canonical schema ${reference} (run npm run generate after adding one)`);
  return (value) => (validate(value) ? [] : toFieldErrors((validate.errors ?? []) as ErrorObject[]));
}

/** A mapping file, checked and compiled once; `map` is then applied per record. */
export class CompiledMapping {
  /** `<connector>/<entity>.<direction>`, e.g. kingdee/sales-order.outbound. */
  readonly id: string;
  readonly file: string;
  readonly direction: MappingDirection;
  readonly description: string | undefined;
  /** Column names of array records (e.g. Kingdee FieldKeys), in order. */
  readonly columns: readonly string[] | undefined;
  readonly #fields: readonly CompiledField[];
  readonly #source: RecordCheck | undefined;
  readonly #target: RecordCheck | undefined;

  constructor(
    file: string,
    spec: MappingFile,
    fields: readonly CompiledField[],
    source: RecordCheck | undefined,
    target: RecordCheck | undefined,
  ) {
    this.file = file;
    this.id = `${path.basename(path.dirname(file))}/${path.basename(file, '.yaml')}`;
    this.direction = spec.direction;
    this.description = spec.description;
    this.columns = spec.columns;
    this.#fields = fields;
    this.#source = source;
    this.#target = target;
  }

  /** Maps one record; never throws for a bad record (only for a broken resolver or engine bug). */
  async tryMap(input: unknown, context: MapContext = {}): Promise<MappingResult> {
    const run: Run = { errors: [], links: context.links };
    let current = input;
    if (this.columns) {
      if (!Array.isArray(input) || input.length !== this.columns.length) {
        const got = Array.isArray(input) ? `${input.length} values` : 'no array';
        return {
          ok: false,
          errors: [
            {
              path: '',
              code: 'columns',
              message: `the record must be an array of ${this.columns.length} values (the mapping's columns); got ${got}`,
            },
          ],
        };
      }
      const row: Record<string, unknown> = {};
      this.columns.forEach((column, index) => {
        row[column] = input[index];
      });
      current = row;
    }
    if (this.#source) {
      const problems = this.#source(current);
      if (problems.length > 0) {
        return {
          ok: false,
          errors: problems.map((problem) => ({
            path: problem.pointer,
            code: 'source-schema',
            message: problem.detail,
          })),
        };
      }
    }
    const value = await applyFields(this.#fields, { current, root: current }, run, '');
    if (run.errors.length > 0) return { ok: false, errors: run.errors };
    const problems = this.#target?.(value) ?? [];
    if (problems.length > 0) {
      return {
        ok: false,
        errors: problems.map((problem) => ({
          path: problem.pointer,
          code: 'target-schema',
          message: problem.detail,
        })),
        unvalidated: value,
      };
    }
    return { ok: true, value };
  }

  /** The mapped record, or a rejected `MappingError` listing every problem; never a half-built record. */
  async map(input: unknown, context: MapContext = {}): Promise<unknown> {
    const result = await this.tryMap(input, context);
    if (!result.ok) throw new MappingError(this.id, result.errors);
    return result.value;
  }
}

const FILE_NAME = /^([a-z0-9]+(?:-[a-z0-9]+)*)\.(inbound|outbound)\.yaml$/;

/**
 * Reads, checks (meta-schema, lookups, expressions, schemas) and compiles one mapping file.
 * Throws `MappingFileError` naming the file, the line and the problem.
 */
export function loadMapping(file: string, options: MappingOptions = {}): CompiledMapping {
  const absolute = path.resolve(file);
  const name = FILE_NAME.exec(path.basename(absolute));
  if (!name) {
    throw new MappingFileError([
      { file: absolute, pointer: '', message: 'a mapping file is named <entity>.<inbound|outbound>.yaml' },
    ]);
  }
  const yaml = readYamlFile(absolute);
  const metaSchema = validators[schemaId('meta/mapping-file')];
  if (!metaSchema) throw new Error('meta/mapping-file schema missing: run npm run generate');
  checkAgainstMetaSchema(yaml, metaSchema);
  const spec = yaml.data as MappingFile;
  if (spec.direction !== name[2]) {
    throw new MappingFileError([
      yaml.problem('/direction', `the file name says ${name[2]}, the file says ${spec.direction}`),
    ]);
  }
  const columns = spec.columns ? new Set(spec.columns) : undefined;
  const unsafeColumn = spec.columns?.find((column) => UNSAFE_KEYS.has(column));
  if (unsafeColumn)
    throw new MappingFileError([yaml.problem('/columns', `"${unsafeColumn}" cannot be a column name`)]);
  const lookups = new LookupDirectory(
    options.lookupsDirectory ?? path.join(path.dirname(path.dirname(absolute)), 'lookups'),
  );
  const limits = { ...DEFAULT_EXPRESSION_LIMITS, ...options.expressionLimits };
  const compiler = new FieldCompiler(yaml, lookups, limits, columns);
  const fields = compiler.compileFields(spec.fields, '/fields', 1, true);
  const check = (pointer: string, reference: string | undefined) => {
    if (reference === undefined) return undefined;
    try {
      return schemaCheck(reference, absolute);
    } catch (error) {
      return compiler.fail(pointer, (error as Error).message);
    }
  };
  return new CompiledMapping(
    absolute,
    spec,
    fields,
    check('/source', spec.source),
    check('/target', spec.target),
  );
}
