import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CorpusFile } from '../../bench/nab/corpus.ts';
import { candidate, leaveOneCategoryOut } from '../../bench/nab/loco.ts';
import { bestThreshold, orderByScore, poolRows, rankRows, scoreAtThreshold, scoreCorpus } from '../../bench/nab/scorer.ts';

const MINUTE = 60_000;
const STANDARD = { tp: 1, fp: 0.11, fn: 1 };

/**
 * A file of 100 one-minute rows (the first 15 probationary) with one window over rows 50–59, or none.
 * A detection on row 50, the window's first row, is worth exactly `tp`.
 */
function file(name: string, withWindow = true): CorpusFile {
  return {
    name,
    timestamps: Array.from({ length: 100 }, (_, i) => i * MINUTE),
    values: new Array<number>(100).fill(0),
    windows: withWindow ? [[50 * MINUTE, 59 * MINUTE]] : [],
  };
}

/** Scores 0 everywhere but `score` on row `row`. */
function firing(score: number, row = 50): Float64Array {
  const column = new Float64Array(100);
  column[row] = score;
  return column;
}

const quiet = () => new Float64Array(100);

describe('leave-one-category-out on hand-made corpora', () => {
  it('applies the threshold chosen on the other categories unchanged to the held-out one', () => {
    // Category a fires at 0.8 in its window, category b at 0.7: fitted on b the threshold is 0.7, which
    // catches a's window; fitted on a it is 0.8, which misses b's (re-optimizing on b would have caught it).
    const files = [file('a/one.csv'), file('b/one.csv')];
    const scores = [firing(0.8), firing(0.7)];
    const result = leaveOneCategoryOut(files, [candidate(files, 'only', scores)], STANDARD);

    expect(result.categories.map((c) => [c.category, c.chosen, c.threshold, c.detected, c.windows])).toEqual([
      ['a', 'only', 0.7, 1, 1],
      ['b', 'only', 0.8, 0, 1],
    ]);
    expect(result.categories[0]!.normalized).toBeCloseTo(100, 9);
    expect(result.categories[0]!.fitted).toBeCloseTo(100, 9);
    expect(result.categories[1]!.normalized).toBeCloseTo(0, 9);
    expect(result.categories[1]!.raw).toBeCloseTo(-1, 9);
    // Pooled: raw 1 − 1 = 0 between null −2 and perfect 2.
    expect([result.raw, result.null, result.perfect]).toEqual([0, -2, 2]);
    expect(result.normalized).toBeCloseTo(50, 9);
    // The full-corpus score fits the threshold (0.7) on both and gets everything.
    expect(scoreCorpus(files, scores, STANDARD).normalized).toBeCloseTo(100, 9);
  });

  it('chooses the configuration on the other categories and never on the held-out one', () => {
    // X catches the windows of a and b only, Y those of c and d only. Holding out a or b, Y wins on the other
    // three (2 windows against 1) and misses the held-out window; holding out c or d, X wins and misses.
    const files = ['a', 'b', 'c', 'd'].map((c) => file(`${c}/one.csv`));
    const x = candidate(files, 'X', [firing(1), firing(1), quiet(), quiet()]);
    const y = candidate(files, 'Y', [quiet(), quiet(), firing(1), firing(1)]);
    const result = leaveOneCategoryOut(files, [x, y], STANDARD);

    expect(result.categories.map((c) => c.chosen)).toEqual(['Y', 'Y', 'X', 'X']);
    for (const c of result.categories) {
      expect(c.threshold).toBe(1);
      expect(c.fitted).toBeCloseTo((100 * (1 + 3)) / 6, 9); // raw 2 − 1 = 1 over three windows
      expect(c.detected).toBe(0);
      expect(c.normalized).toBeCloseTo(0, 9);
    }
    expect(result.normalized).toBeCloseTo(0, 9);
    // Each configuration alone, with its threshold fitted on the whole corpus, scores 50.
    expect(scoreCorpus(files, [firing(1), firing(1), quiet(), quiet()], STANDARD).normalized).toBeCloseTo(50, 9);
  });

  it('prefers the earlier of equally good configurations', () => {
    const files = [file('a/one.csv'), file('b/one.csv')];
    const scores = [firing(0.9), firing(0.9)];
    const result = leaveOneCategoryOut(files, [candidate(files, 'first', scores), candidate(files, 'second', scores)], STANDARD);
    expect(result.categories.map((c) => c.chosen)).toEqual(['first', 'first']);
  });

  it('counts a category without windows by its false positives: no score of its own, a cost in the pool', () => {
    // Fitted on n (no windows, one false alarm at 0.9), firing nowhere is best, so a's window is missed;
    // fitted on a the threshold is 0.8, and n's false alarm at 0.9 costs fp.
    const files = [file('a/one.csv'), file('n/one.csv', false)];
    const result = leaveOneCategoryOut(files, [candidate(files, 'only', [firing(0.8), firing(0.9, 30)])], STANDARD);
    const [a, n] = result.categories;
    expect(a!.threshold).toBe(Infinity);
    expect(a!.raw).toBeCloseTo(-1, 9);
    expect(n!.threshold).toBe(0.8);
    expect(n!.windows).toBe(0);
    expect(n!.falsePositiveRows).toBe(1);
    expect(n!.raw).toBeCloseTo(-0.11, 9);
    expect(n!.normalized).toBeNaN();
    expect(result.normalized).toBeCloseTo((100 * (-1.11 + 1)) / 2, 9);
  });
});

