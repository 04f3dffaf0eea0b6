import { readFileSync, statSync } from 'node:fs';
import { InMemoryLinkResolver, type LinkTable } from '../platform/mapping/link-resolver.ts';
import { loadMapping } from '../platform/mapping/mapping-engine.ts';
import { MappingFileError } from '../platform/mapping/mapping-error.ts';

/** A test record is typed or exported by a person; anything larger is not a test record. */
const MAX_INPUT_BYTES = 10 * 1024 * 1024;

export interface MappingTestOptions {
  links?: string;
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

function readJson(file: string, what: string): unknown {
  if (statSync(file).size > MAX_INPUT_BYTES)
    throw new Error(`${what} ${file} is larger than ${MAX_INPUT_BYTES} bytes`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${what} ${file} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * `hub mapping test <file> <input.json>`: maps one record and prints the result as JSON on stdout,
 * and the errors (mapping errors, or the target schema's) on stderr. Exit code 0 when the record
 * maps and validates, 1 when it does not, 2 when the mapping file or the input cannot be read.
 * A record that mapped but fails its target schema is still printed, to compare with the schema.
 */
export async function runMappingTest(
  mappingFile: string,
  inputFile: string,
  options: MappingTestOptions,
  output: Output,
): Promise<number> {
  let result: Awaited<ReturnType<ReturnType<typeof loadMapping>['tryMap']>>;
  try {
    const mapping = loadMapping(mappingFile);
    const input = readJson(inputFile, 'input');
    const links = new InMemoryLinkResolver(
      options.links ? (readJson(options.links, 'links') as LinkTable) : {},
    );
    result = await mapping.tryMap(input, { links });
  } catch (error) {
    if (error instanceof MappingFileError) output.err(`hub: mapping file rejected:\n${error.message}\n`);
    else output.err(`hub: ${(error as Error).message}\n`);
    return 2;
  }
  const mapped = result.ok ? result.value : result.unvalidated;
  if (mapped !== undefined) output.out(`${JSON.stringify(mapped, null, 2)}\n`);
  if (result.ok) return 0;
  const width = Math.max(...result.errors.map((error) => (error.path || '/').length));
  output.err(
    `${result.errors.length} error${result.errors.length === 1 ? '' : 's'}:\n${result.errors
      .map((error) => `  ${(error.path || '/').padEnd(width)}  ${error.code}: ${error.message}`)
      .join('\n')}\n`,
  );
  return 1;
}
