/**
 * Robust z-score over a sliding window: how many MADs the point lies from the window's median.
 *
 * @example
 * ```ts
 * import { robustZScore } from './robust-zscore.ts';
 * const d = robustZScore.create({ window: 60 });
 * for (let i = 0; i < 60; i++) d.update({ timestamp: i * 60_000, value: 10 + (i % 3) });
 * d.update({ timestamp: 60 * 60_000, value: 50 }).score; // close to 1
 * ```
 */
import type { Detector, DetectorDefinition, DetectorState, Point, Score } from './types.ts';

/** Options of the robust z-score detector. */
export interface RobustZScoreOptions {
  /** Points in the sliding window. */
  window: number;
  /** Points needed before any score is given. */
  warmup: number;
  /** |z| at which the score reaches 0.5. */
  threshold: number;
}

interface RobustZScoreState {
  values: number[];
}

const DEFAULTS: RobustZScoreOptions = { window: 120, warmup: 30, threshold: 6 };

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

class RobustZScore implements Detector<RobustZScoreState> {
  readonly method = 'robust-zscore';
  constructor(
    private readonly options: RobustZScoreOptions,
    private readonly state: RobustZScoreState,
  ) {}

  update(point: Point): Score {
    const value = point.value;
    const { values } = this.state;
    if (!Number.isFinite(value)) return { score: 0, expected: NaN, lower: NaN, upper: NaN, reason: 'not a finite number' };
    const sorted = [...values].sort((a, b) => a - b);
    let result: Score;
    if (values.length < this.options.warmup) {
      const expected = sorted.length ? median(sorted) : value;
      result = { score: 0, expected, lower: expected, upper: expected, reason: 'warming up' };
    } else {
      const med = median(sorted);
      const mad = median(sorted.map((v) => Math.abs(v - med)).sort((a, b) => a - b));
      const scale = Math.max(1.4826 * mad, Math.abs(med) * 1e-3, 1e-9);
      const z = (value - med) / scale;
      const score = 1 - Math.exp((-Math.LN2 * Math.abs(z)) / this.options.threshold);
      const band = this.options.threshold * scale;
      result = {
        score: Math.abs(z) < this.options.threshold / 2 ? 0 : score,
        expected: med,
        lower: med - band,
        upper: med + band,
        reason: `${fmt(value)} vs expected ${fmt(med)} ± ${fmt(band)}`,
      };
    }
    values.push(value);
    if (values.length > this.options.window) values.shift();
    return result;
  }

  toJSON(): DetectorState<RobustZScoreState> {
    return { method: this.method, version: 1, options: { ...this.options }, state: { values: [...this.state.values] } };
  }
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(3);
}

/** Registry entry for the robust z-score detector. */
export const robustZScore: DetectorDefinition<RobustZScoreOptions, RobustZScoreState> = {
  method: 'robust-zscore',
  description: 'Flags points many median absolute deviations away from the median of a sliding window.',
  defaults: DEFAULTS,
  create: (options) => new RobustZScore({ ...DEFAULTS, ...options }, { values: [] }),
  restore: (s) => new RobustZScore({ ...DEFAULTS, ...(s.options as Partial<RobustZScoreOptions>) }, { values: [...s.state.values] }),
};
