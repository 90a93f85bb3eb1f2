import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCorpus, readProfiles, readScoreFile, type CorpusFile } from '../../bench/nab/corpus.ts';
import { probationaryLength, scaledSigmoid, scoreCorpus } from '../../bench/nab/scorer.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const nabRoot = path.resolve(repoRoot, '../shared/nab');

/** The published scoreboard figures from ../shared/nab/SCORING.md. */
const SCOREBOARD: Record<string, Record<string, number>> = {
  numenta: { standard: 70.1, reward_low_FP_rate: 63.1, reward_low_FN_rate: 74.3 },
  twitterADVec: { standard: 47.1, reward_low_FP_rate: 33.6, reward_low_FN_rate: 53.5 },
  windowedGaussian: { standard: 39.6, reward_low_FP_rate: 20.9, reward_low_FN_rate: 47.4 },
  null: { standard: 0, reward_low_FP_rate: 0, reward_low_FN_rate: 0 },
};

describe('NAB scorer on the published detector outputs', () => {
  const files = readCorpus(nabRoot);
  const profiles = readProfiles(nabRoot);

  for (const [detector, expected] of Object.entries(SCOREBOARD)) {
    it(`reproduces the ${detector} scoreboard row within ±0.15`, () => {
      const scores = files.map((file) => readScoreFile(path.join(nabRoot, 'results', detector, file.name)));
      for (const [profile, figure] of Object.entries(expected)) {
        const { normalized } = scoreCorpus(files, scores, profiles[profile]!);
        expect(Math.abs(normalized - figure), `${detector} ${profile}: ${normalized}`).toBeLessThanOrEqual(0.15);
      }
    });
  }
});

describe('NAB scorer on a hand-made corpus', () => {
  const minute = 60_000;
  const rows = 100;
  const file: CorpusFile = {
    name: 'synthetic/one.csv',
    timestamps: Array.from({ length: rows }, (_, i) => i * minute),
    values: new Array<number>(rows).fill(0),
    windows: [[50 * minute, 59 * minute]],
  };
  const standard = { tp: 1, fp: 0.11, fn: 1 };

  it('gives 100 to a detector that fires only on the first row of each window', () => {
    const scores = file.timestamps.map((_, i) => (i === 50 ? 1 : 0));
    expect(scoreCorpus([file], [scores], standard).normalized).toBeCloseTo(100, 9);
  });

  it('gives 0 to a detector that never fires', () => {
    expect(scoreCorpus([file], [new Array<number>(rows).fill(0)], standard).normalized).toBe(0);
  });

  it('prefers not firing when the only detection is a false positive', () => {
    const scores = file.timestamps.map((_, i) => (i === 30 ? 1 : 0));
    const result = scoreCorpus([file], [scores], standard);
    expect(result.threshold).toBe(Infinity);
    expect(result.falseNegatives).toBe(1);
  });

  it('rewards an early detection more than a late one and ignores probationary rows', () => {
    const early = scoreCorpus([file], [file.timestamps.map((_, i) => (i === 51 ? 1 : 0))], standard);
    const late = scoreCorpus([file], [file.timestamps.map((_, i) => (i === 58 ? 1 : 0))], standard);
    expect(early.normalized).toBeGreaterThan(late.normalized);
    expect(late.normalized).toBeGreaterThan(0);
    expect(probationaryLength(rows)).toBe(15);
    expect(probationaryLength(100_000)).toBe(750);
    expect(scaledSigmoid(4)).toBe(-1);
  });
});
