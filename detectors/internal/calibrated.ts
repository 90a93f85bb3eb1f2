/**
 * The shared skeleton of the single-view detectors: input guards, warm-up, one statistic calibrated by
 * a decayed tail histogram, the score mapping and JSON state. A subclass supplies the statistic.
 *
 * State layout: `BASE_SCALARS` Float64 slots (points seen, last time, quantum, previous value, the tail's
 * scalars) then the subclass's; `TAIL_BINS` Float32 cells for the tail then the subclass's.
 */
import type { Detector, DetectorState, Point, Score } from '../types.ts';
import { formatNumber, rarityInWords } from './format.ts';
import { packState, unpackState, type PackedState } from './packed-state.ts';
import { clampMagnitude, safeScore } from './sanitize.ts';
import { TAIL_BINS, TAIL_SCALARS, tailInit, tailLearn, tailSurprise } from './tail.ts';

/** Options every single-view detector has. */
export interface CalibratedOptions {
  /** Points learned before any score is given. */
  warmup: number;
  /** Decay per point of the calibration histogram (1 / memory in points). */
  tailDecay: number;
}

/** What a view reports about one point, computed before the point is learned. */
export interface Observation {
  /** Non-negative statistic: larger means more anomalous. */
  statistic: number;
  expected: number;
  /** Half-width of the normal band around `expected`. */
  band: number;
  /** What is unusual, e.g. "a spike" (used when the score is high). */
  what: string;
  /**
   * What the calibration histogram learns from this point: the statistic by default, or another value
   * (a flat-line run is learned when it ends, not while it grows), or `null` for nothing.
   */
  learned?: number | null;
}

/** Serialized state of a single-view detector: its typed arrays in base64 (`internal/packed-state.ts`). */
export type CalibratedState = PackedState;

/** Surprise (−log10 p) at which the score is 0.5: rarer than 1 in 10,000 points. */
export const HALF_SCORE_SURPRISE = 4;
/** The first points only set up the model: their statistics measure a baseline still being learned. */
export const CALIBRATION_START = 20;
/** Below this score the reason is a fixed phrase. */
const EXPLAINED_SCORE = 0.3;

const N = 0;
const LAST_TIME = 1;
const QUANTUM = 2;
const PREVIOUS = 3;
const TAIL = 4;
/** Float64 slot of the tail's scalars (its bins start at Float32 cell 0), for subclasses that manage episodes. */
export const TAIL_SLOT = TAIL;
/** First Float64 slot a subclass may use. */
export const BASE_SCALARS = TAIL + TAIL_SCALARS;
/** First Float32 cell a subclass may use. */
export const BASE_CELLS = TAIL_BINS;

/** Maps a surprise to a score in [0, 1): 0.5 at `HALF_SCORE_SURPRISE`. */
export function scoreOfSurprise(surprise: number): number {
  return safeScore(surprise / (surprise + HALF_SCORE_SURPRISE));
}

/** A detector with one calibrated view; subclasses implement `observe`. */
export abstract class CalibratedDetector<O extends CalibratedOptions> implements Detector<CalibratedState> {
  abstract readonly method: string;
  /** Layout version written to the state. */
  protected readonly version: number = 1;

  constructor(
    protected readonly options: O,
    protected readonly s: Float64Array,
    protected readonly c: Float32Array,
  ) {}

  /** Allocates zeroed state for `scalars` and `cells` subclass slots, with the tail initialized. */
  static allocate(scalars: number, cells: number): [Float64Array, Float32Array] {
    const scalarCount = BASE_SCALARS + scalars;
    // One buffer for both views: a second ArrayBuffer would cost more than a hundred bytes per series.
    const buffer = new ArrayBuffer(scalarCount * Float64Array.BYTES_PER_ELEMENT + (BASE_CELLS + cells) * Float32Array.BYTES_PER_ELEMENT);
    const s = new Float64Array(buffer, 0, scalarCount);
    const c = new Float32Array(buffer, scalarCount * Float64Array.BYTES_PER_ELEMENT, BASE_CELLS + cells);
    tailInit(s, TAIL, c, 0);
    return [s, c];
  }

