import type { ErrorObject } from 'ajv';
import moleculer, { type ActionSchema, type Context, type EventSchema, type Middleware } from 'moleculer';
import { type CanonicalValidator, validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import { type FieldError, ValidationFailed } from '../errors/hub-errors.ts';

type CheckerFunction = moleculer.Validators.Base extends { compile(schema: never): infer C } ? C : never;

/** Throws `ValidationFailed` unless `params` matches; may fill in defaults and coerce URL text. */
export type ParamsCheck = (params: unknown) => void;

/** Enough to explain a bad request; a flood of errors helps nobody and costs bandwidth. */
const MAX_FIELD_ERRORS = 20;

/**
 * Actions Moleculer and moleculer-web define themselves, with fastest-validator params; every
 * hub action must reference a canonical schema instead.
 */
const LIBRARY_ACTIONS = new Set(['listAliases', 'addRoute', 'removeRoute']);

function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function quoted(values: unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

/** One ajv error as a JSON Pointer to the field at fault and a sentence that never echoes its value. */
export function toFieldError(error: ErrorObject): FieldError {
  const params = error.params as Record<string, unknown>;
  const at = (property: unknown) => `${error.instancePath}/${escapePointerToken(String(property))}`;
  switch (error.keyword) {
    case 'required':
    case 'dependentRequired':
      return { pointer: at(params.missingProperty), detail: 'is required' };
    case 'additionalProperties':
      return { pointer: at(params.additionalProperty), detail: 'is not an allowed property' };
    case 'unevaluatedProperties':
      return { pointer: at(params.unevaluatedProperty), detail: 'is not an allowed property' };
    case 'enum':
      return {
        pointer: error.instancePath,
        detail: `must be one of ${quoted(params.allowedValues as unknown[])}`,
      };
    case 'const':
      return { pointer: error.instancePath, detail: `must be ${quoted([params.allowedValue])}` };
    case 'format':
      return { pointer: error.instancePath, detail: `must be a valid ${String(params.format)}` };
    default:
      return { pointer: error.instancePath, detail: error.message ?? `fails the ${error.keyword} rule` };
  }
}

export function toFieldErrors(errors: readonly ErrorObject[]): FieldError[] {
  // An `if`/`then` failure is reported twice: the real cause, then "must match then schema".
  const causes = errors.length > 1 ? errors.filter((error) => error.keyword !== 'if') : errors;
  const seen = new Set<string>();
  const fieldErrors: FieldError[] = [];
  for (const error of causes) {
    const fieldError = toFieldError(error);
    const key = `${fieldError.pointer}\n${fieldError.detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fieldErrors.push(fieldError);
    if (fieldErrors.length === MAX_FIELD_ERRORS) break;
  }
  return fieldErrors;
}

function canonicalValidator(ref: string): CanonicalValidator {
  let id: string;
  try {
    id = schemaId(ref);
  } catch {
    id = ref;
  }
  const validate = validators[id];
  if (!validate) {
    throw new Error(
      `unknown canonical schema "${ref}": add schemas/${ref.replace(/^https:\/\/hub\.local\/schemas\//, '')}.schema.json and run npm run generate`,
    );
  }
  return validate;
}

function isCanonicalRef(schema: object): schema is { $ref: string } {
  return Object.keys(schema).length === 1 && typeof (schema as { $ref?: unknown }).$ref === 'string';
}

/** The check of one canonical schema, by id (`https://hub.local/schemas/...`) or short name. */
export function compileParamsCheck(ref: string): ParamsCheck {
  const validate = canonicalValidator(ref);
  return (params) => {
    if (!validate(params)) throw new ValidationFailed(toFieldErrors(validate.errors ?? []));
  };
}

/** fastest-validator errors carry a dotted `field` path; turned into a JSON Pointer. */
function fastestFieldErrors(errors: { field?: string; message?: string; type?: string }[]): FieldError[] {
  return errors.slice(0, MAX_FIELD_ERRORS).map((error) => ({
    pointer: error.field ? `/${error.field.split('.').map(escapePointerToken).join('/')}` : '',
    detail: error.message ?? error.type ?? 'is invalid',
  }));
}

/**
 * The broker's params validator: every action and event declares `params: { $ref: <canonical
 * schema> }` (see schemas/README.md) and is checked by the ajv validator generated from that
 * schema at build time. A mismatch rejects with `ValidationFailed` carrying one JSON Pointer per
 * field at fault, which crosses the NATS mesh intact and becomes problem+json at the gateway.
 *
 * Params are checked in place, as Moleculer's own validator does: defaults are filled in and, for
 * `*-query` schemas only, URL text is coerced (`"20"` → 20), on the object the handler receives.
 */
export class SchemaValidator extends moleculer.Validators.Base {
  readonly #fastest = new moleculer.Validators.Fastest();

  constructor() {
    super({ paramName: 'params' });
  }

  /** Returns a checker that answers `true` or throws `ValidationFailed`; throws at once for a bad `params` declaration. */
  compile(schema: Record<string, unknown>): CheckerFunction {
    if (!isCanonicalRef(schema)) {
      throw new Error(
        `params must be { $ref: "<canonical schema>" }, e.g. schemaRef('api/common/id-params'); got ${JSON.stringify(schema).slice(0, 200)}`,
      );
    }
    const check = compileParamsCheck(schema.$ref);
    return (params) => {
      check(params);
      return true;
    };
  }

  validate(params: Record<string, unknown>, schema: Record<string, unknown>): boolean {
    return this.compile(schema)(params) as boolean;
  }

  /** Canonical schemas have no fastest-validator form; tools that ask get an empty description. */
  convertSchemaToMoleculer(): Record<string, unknown> {
    return {};
  }

  #checkFor(schema: Record<string, unknown>, owner: string, libraryOwned: boolean): ParamsCheck {
    if (libraryOwned && !isCanonicalRef(schema)) {
      const check = this.#fastest.compile(schema) as (
        params: unknown,
      ) => true | { field?: string; message?: string }[];
      return (params) => {
        const result = check(params);
        if (result !== true) throw new ValidationFailed(fastestFieldErrors(result));
      };
    }
    try {
      const check = this.compile(schema);
      return (params) => void check(params as Record<string, unknown>);
    } catch (error) {
      throw new moleculer.Errors.ServiceSchemaError(`${owner}: ${(error as Error).message}`, { schema });
    }
  }

  override middleware(): Middleware {
    const paramName = this.opts.paramName ?? 'params';
    const wrap = <H extends (ctx: Context) => unknown>(
      handler: H,
      schema: unknown,
      owner: string,
      library: boolean,
    ) => {
      if (!schema || typeof schema !== 'object') return handler;
      const check = this.#checkFor(schema as Record<string, unknown>, owner, library);
      return function validateParams(this: unknown, ctx: Context) {
        // Defaults are written into the params object, so the handler must see that same object.
        ctx.params ??= {};
        try {
          check(ctx.params);
        } catch (error) {
          return Promise.reject(error);
        }
        return handler.call(this, ctx);
      } as unknown as H;
    };
    return {
      name: 'Validator',
      localAction(handler, action: ActionSchema & { rawName?: string }) {
        const serviceName = action.service?.name ?? '';
        const library = serviceName.startsWith('$') || LIBRARY_ACTIONS.has(action.rawName ?? '');
        return wrap(handler, action[paramName as 'params'], `action "${action.name}"`, library);
      },
      localEvent(handler, event: EventSchema) {
        const library = (event.service?.name ?? '').startsWith('$');
        return wrap(
          handler as (ctx: Context) => Promise<void>,
          event[paramName as 'params'],
          `event "${event.name}"`,
          library,
        );
      },
    };
  }
}

export function createSchemaValidator(): SchemaValidator {
  return new SchemaValidator();
}