describe('scoring a subset of the corpus', () => {
  const files = [file('a/one.csv'), file('a/two.csv'), file('b/one.csv', false), file('c/one.csv')];
  /** Scores drawn from a few levels so that ties are common. */
  const columns = fc.array(fc.array(fc.constantFrom(0, 0.1, 0.5, 0.5000001, 0.9, 1), { minLength: 100, maxLength: 100 }), { minLength: 4, maxLength: 4 });

  it('sweeps a subset exactly as the full scorer sweeps a corpus of just those files', () => {
    fc.assert(
      fc.property(columns, fc.subarray([0, 1, 2, 3], { minLength: 1 }), (raw, kept) => {
        const scores = raw.map((column) => Float64Array.from(column));
        const pooled = poolRows(files, rankRows(files, scores), STANDARD);
        const subset = bestThreshold(pooled, (f) => kept.includes(f));
        const alone = scoreCorpus(
          kept.map((f) => files[f]!),
          kept.map((f) => scores[f]!),
          STANDARD,
        );
        expect(subset.threshold).toBe(alone.threshold);
        expect(subset.raw).toBeCloseTo(alone.raw, 9);
        expect(subset.normalized).toBeCloseTo(alone.normalized, 9);
        expect([subset.truePositives, subset.falsePositives, subset.falseNegatives]).toEqual([alone.truePositives, alone.falsePositives, alone.falseNegatives]);
      }),
      { numRuns: 100 },
    );
  });

  it('scores at a fixed threshold what the sweep found there, and nothing at Infinity', () => {
    fc.assert(
      fc.property(columns, (raw) => {
        const scores = raw.map((column) => Float64Array.from(column));
        const pooled = poolRows(files, rankRows(files, scores), STANDARD);
        const best = bestThreshold(pooled);
        const fixed = scoreAtThreshold(pooled, best.threshold);
        expect(fixed.raw).toBeCloseTo(best.raw, 9);
        expect(fixed.truePositives).toBe(best.truePositives);
        expect(fixed.falsePositives).toBe(best.falsePositives);
        const none = scoreAtThreshold(pooled, Infinity, (f) => f < 2);
        expect([none.raw, none.truePositives, none.falsePositives, none.falseNegatives]).toEqual([-2, 0, 0, 2]);
      }),
      { numRuns: 100 },
    );
  });

  it('orders rows by score, highest first, equal scores in row order', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, -0, 0.25, 0.5, 1, 3, -1)), (values) => {
        const anomaly = Float64Array.from(values);
        const expected = values.map((_, i) => i).sort((a, b) => anomaly[b]! - anomaly[a]! || a - b);
        expect([...orderByScore(anomaly)]).toEqual(expected);
      }),
    );
  });
});
