import { describe, expect, it } from 'vitest';
import { breakdownByCategory } from '../../bench/nab/breakdown.ts';
import type { CorpusFile } from '../../bench/nab/corpus.ts';
import { scoreCorpus } from '../../bench/nab/scorer.ts';

const MINUTE = 60_000;

/** A file of `rows` one-minute rows with windows given as inclusive row ranges. */
function file(name: string, rows: number, windows: Array<[number, number]>): CorpusFile {
  return {
    name,
    timestamps: Array.from({ length: rows }, (_, i) => i * MINUTE),
    values: new Array<number>(rows).fill(0),
    windows: windows.map(([from, to]) => [from * MINUTE, to * MINUTE]),
  };
}

describe('NAB breakdown by category', () => {
  // 200 rows: the first 30 are probationary.
  const files = [file('a/one.csv', 200, [[50, 60], [120, 130]]), file('a/two.csv', 200, [[100, 110]]), file('b/three.csv', 200, [])];
  const scores = files.map(() => new Float64Array(200));
  scores[0]![55] = 0.9; // window 1 of one.csv
  scores[0]![56] = 0.9; // same window again: one detection
  scores[0]![10] = 0.9; // probationary: not counted
  scores[0]![90] = 0.6; // false positive
  scores[1]![105] = 0.4; // below the threshold used
  scores[2]![150] = 0.7; // false positive
  scores[2]![151] = 0.7; // and another row

  it('counts detected windows once and false-positive rows after the probationary period', () => {
    expect(breakdownByCategory(files, scores, 0.5)).toEqual([
      { category: 'a', files: 2, windows: 3, detected: 1, falsePositiveRows: 1 },
      { category: 'b', files: 1, windows: 0, detected: 0, falsePositiveRows: 2 },
    ]);
  });

  it('adds up to the scorer totals at the scorer threshold', () => {
    const standard = { tp: 1, fp: 0.11, fn: 1 };
    const result = scoreCorpus(files, scores, standard);
    const outcomes = breakdownByCategory(files, scores, result.threshold);
    expect(outcomes.reduce((sum, c) => sum + c.detected, 0)).toBe(result.truePositives);
    expect(outcomes.reduce((sum, c) => sum + c.falsePositiveRows, 0)).toBe(result.falsePositives);
  });
});
