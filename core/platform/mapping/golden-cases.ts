import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LinkTable } from './link-resolver.ts';
import type { MappingErrorEntry } from './mapping-error.ts';

/**
 * Golden cases of mapping files, as data beside each mapping:
 *
 *   <entity>.<direction>.cases/<name>.input.json      the record to map
 *   <entity>.<direction>.cases/<name>.expected.json   the mapped record, exactly
 *   <entity>.<direction>.cases/<name>.errors.json     or the errors, [{ path, code, message? }]
 *   <entity>.<direction>.cases/links.json             links the cases may resolve (optional)
 */
export interface GoldenCase {
  name: string;
  inputFile: string;
  expectedFile: string | undefined;
  errorsFile: string | undefined;
}

export interface ExpectedMappingError {
  path: string;
  code: MappingErrorEntry['code'];
  message?: string;
}

const MAPPING_FILE = /^[a-z0-9]+(?:-[a-z0-9]+)*\.(?:inbound|outbound)\.yaml$/;

/** Every mapping file under `root` (mappings/<connector>/<entity>.<direction>.yaml), sorted. */
export function discoverMappingFiles(root: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'lookups') continue;
    for (const file of readdirSync(path.join(root, entry.name))) {
      if (MAPPING_FILE.test(file)) files.push(path.join(root, entry.name, file));
    }
  }
  return files.sort();
}

export function casesDirectory(mappingFile: string): string {
  return mappingFile.replace(/\.yaml$/, '.cases');
}

export function discoverGoldenCases(mappingFile: string): GoldenCase[] {
  const directory = casesDirectory(mappingFile);
  if (!existsSync(directory)) return [];
  const files = new Set(readdirSync(directory));
  return [...files]
    .filter((file) => file.endsWith('.input.json'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.input.json'.length);
      const expected = `${name}.expected.json`;
      const errors = `${name}.errors.json`;
      return {
        name,
        inputFile: path.join(directory, file),
        expectedFile: files.has(expected) ? path.join(directory, expected) : undefined,
        errorsFile: files.has(errors) ? path.join(directory, errors) : undefined,
      };
    });
}

export function readJsonFile<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** The links of a mapping's cases (links.json beside them), empty when there is none. */
export function goldenCaseLinks(mappingFile: string): LinkTable {
  const file = path.join(casesDirectory(mappingFile), 'links.json');
  return existsSync(file) ? readJsonFile<LinkTable>(file) : {};
}
