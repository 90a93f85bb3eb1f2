/**
 * Seeded synthetic series with labelled anomalies, shared by the detector tests.
 */
import type { Point } from '../../detectors/types.ts';
import { mulberry32 } from '../../bench/sensitivity/rng.ts';

/** A deterministic uniform [0, 1) generator (mulberry32, the sensitivity benchmark's). */
export const seededRandom: (seed: number) => () => number = mulberry32;

/** A standard normal generator (Box-Muller) on top of `seededRandom`. */
export function seededNormal(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A series with, for each point, whether it belongs to a labelled anomaly. */
export interface LabelledSeries {
  points: Point[];
  anomalous: boolean[];
}

export const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 5);

/** Options of `labelledSeries`. */
export interface SeriesShape {
  length?: number;
  /** Value of point `i` before noise and anomalies. */
  base?: (i: number, timestamp: number) => number;
  noise?: number;
  /** Sampling interval in ms. */
  interval?: number;
  /** First index of each anomaly. */
  at?: number[];
  /** How many points each anomaly lasts. */
  span?: number;
  /** How many points from each anomaly's start are labelled (default: all of `span`); a change is only news at first. */
  labelled?: number;
  /** Changes value `v` of an anomalous point `k` points into its anomaly. */
  anomaly: (v: number, k: number, noise: () => number) => number;
  /** Events behind each point, when the series is a ratio. */
  count?: number;
  seed?: number;
}

/** Builds a noisy series with injected, labelled anomalies. */
export function labelledSeries(shape: SeriesShape): LabelledSeries {
  const { length = 3000, base = () => 100, noise = 1, interval = MINUTE, at = [1200, 1900, 2600], span = 1, seed = 7 } = shape;
  const normal = seededNormal(seed);
  const points: Point[] = [];
  const anomalous: boolean[] = [];
  for (let i = 0; i < length; i++) {
    const timestamp = START + i * interval;
    let value = base(i, timestamp) + noise * normal();
    const start = at.find((a) => i >= a && i < a + span);
    if (start !== undefined) value = shape.anomaly(value, i - start, normal);
    points.push(shape.count === undefined ? { timestamp, value } : { timestamp, value, count: shape.count });
    anomalous.push(start !== undefined && i - start < (shape.labelled ?? span));
  }
  return { points, anomalous };
}

/** Area under the ROC curve of scores separating anomalous from normal points (0.5 = chance). */
export function rocAuc(scores: number[], anomalous: boolean[]): number {
  const positives = scores.filter((_, i) => anomalous[i]);
  const negatives = scores.filter((_, i) => !anomalous[i]).sort((a, b) => a - b);
  let wins = 0;
  for (const p of positives) {
    // Count negatives below p (and half the ties) by binary search.
    let lo = 0;
    let hi = negatives.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (negatives[mid]! < p) lo = mid + 1;
      else hi = mid;
    }
    let ties = 0;
    for (let j = lo; j < negatives.length && negatives[j] === p; j++) ties++;
    wins += lo + ties / 2;
  }
  return wins / (positives.length * negatives.length);
}

/** A daily cycle between 50 and 150 (UTC), the shape of user traffic. */
export function dailyCycle(_i: number, timestamp: number): number {
  return 100 + 50 * Math.sin((2 * Math.PI * (timestamp % 86_400_000)) / 86_400_000);
}

/** One labelled fixture per registered method, built to show what that method is for. */
export const FIXTURES: Record<string, () => LabelledSeries> = {
  ensemble: () => labelledSeries({ anomaly: (v) => v + 12 }),
  // The default gauge has no effect size: its score is the ensemble's.
  practical: () => labelledSeries({ anomaly: (v) => v + 12 }),
  // A lasting level change: news for its first points, then the reference learns it.
  effect: () => labelledSeries({ at: [1000, 1800, 2600], span: 300, labelled: 5, anomaly: (v) => v + 10 }),
  'robust-zscore': () => labelledSeries({ anomaly: (v, k) => (k === 0 ? v - 12 : v) }),
  cusum: () => labelledSeries({ at: [1500], span: 1500, labelled: 40, anomaly: (v) => v + 1.5 }),
  'variance-shift': () => labelledSeries({ at: [1500], span: 300, labelled: 100, anomaly: (v, _k, noise) => v + 6 * noise() }),
  'daily-profile': () =>
    labelledSeries({ length: 8 * 288, interval: 5 * MINUTE, base: dailyCycle, at: [6 * 288 + 72], span: 12, anomaly: () => 100 }),
  flatline: () => labelledSeries({ at: [1500], span: 60, anomaly: () => 100 }),
  proportion: () => {
    // 1 % errors over 2,000 requests per point; binomial noise comes from the normal approximation.
    const noise = Math.sqrt((0.01 * 0.99) / 2000);
    return labelledSeries({ base: () => 0.01, noise, count: 2000, anomaly: (v) => v + 0.02 });
  },
};
