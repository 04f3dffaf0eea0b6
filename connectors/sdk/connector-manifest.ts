import { readFileSync } from 'node:fs';
import { toFieldErrors } from '../../core/platform/validation/schema-validator.ts';
import type { ConnectorManifest } from '../../schemas/generated/types.ts';
import { validators } from '../../schemas/generated/validators.js';
import type { JsonSchema } from '../../schemas/index.ts';

export type { ConnectorManifest };

const MANIFEST_SCHEMA_ID = 'https://hub.local/schemas/meta/connector-manifest';

/** The field errors of a manifest against `schemas/meta/connector-manifest` (empty when valid). */
export function manifestErrors(manifest: unknown): { pointer: string; detail: string }[] {
  const validate = validators[MANIFEST_SCHEMA_ID];
  if (!validate) throw new Error('schemas/generated is stale: run `npm run generate`');
  return validate(manifest) ? [] : toFieldErrors(validate.errors ?? []);
}

function readJsonFile(url: URL): unknown {
  return JSON.parse(readFileSync(url, 'utf8'));
}

/**
 * Reads and validates a connector's `manifest.json` (at start-up, once): a connector with an
 * invalid manifest must not start.
 */
export function loadManifest(url: URL): ConnectorManifest {
  const manifest = readJsonFile(url);
  const errors = manifestErrors(manifest);
  if (errors.length > 0) {
    throw new Error(`${url.pathname} is not a valid connector manifest: ${JSON.stringify(errors)}`);
  }
  return manifest as ConnectorManifest;
}

/** Reads a connector's `config.schema.json`. */
export function loadConfigSchema(url: URL): JsonSchema {
  return readJsonFile(url) as JsonSchema;
}

export function manifestStream(manifest: ConnectorManifest, name: string) {
  return manifest.capabilities.streams?.find((stream) => stream.name === name);
}

export function manifestOperation(manifest: ConnectorManifest, name: string) {
  return manifest.capabilities.operations?.find((operation) => operation.name === name);
}
