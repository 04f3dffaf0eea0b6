/**
 * Why a record could not be mapped. Every entry names the target field at fault as a JSON Pointer
 * into the mapped record (`/FSaleOrderEntry/2/FUnitID/FNumber`), except `source-schema` entries,
 * which point into the input record.
 */
export type MappingErrorCode =
  | 'required'
  | 'unknown-code'
  | 'unknown-unit'
  | 'unlinked'
  | 'invalid-number'
  | 'precision-loss'
  | 'out-of-range'
  | 'invalid-currency'
  | 'invalid-date'
  | 'invalid-type'
  | 'not-an-array'
  | 'too-many-items'
  | 'columns'
  | 'expression'
  | 'expression-timeout'
  | 'expression-depth'
  | 'source-schema'
  | 'target-schema';

export interface MappingErrorEntry {
  path: string;
  code: MappingErrorCode;
  message: string;
}

/** Enough to fix a mapping or a record; a flood of errors from one bad record helps nobody. */
export const MAX_MAPPING_ERRORS = 50;

/** A record that did not map: nothing of it is returned, only what is wrong and where. */
export class MappingError extends Error {
  readonly entries: readonly MappingErrorEntry[];
  readonly mapping: string;

  constructor(mapping: string, entries: readonly MappingErrorEntry[]) {
    const shown = entries
      .slice(0, 3)
      .map((entry) => `${entry.path || '/'} ${entry.code}: ${entry.message}`)
      .join('; ');
    const more = entries.length > 3 ? ` (and ${entries.length - 3} more)` : '';
    super(`${mapping}: ${entries.length} mapping error${entries.length === 1 ? '' : 's'}: ${shown}${more}`);
    this.name = 'MappingError';
    this.mapping = mapping;
    this.entries = entries;
  }
}

/** A mapping file (or a lookup it names) that cannot be loaded; each problem carries its place. */
export interface MappingFileProblem {
  file: string;
  /** 1-based line and column of the offending YAML node, when the node exists. */
  line?: number;
  column?: number;
  /** JSON Pointer into the file's document. */
  pointer: string;
  message: string;
}

export class MappingFileError extends Error {
  readonly problems: readonly MappingFileProblem[];

  constructor(problems: readonly MappingFileProblem[]) {
    super(
      problems
        .map((problem) => {
          const place = problem.line
            ? `${problem.file}:${problem.line}:${problem.column ?? 1}`
            : problem.file;
          return `${place}: ${problem.pointer || '/'}: ${problem.message}`;
        })
        .join('\n'),
    );
    this.name = 'MappingFileError';
    this.problems = problems;
  }
}

/** Thrown by one step of one field; caught by the engine and recorded with the field's pointer. */
export class FieldMappingFailure extends Error {
  readonly code: MappingErrorCode;

  constructor(code: MappingErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A value in an error message: short, and never a whole nested record. */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
