import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  type CompiledMapping,
  loadMapping,
  type MappingDirection,
} from '../platform/mapping/mapping-engine.ts';
import { MappingFileError } from '../platform/mapping/mapping-error.ts';
import { DEFAULT_MAPPINGS_DIRECTORY } from '../platform/mapping/mapping-library.ts';

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export interface CurrentMapping {
  mapping: CompiledMapping;
  /** `<connector>/<name>.<direction>@<sha256 of the file, 12 hex>`: kept with failed items. */
  version: string;
}

/**
 * Mappings as the files are now: compiled once per file content, so a fixed mapping file is used
 * by the next job (a replay after a fix) without restarting the hub.
 */
export class MappingFiles {
  readonly #directory: string;
  readonly #compiled = new Map<string, { mtimeMs: number; size: number; current: CurrentMapping }>();

  constructor(directory: string = DEFAULT_MAPPINGS_DIRECTORY) {
    this.#directory = path.resolve(directory);
  }

  current(connectorId: string, name: string, direction: MappingDirection): CurrentMapping {
    if (!NAME.test(connectorId) || !NAME.test(name)) {
      throw new MappingFileError([
        { file: name, pointer: '', message: `no mapping can be named ${connectorId}/${name}` },
      ]);
    }
    const file = path.join(this.#directory, connectorId, `${name}.${direction}.yaml`);
    let stat: { mtimeMs: number; size: number };
    try {
      stat = statSync(file);
    } catch {
      throw new MappingFileError([
        { file, pointer: '', message: `there is no ${direction} ${name} mapping for ${connectorId}` },
      ]);
    }
    const cached = this.#compiled.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.current;
    const hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
    const current = { mapping: loadMapping(file), version: `${connectorId}/${name}.${direction}@${hash}` };
    this.#compiled.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, current });
    return current;
  }
}
