import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ConnectorManifest } from '../../schemas/generated/types.ts';
import type { JsonSchema } from '../../schemas/index.ts';
import type { FieldError } from '../platform/errors/hub-errors.ts';
import { toFieldErrors } from '../platform/validation/schema-validator.ts';

/**
 * What integration knows of an installed connector: its manifest and its config JSON Schema
 * (credential fields marked `"x-secret": true`). The composition root (`core/hub-modules.ts`)
 * hands them in; the connector itself runs as its own Moleculer service (`connectors.<id>`).
 */
export interface InstalledConnector {
  manifest: ConnectorManifest;
  configSchema: JsonSchema;
}

/**
 * The webhook signature check a connector declares: the request headers it reads (lower-case)
 * and a check of the raw body, the headers and the connection's decrypted credentials that
 * answers the sender's event id when the signature holds, `undefined` when it does not.
 */
export interface WebhookVerifier {
  headers: readonly string[];
  verify(request: {
    body: Buffer;
    headers: Record<string, string | undefined>;
    credentials: Record<string, unknown>;
    config: Record<string, unknown>;
  }): string | undefined;
}

const SECRET_KEYWORD = 'x-secret';

export class ConnectorEntry {
  readonly manifest: ConnectorManifest;
  readonly secretFields: readonly string[];
  readonly #validate: ValidateFunction;

  constructor(connector: InstalledConnector) {
    this.manifest = connector.manifest;
    const properties = connector.configSchema.properties as Record<string, JsonSchema> | undefined;
    if (!properties) throw new Error(`${connector.manifest.id}: the config schema has no properties`);
    this.secretFields = Object.entries(properties)
      .filter(([, property]) => property[SECRET_KEYWORD] === true)
      .map(([name]) => name);
    const ajv = new Ajv2020({ strict: true, allErrors: true, useDefaults: true });
    ajv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: 'boolean' });
    addFormatsModule.default(ajv);
    this.#validate = ajv.compile(connector.configSchema);
  }

  /**
   * Field errors of config and credentials checked together (never values). A credential sent
   * as config or a plain field sent as a credential is an error too: a secret is never stored in
   * the clear. Defaults of the schema are filled into `config`.
   */
  errors(config: Record<string, unknown>, credentials: Record<string, unknown>): FieldError[] {
    const misplaced: FieldError[] = [
      ...Object.keys(config)
        .filter((name) => this.secretFields.includes(name))
        .map((name) => ({ pointer: `/config/${name}`, detail: 'is a credential: send it in credentials' })),
      ...Object.keys(credentials)
        .filter((name) => !this.secretFields.includes(name))
        .map((name) => ({ pointer: `/credentials/${name}`, detail: 'is not a credential field' })),
    ];
    if (misplaced.length > 0) return misplaced;
    const settings = { ...config, ...credentials };
    if (this.#validate(settings)) {
      for (const [name, value] of Object.entries(settings)) {
        if (!this.secretFields.includes(name)) config[name] = value;
      }
      return [];
    }
    return toFieldErrors(this.#validate.errors ?? []).map((error) => {
      const field = error.pointer.split('/')[1] ?? '';
      const side = this.secretFields.includes(field) ? 'credentials' : 'config';
      // Values never appear in the answer: ajv's messages name constraints, not the input.
      return { ...error, pointer: `/${side}${error.pointer}` };
    });
  }
}

/** Installed connectors by id. */
export class ConnectorRegistry {
  readonly #entries = new Map<string, ConnectorEntry>();
  readonly #verifiers = new Map<string, WebhookVerifier>();

  constructor(connectors: readonly InstalledConnector[], verifiers: Record<string, WebhookVerifier> = {}) {
    for (const connector of connectors)
      this.#entries.set(connector.manifest.id, new ConnectorEntry(connector));
    for (const [id, verifier] of Object.entries(verifiers)) this.#verifiers.set(id, verifier);
  }

  get(connectorId: string): ConnectorEntry | undefined {
    return this.#entries.get(connectorId);
  }

  verifier(connectorId: string): WebhookVerifier | undefined {
    return this.#verifiers.get(connectorId);
  }

  /** Every header some installed verifier reads (the webhook route forwards these). */
  webhookHeaders(): string[] {
    return [...new Set([...this.#verifiers.values()].flatMap((verifier) => verifier.headers))].sort();
  }

  ids(): string[] {
    return [...this.#entries.keys()];
  }
}
