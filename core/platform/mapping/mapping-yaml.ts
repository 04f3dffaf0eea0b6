import { readFileSync, statSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { CanonicalValidator } from '../../../schemas/generated/validators.js';
import { toFieldErrors } from '../validation/schema-validator.ts';
import { MappingFileError, type MappingFileProblem } from './mapping-error.ts';

/** Mapping files and lookups are written by people; anything larger is a mistake or an attack. */
export const MAX_MAPPING_FILE_BYTES = 1024 * 1024;

/**
 * A parsed YAML file that can say where a JSON Pointer of its document is written, so load-time
 * errors name the line an engineer must fix.
 */
export interface LocatedYaml {
  file: string;
  data: unknown;
  problem(pointer: string, message: string): MappingFileProblem;
}

function unescapeToken(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

export function readYamlFile(file: string): LocatedYaml {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new MappingFileError([{ file, pointer: '', message: `cannot read: ${(error as Error).message}` }]);
  }
  if (size > MAX_MAPPING_FILE_BYTES) {
    throw new MappingFileError([
      { file, pointer: '', message: `larger than ${MAX_MAPPING_FILE_BYTES} bytes` },
    ]);
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(readFileSync(file, 'utf8'), {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
  });
  if (document.errors.length > 0) {
    throw new MappingFileError(
      document.errors.slice(0, 10).map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        return {
          file,
          line: position.line,
          column: position.col,
          pointer: '',
          message: error.message.split('\n')[0] ?? '',
        };
      }),
    );
  }
  // Aliases are YAML's billion-laughs vector; a mapping has no use for many.
  const data: unknown = document.toJS({ maxAliasCount: 50 });
  return {
    file,
    data,
    problem(pointer, message) {
      const tokens = pointer === '' ? [] : pointer.slice(1).split('/').map(unescapeToken);
      const keys = tokens.map((token) => (/^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : token));
      const at = (offset: number): MappingFileProblem => {
        const position = lineCounter.linePos(offset);
        return { file, line: position.line, column: position.col, pointer, message };
      };
      // A property is reported at its key (where the name is written), not at its value.
      const parent = keys.length === 0 ? undefined : document.getIn(keys.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find(
          (item) => isScalar(item.key) && item.key.value === keys[keys.length - 1],
        );
        if (pair && isScalar(pair.key) && pair.key.range) return at(pair.key.range[0]);
      }
      // Else the deepest node that exists: a missing property is reported at its parent.
      for (let length = keys.length; length >= 0; length--) {
        const node = length === 0 ? document.contents : document.getIn(keys.slice(0, length), true);
        if (isNode(node) && node.range) return at(node.range[0]);
      }
      return { file, pointer, message };
    },
  };
}

/** Checks a YAML file's document against its meta-schema; throws every problem with its line. */
export function checkAgainstMetaSchema(yaml: LocatedYaml, validate: CanonicalValidator): void {
  if (validate(yaml.data)) return;
  const errors = (validate.errors ?? []) as ErrorObject[];
  throw new MappingFileError(toFieldErrors(errors).map((error) => yaml.problem(error.pointer, error.detail)));
}
