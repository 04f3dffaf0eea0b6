import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CompiledMapping,
  loadMapping,
  type MappingDirection,
  type MappingOptions,
} from './mapping-engine.ts';
import { MappingFileError } from './mapping-error.ts';

/** The repository's mappings/ folder (also in the image: the Dockerfile copies it). */
export const DEFAULT_MAPPINGS_DIRECTORY = fileURLToPath(new URL('../../../mappings/', import.meta.url));

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * The mappings of one folder by system, entity and direction, each loaded and compiled on first
 * use and kept: what a connector or the sync engine holds instead of file paths.
 *
 *   const toKingdee = library.get('kingdee', 'sales-order', 'outbound');
 *   const model = await toKingdee.map(order, { links });
 */
export class MappingLibrary {
  readonly directory: string;
  readonly #options: MappingOptions;
  readonly #loaded = new Map<string, CompiledMapping>();

  constructor(directory: string = DEFAULT_MAPPINGS_DIRECTORY, options: MappingOptions = {}) {
    this.directory = path.resolve(directory);
    this.#options = options;
  }

  #file(system: string, entity: string, direction: MappingDirection): string {
    // Names become file paths: only slugs, so no name can leave the folder.
    if (!NAME.test(system) || !NAME.test(entity) || (direction !== 'inbound' && direction !== 'outbound')) {
      throw new Error(`no mapping can be named ${system}/${entity}.${direction}`);
    }
    return path.join(this.directory, system, `${entity}.${direction}.yaml`);
  }

  has(system: string, entity: string, direction: MappingDirection): boolean {
    return existsSync(this.#file(system, entity, direction));
  }

  /** Throws `MappingFileError` when the file is missing or broken. */
  get(system: string, entity: string, direction: MappingDirection): CompiledMapping {
    const file = this.#file(system, entity, direction);
    let mapping = this.#loaded.get(file);
    if (!mapping) {
      if (!existsSync(file)) {
        throw new MappingFileError([
          { file, pointer: '', message: `there is no ${direction} ${entity} mapping for ${system}` },
        ]);
      }
      mapping = loadMapping(file, this.#options);
      this.#loaded.set(file, mapping);
    }
    return mapping;
  }
}
