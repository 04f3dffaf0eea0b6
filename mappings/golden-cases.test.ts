import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  discoverGoldenCases,
  discoverMappingFiles,
  type ExpectedMappingError,
  goldenCaseLinks,
  readJsonFile,
} from '../core/platform/mapping/golden-cases.ts';
import { InMemoryLinkResolver } from '../core/platform/mapping/link-resolver.ts';
import { loadMapping } from '../core/platform/mapping/mapping-engine.ts';

/**
 * Every mapping file under mappings/ and every golden case beside it: adding a case (an input and
 * its expected output or errors) adds a test, with no code.
 */
const root = path.dirname(fileURLToPath(import.meta.url));
const mappingFiles = discoverMappingFiles(root);

test('the mappings folder has mapping files', () => {
  expect(mappingFiles.length).toBeGreaterThanOrEqual(7);
});

describe.each(mappingFiles.map((file) => [path.relative(root, file), file]))('%s', (_name, file) => {
  const cases = discoverGoldenCases(file);
  const links = new InMemoryLinkResolver(goldenCaseLinks(file));

  test('has golden cases, each with either an expected output or expected errors', () => {
    expect(cases.some((goldenCase) => goldenCase.expectedFile)).toBe(true);
    for (const goldenCase of cases) {
      expect([goldenCase.name, Boolean(goldenCase.expectedFile) !== Boolean(goldenCase.errorsFile)]).toEqual([
        goldenCase.name,
        true,
      ]);
    }
  });

  test.each(cases.map((goldenCase) => [goldenCase.name, goldenCase]))(
    'case %s',
    async (_caseName, goldenCase) => {
      const mapping = loadMapping(file);
      const result = await mapping.tryMap(readJsonFile(goldenCase.inputFile), { links });
      if (goldenCase.expectedFile) {
        expect(result).toEqual({ ok: true, value: readJsonFile(goldenCase.expectedFile) });
      } else {
        const expected = readJsonFile<ExpectedMappingError[]>(goldenCase.errorsFile as string);
        expect(result.ok).toBe(false);
        const errors = result.ok ? [] : result.errors;
        expect(
          errors.map((error, index) =>
            expected[index]?.message === undefined ? { path: error.path, code: error.code } : error,
          ),
        ).toEqual(expected);
      }
    },
  );
});