  /** Copies serialized state into freshly allocated arrays, refusing a layout that does not fit. */
  static load(state: CalibratedState, scalars: number, cells: number): [Float64Array, Float32Array] {
    const [s, c] = CalibratedDetector.allocate(scalars, cells);
    if (!unpackState(state, s, c)) throw new Error('detector state does not match this version\'s layout; start a fresh detector');
    return [s, c];
  }

  /** Points learned so far. */
  protected get count(): number {
    return this.s[N]!;
  }

  /** Smallest non-zero step between consecutive values seen so far (0 while unknown). */
  protected get quantum(): number {
    return this.s[QUANTUM]!;
  }

  /** Scores `x` (already guarded) at `time`, then learns it; `n` counts points including this one. */
  protected abstract observe(x: number, time: number, n: number, point: Point): Observation;

  /** Starts the model at the first value. */
  protected abstract start(x: number, time: number, point: Point): void;

  /**
   * Learns the statistic of a scored point (after warm-up) into the calibration histogram; `surprise` is
   * the point's surprise before learning. A subclass may keep an anomaly's points apart (`proportion`).
   */
  protected learnTail(learned: number, _surprise: number): void {
    tailLearn(this.s, TAIL, this.c, 0, learned, this.options.tailDecay);
  }

  /** Called after the statistic's surprise is known, e.g. to reset a change-point test that fired. */
  protected afterScore(_surprise: number, _x: number): void {}

  update(point: Point): Score {
    const s = this.s;
    const value = Number(point.value);
    if (!Number.isFinite(value)) return this.quiet('no value (missing or not a number)');
    const x = clampMagnitude(value);
    const time = Number.isFinite(point.timestamp) ? point.timestamp : s[LAST_TIME]!;
    const n = s[N]! + 1;
    s[N] = n;
    if (time > s[LAST_TIME]!) s[LAST_TIME] = time;
    if (n === 1) {
      s[PREVIOUS] = x;
      this.start(x, time, point);
      return { score: 0, expected: x, lower: x, upper: x, reason: 'warming up' };
    }
    const step = Math.abs(x - s[PREVIOUS]!);
    if (step > 0 && (s[QUANTUM] === 0 || step < s[QUANTUM]!)) s[QUANTUM] = step;
    s[PREVIOUS] = x;

    const seen = this.observe(x, time, n, point);
    const statistic = seen.statistic >= 0 ? seen.statistic : 0;
    const learned = seen.learned === undefined ? statistic : seen.learned;
    const lower = seen.expected - seen.band;
    const upper = seen.expected + seen.band;
    const learn = n > CALIBRATION_START && learned !== null && learned >= 0;
    if (n <= this.options.warmup) {
      if (learn) tailLearn(s, TAIL, this.c, 0, learned, this.options.tailDecay);
      return { score: 0, expected: seen.expected, lower, upper, reason: 'warming up' };
    }
    const surprise = tailSurprise(s, TAIL, this.c, 0, statistic);
    if (learn) this.learnTail(learned, surprise);
    this.afterScore(surprise, x);
    const score = scoreOfSurprise(surprise);
    if (score < EXPLAINED_SCORE) return { score, expected: seen.expected, lower, upper, reason: 'within the usual range' };
    const reason = `${formatNumber(value)} vs expected ${formatNumber(seen.expected)} ± ${formatNumber(seen.band)}: ${seen.what}, ${rarityInWords(surprise)}`;
    return { score, expected: seen.expected, lower, upper, reason };
  }

  /** A score for a point without a usable value; nothing is learned from it. */
  private quiet(reason: string): Score {
    const previous = this.s[N]! > 0 ? this.s[PREVIOUS]! : NaN;
    return { score: 0, expected: previous, lower: previous, upper: previous, reason };
  }

  toJSON(): DetectorState<CalibratedState> {
    return {
      method: this.method,
      version: this.version,
      options: structuredClone(this.options) as unknown as Record<string, unknown>,
      state: packState(this.s, this.c),
    };
  }
}
