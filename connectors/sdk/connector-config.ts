import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FieldError } from '../../core/platform/errors/hub-errors.ts';
import { toFieldErrors } from '../../core/platform/validation/schema-validator.ts';
import type { JsonSchema } from '../../schemas/index.ts';
import { NotConnectedError } from './connector-errors.ts';

/**
 * A connector's `config.schema.json`: one JSON Schema (draft 2020-12) object describing the
 * connection settings, flat (one level of properties). Fields marked `"x-secret": true` are
 * credentials: the platform stores them encrypted, never returns them, and hands them to the
 * connector separately from the plain configuration.
 */
export const SECRET_KEYWORD = 'x-secret';

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: false, useDefaults: true });
  ajv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: 'boolean' });
  addFormatsModule.default(ajv);
  return ajv;
}

function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> {
  const properties = schema.properties;
  if (schema.type !== 'object' || typeof properties !== 'object' || properties === null) {
    throw new Error('A connector config schema must be an object schema with properties');
  }
  return properties as Record<string, JsonSchema>;
}

/** Names of the credential fields (`"x-secret": true`). */
export function secretFieldNames(schema: JsonSchema): string[] {
  return Object.entries(propertiesOf(schema))
    .filter(([, property]) => property[SECRET_KEYWORD] === true)
    .map(([name]) => name);
}

/** Compiles a connector's config schema; throws if it is not a valid strict schema. */
export function compileConfigSchema(schema: JsonSchema): ConnectionSettingsValidator {
  propertiesOf(schema);
  const validate = newAjv().compile(schema);
  return new ConnectionSettingsValidator(schema, validate);
}

export class ConnectionSettingsValidator {
  readonly secretFields: readonly string[];
  private readonly schema: JsonSchema;
  private readonly validateFunction: ValidateFunction;

  constructor(schema: JsonSchema, validateFunction: ValidateFunction) {
    this.schema = schema;
    this.validateFunction = validateFunction;
    this.secretFields = secretFieldNames(schema);
  }

  /** Field errors of config and credentials together (defaults filled in place); never values. */
  errors(config: Record<string, unknown>, credentials: Record<string, unknown>): FieldError[] {
    const settings = { ...config, ...credentials };
    const valid = this.validateFunction(settings);
    if (valid) {
      Object.assign(config, this.pick(settings, false));
      return [];
    }
    return toFieldErrors(this.validateFunction.errors ?? []);
  }

  /**
   * Checks config and credentials; a credential in `config` or a plain field in `credentials` is
   * refused too, so a secret never travels or gets stored as plain configuration.
   */
  assertValid(config: Record<string, unknown>, credentials: Record<string, unknown>): void {
    const misplacedSecret = Object.keys(config).find((name) => this.secretFields.includes(name));
    if (misplacedSecret)
      throw new NotConnectedError(`"${misplacedSecret}" is a credential, not configuration`);
    const misplacedPlain = Object.keys(credentials).find((name) => !this.secretFields.includes(name));
    if (misplacedPlain) throw new NotConnectedError(`"${misplacedPlain}" is configuration, not a credential`);
    const errors = this.errors(config, credentials);
    if (errors.length > 0) {
      const where = errors.map((error) => `${error.pointer} ${error.detail}`).join('; ');
      // Wrong settings cannot be fixed by retrying: the connection must be edited.
      throw new NotConnectedError(`The connection settings are invalid: ${where}`);
    }
  }

  /** Splits one settings object (as a form sends it) into plain config and credentials. */
  split(settings: Record<string, unknown>): {
    config: Record<string, unknown>;
    credentials: Record<string, unknown>;
  } {
    return { config: this.pick(settings, false), credentials: this.pick(settings, true) };
  }

  /** The settings with every credential replaced by `"********"` (for logs, answers, exports). */
  redact(settings: Record<string, unknown>): Record<string, unknown> {
    const redacted = { ...settings };
    for (const name of this.secretFields) if (name in redacted) redacted[name] = '********';
    return redacted;
  }

  get jsonSchema(): JsonSchema {
    return this.schema;
  }

  private pick(settings: Record<string, unknown>, secret: boolean): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(settings).filter(([name]) => this.secretFields.includes(name) === secret),
    );
  }
}
