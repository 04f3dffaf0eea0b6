import { describe, expect, it } from '@jest/globals';
import { pickCompleteFiles, type RemoteEntry } from './completion-conventions.ts';

const entry = (name: string, size = 10, modifiedAt = 1_000): RemoteEntry => ({ name, size, modifiedAt });
const names = (result: { complete: Array<{ name: string }> }) => result.complete.map((file) => file.name);

describe('completion conventions', () => {
  it('rename: every temp suffix and hidden file is skipped, others come in name order; custom suffixes replace the defaults', () => {
    const listing = [
      'B.csv',
      'A.csv',
      'C.csv.tmp',
      'D.csv.part',
      'E.csv.filepart',
      'F.csv.incomplete',
      '.G.csv',
    ].map((n) => entry(n));
    expect(names(pickCompleteFiles(listing, { kind: 'rename' }))).toEqual(['A.csv', 'B.csv']);
    expect(
      names(
        pickCompleteFiles([entry('A.csv'), entry('B.csv.uploading')], {
          kind: 'rename',
          tempSuffixes: ['.uploading'],
        }),
      ),
    ).toEqual(['A.csv']);
  });

  it('marker: a file needs its own marker; markers and orphan markers are never data', () => {
    const listing = [
      'A.csv',
      'A.csv.done',
      'B.csv',
      'C.csv.ok',
      'C.csv',
      'D.csv.done',
      'E.csv.tmp',
      'E.csv.tmp.done',
    ].map((n) => entry(n));
    const result = pickCompleteFiles(listing, { kind: 'marker' });
    expect(result.complete.map((file) => [file.name, file.marker])).toEqual([
      ['A.csv', 'A.csv.done'],
      ['C.csv', 'C.csv.ok'],
    ]);
  });

  it('stable-size: complete only when size and time equal the previous poll; a change starts over', () => {
    const first = pickCompleteFiles([entry('A.csv', 10, 1), entry('B.csv', 5, 1)], { kind: 'stable-size' });
    expect(names(first)).toEqual([]);
    const second = pickCompleteFiles(
      [entry('A.csv', 10, 1), entry('B.csv', 7, 2)],
      { kind: 'stable-size' },
      first.observation,
    );
    expect(names(second)).toEqual(['A.csv']);
    const touched = pickCompleteFiles([entry('B.csv', 7, 3)], { kind: 'stable-size' }, second.observation);
    expect(names(touched)).toEqual([]); // same size, newer time: still being written
    expect(touched.observation).toEqual({ 'B.csv': { size: 7, modifiedAt: 3 } }); // files gone are forgotten
  });
});
