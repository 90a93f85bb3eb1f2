/**
 * The default detector: five simple views of a series, four of them calibrated against the series' own
 * history, combined into one score an on-call engineer can read.
 *
 * Per point, in O(1):
 * - **spike**: distance from a fast robust level (Huber EWMA, ~5 points) in robust σ;
 * - **shift**: a two-sided CUSUM of the distance from a slow robust level (~300 points), for level
 *   shifts and slow drifts; once a shift is flagged the slow level jumps to the new value;
 * - **variance**: short-term mean step between consecutive points over its long-run mean, for variance
 *   changes and bursts of spikes;
 * - **daily**: distance from a half-hourly daily profile, used only when the profile explains the series
 *   clearly better than a plain level ("for this time of day");
 * - **record**: a value beyond everything the series has done so far, by more than 5 % of that range
 *   ("never this high before"), once that range covers a day. It has no histogram: a record is
 *   unprecedented by definition, so it counts as a surprise of 4 (rarer than 1 in 10,000 points).
 *
 * Each calibrated view's statistic goes through its own decayed histogram (`internal/tail.ts`) which turns it
 * into a surprise `-log10 P(at least this extreme)`. The largest surprise is calibrated once more against
 * the history of largest surprises (the anomaly-likelihood layer), so a series whose views are often
 * surprised needs more to score high. `score = u / (u + 4)` for the final surprise `u`: 0.5 means
 * "rarer than 1 in 10,000 points of this series". A repeat within `cooldown` points of a higher
 * score is halved (one alert per incident unless it escalates).
 *
 * @example
 * ```ts
 * const d = ensemble.create();
 * for (let i = 0; i < 500; i++) d.update({ timestamp: i * 60_000, value: 100 + Math.sin(i) });
 * d.update({ timestamp: 500 * 60_000, value: 160 }); // score near 1, reason "160 vs expected 100 ± 4.3: a spike, …"
 * ```
 */
import { formatNumber, rarityInWords } from './internal/format.ts';
import {
  PROFILE_CELLS,
  PROFILE_SCALARS,
  bucketOf,
  profileActive,
  profileInit,
  profileKnows,
  profileLearn,
  profileSigma,
  profileValue,
  type ProfileRates,
} from './internal/daily-profile.ts';
import { LEVEL_SCALARS, levelInit, levelLearn, levelReset, levelSigma, levelValue, type LevelRates } from './internal/robust-level.ts';
import { CALIBRATION_START, HALF_SCORE_SURPRISE, scoreOfSurprise } from './internal/calibrated.ts';
import { packState, unpackState, type PackedState } from './internal/packed-state.ts';
import { clampMagnitude } from './internal/sanitize.ts';
import { silenceScore } from './internal/silence.ts';
import { TAIL_BINS, TAIL_SCALARS, tailInit, tailLearn, tailObserve, tailObserveSmoothed } from './internal/tail.ts';
import type { Detector, DetectorDefinition, DetectorState, Point, Score } from './types.ts';

/** How values are turned into the series the views model. */
export type Transform = 'none' | 'log' | 'rate';

/** Options of the ensemble detector. */
export interface EnsembleOptions {
  /** Points learned before any score is given. */
  warmup: number;
  /**
   * `none` models values as they are (gauges); `log` models log values (latencies, sizes: multiplicative
   * noise); `rate` turns a monotonic counter into a per-second rate, treating a decrease as a reset.
   */
  transform: Transform;
  /** The fast level of the spike view. */
  fast: LevelRates;
  /** The slow level of the shift view. */
  slow: LevelRates;
  /** CUSUM slack in σ: deviations smaller than this do not accumulate. */
  cusumSlack: number;
  /** Per-point CUSUM input is clipped at ±this many σ so one spike cannot fake a shift. */
  cusumClip: number;
  /** EWMA rate of the short-term mean step (|x − previous x|) of the variance view. */
  varianceRate: number;
  /** EWMA rate of the long-term mean step it is compared to. */
  varianceLongRate: number;
  /** The daily profile of the daily view. */
  daily: ProfileRates;
  /** Decay per point of every calibration histogram (1 / memory in points). */
  tailDecay: number;
  /** Points after a high score during which a lower score is damped. */
  cooldown: number;
  /** Factor applied to a score that does not exceed the recent peak. */
  cooldownDamping: number;
  /**
   * Weight of the surprise of the one-point views (spike, daily) against the views that accumulate
   * evidence over several points (shift, variance): at 0.8 a lone odd point must be rarer than 1 in
   * 100,000 to count as much as a sustained change rarer than 1 in 10,000.
   */
  pointWeight: number;
}

/** Defaults chosen for ops telemetry sampled every 10 s to 1 h; see docs/detectors.md for how. */
const DEFAULTS: EnsembleOptions = {
  warmup: 100,
  transform: 'none',
  fast: { level: 0.2, spread: 0.02, clip: 3 },
  slow: { level: 0.003, spread: 0.02, clip: 3 },
  cusumSlack: 1,
  cusumClip: 4,
  varianceRate: 0.03,
  varianceLongRate: 0.002,
  daily: { bucket: 0.2, spread: 0.02, clip: 3, advantage: 0.7 },
  tailDecay: 0.0003,
  cooldown: 100,
  cooldownDamping: 0.5,
  pointWeight: 0.8,
};

/** The views, in the order of their calibration histograms. */
const VIEWS = ['spike', 'shift', 'variance', 'daily'] as const;
/** Views that judge one point on its own; their surprise is weighted by `pointWeight`. */
const ONE_POINT_VIEW = [true, false, false, true] as const;
/** Every view; the record view has no calibration histogram. */
type View = (typeof VIEWS)[number] | 'record';
const DAILY_VIEW = VIEWS.indexOf('daily');

/** A shift view surprise at which the slow level is moved to the new value. */
const SHIFT_RESET_SURPRISE = HALF_SCORE_SURPRISE;
/** A value further than this fraction of the series' range beyond its minimum or maximum is a record. */
const RECORD_MARGIN = 0.05;
/**
 * Event time the range must cover before records count: a range learned over less than a day has not yet
 * seen the series' daily peak and trough, so its first evening would be full of "records".
 */
const RECORD_HISTORY_MS = 24 * 60 * 60 * 1000;
/** Surprise of a record: unprecedented in the series' history, it scores as "rarer than 1 in 10,000". */
const RECORD_SURPRISE = HALF_SCORE_SURPRISE;
/**
 * Variance view input is capped at this many long-run mean steps so one giant outlier reads as one outlier,
 * not a variance change.
 */
const VARIANCE_STEP_CAP = 6;
/** Mean step |x − previous x| of independent Gaussian noise, in σ (2/√π). */
const MEAN_STEP_PER_SIGMA = 2 / Math.sqrt(Math.PI);
/** Scores from here on open a cooldown. */
const COOLDOWN_FROM = 0.3;
/** Below this score the reason is a fixed phrase (formatting numbers for every point is wasted work). */
const EXPLAINED_SCORE = 0.3;
/** EWMA rate of the typical interval between points. */
const INTERVAL_RATE = 0.05;
/** Half-width of the shown normal band, in σ. */
const BAND_SIGMAS = 4;

// Float64 scalar slots.
const N = 0;
const LAST_TIME = 1;
const QUANTUM = 2;
const PREVIOUS = 3;
const CUSUM_UP = 4;
const CUSUM_DOWN = 5;
const VARIANCE_SHORT = 6;
const VARIANCE_LONG = 7;
const PEAK = 8;
const COUNTER_VALUE = 9;
const COUNTER_TIME = 10;
const LOG_OFFSET = 11;
const PEAK_AT = 12;
const INTERVAL = 13;
const FAST = 14;
const SLOW = FAST + LEVEL_SCALARS;
const DAILY = SLOW + LEVEL_SCALARS;
const TAILS = DAILY + PROFILE_SCALARS;
const COMBINED_TAIL = TAILS + VIEWS.length * TAIL_SCALARS;
const RANGE_MIN = COMBINED_TAIL + TAIL_SCALARS;
const RANGE_MAX = RANGE_MIN + 1;
const RANGE_SINCE = RANGE_MAX + 1;
const SCALARS = RANGE_SINCE + 1;
/** Scalars of a version 1 state, which had no range: the range slots come last so it still restores. */
const V1_SCALARS = RANGE_MIN;

// Float32 cell offsets.
const DAILY_CELLS = 0;
const TAIL_CELLS = PROFILE_CELLS;
const COMBINED_CELLS = TAIL_CELLS + VIEWS.length * TAIL_BINS;
const CELLS = COMBINED_CELLS + TAIL_BINS;

/** Serialized state of the ensemble: its typed arrays in base64 (`internal/packed-state.ts`). */
export type EnsembleState = PackedState;

const WARMING_UP = 'warming up';
const NORMAL = 'within the usual range';

class Ensemble implements Detector<EnsembleState> {
  readonly method = 'ensemble';

  constructor(
    private readonly options: EnsembleOptions,
    private readonly s: Float64Array,
    private readonly c: Float32Array,
  ) {}

  update(point: Point): Score {
    const s = this.s;
    const value = Number(point.value);
    if (!Number.isFinite(value)) return this.quiet('no value (missing or not a number)');
    const time = Number.isFinite(point.timestamp) ? point.timestamp : s[LAST_TIME]!;
    const x = this.transform(clampMagnitude(value), time);
    if (x === undefined) return this.quiet(s[N] === 0 ? WARMING_UP : 'counter reset or repeated timestamp');

    const n = s[N]! + 1;
    s[N] = n;
    if (time > s[LAST_TIME]!) {
      const elapsed = time - s[LAST_TIME]!;
      if (n > 1) s[INTERVAL] = s[INTERVAL] === 0 ? elapsed : s[INTERVAL]! + INTERVAL_RATE * (elapsed - s[INTERVAL]!);
      s[LAST_TIME] = time;
    }
    if (n === 1) {
      levelInit(s, FAST, x);
      levelInit(s, SLOW, x);
      this.learnRange(x, time);
      s[PREVIOUS] = x;
      const shown = this.untransform(x);
      return { score: 0, expected: shown, lower: shown, upper: shown, reason: WARMING_UP };
    }
    const step = Math.abs(x - s[PREVIOUS]!);
    if (step > 0 && (s[QUANTUM] === 0 || step < s[QUANTUM]!)) s[QUANTUM] = step;
    s[PREVIOUS] = x;
    return this.observe(x, time, n, step);
  }

  /** Scores `x` against every view, then learns it; `step` is its distance from the previous value. */
  private observe(x: number, time: number, n: number, step: number): Score {
    const { s, c, options } = this;
    const quantum = s[QUANTUM]!;
    const fastLevel = levelValue(s, FAST);
    const fastSigma = levelSigma(s, FAST, quantum);
    const slowLevel = levelValue(s, SLOW);
    const slowSigma = levelSigma(s, SLOW, quantum);
    const z = (x - fastLevel) / fastSigma;
    const zSlow = (x - slowLevel) / slowSigma;

    const bucket = bucketOf(time);
    const useDaily = profileActive(s, DAILY, options.daily) && profileKnows(s, DAILY, bucket);
    const dailyLevel = useDaily ? profileValue(c, DAILY_CELLS, bucket) : fastLevel;
    const dailySigma = profileSigma(s, DAILY, quantum, dailyLevel);

    const clipped = Math.max(-options.cusumClip, Math.min(options.cusumClip, zSlow));
    s[CUSUM_UP] = Math.max(0, s[CUSUM_UP]! + clipped - options.cusumSlack);
    s[CUSUM_DOWN] = Math.max(0, s[CUSUM_DOWN]! - clipped - options.cusumSlack);
    // The variance view measures noise by the steps between consecutive points (the von Neumann / Rice
    // estimator): unlike residuals from a level, steps need no level model, so a wandering level or a
    // trend does not read as noise, and the long-run mean step is a yardstick that does not adapt to the
    // change being measured (|z| against the fast σ cancelled itself within about 50 points).
    const longStep = s[VARIANCE_LONG]!;
    const cappedStep = longStep > 0 ? Math.min(step, VARIANCE_STEP_CAP * longStep) : step;
    s[VARIANCE_SHORT] = s[VARIANCE_SHORT]! + options.varianceRate * (cappedStep - s[VARIANCE_SHORT]!);
    const varianceRatio = s[VARIANCE_SHORT]! / (longStep + 1e-9 * (1 + Math.abs(fastLevel)));

    const spikeStat = Math.abs(z);
    const shiftStat = Math.max(s[CUSUM_UP]!, s[CUSUM_DOWN]!);
    const dailyStat = useDaily ? Math.abs(x - dailyLevel) / dailySigma : 0;

    levelLearn(s, FAST, x, options.fast, n, quantum);
    levelLearn(s, SLOW, x, options.slow, n, quantum);
    s[VARIANCE_LONG] = longStep + Math.max(options.varianceLongRate, 1 / n) * (cappedStep - longStep);
    profileLearn(s, DAILY, c, DAILY_CELLS, time, x, x - fastLevel, options.daily, quantum);

    const decay = options.tailDecay;
    let best = 0;
    let view: View = 'spike';
    for (let i = 0; i < VIEWS.length; i++) {
      const stat = i === 0 ? spikeStat : i === 1 ? shiftStat : i === 2 ? varianceRatio : dailyStat;
      const so = TAILS + i * TAIL_SCALARS;
      const co = TAIL_CELLS + i * TAIL_BINS;
      // Statistics of a view that is not in use (no daily profile yet) are not learned either.
      if (i === DAILY_VIEW && !useDaily) continue;
      if (n <= options.warmup) {
        if (n > CALIBRATION_START) tailLearn(s, so, c, co, stat, decay);
        continue;
      }
      // The histogram learns the statistic as it is; only the evidence it yields is weighted.
      const u = tailObserveSmoothed(s, so, c, co, stat, decay) * (ONE_POINT_VIEW[i] ? options.pointWeight : 1);
      if (u > best) {
        best = u;
        view = VIEWS[i]!;
      }
    }
    // A record is judged against the range before this point, and only once the range covers a whole day.
    const recordBroken = time - s[RANGE_SINCE]! >= RECORD_HISTORY_MS ? this.recordBroken(x) : undefined;
    this.learnRange(x, time);
    if (recordBroken !== undefined && RECORD_SURPRISE > best) {
      best = RECORD_SURPRISE;
      view = 'record';
    }
    if (n <= options.warmup) {
      const lower = this.untransform(fastLevel - BAND_SIGMAS * fastSigma);
      return { score: 0, expected: this.untransform(fastLevel), lower, upper: this.untransform(fastLevel + BAND_SIGMAS * fastSigma), reason: WARMING_UP };
    }

    // The anomaly-likelihood layer: how unusual is this much surprise for this series? The histogram
    // takes 10^surprise (a "1 in N" figure) so its log-spaced bins resolve surprises up to about 3.
    const combined = 10 ** Math.min(best, 30);
    const surprise = tailObserve(s, COMBINED_TAIL, c, COMBINED_CELLS, combined, decay);
    if (view === 'shift' && best >= SHIFT_RESET_SURPRISE) {
      levelReset(s, SLOW, x);
      s[CUSUM_UP] = 0;
      s[CUSUM_DOWN] = 0;
    }

    let score = scoreOfSurprise(surprise);
    // Cooldown: within `cooldown` points of the last peak, only an escalation keeps its full score.
    const sincePeak = n - s[PEAK_AT]!;
    const repeated = sincePeak < options.cooldown && score <= s[PEAK]!;
    if (!repeated && score >= COOLDOWN_FROM) {
      s[PEAK] = score;
      s[PEAK_AT] = n;
    } else if (sincePeak >= options.cooldown) {
      s[PEAK] = 0;
    }
    const undamped = score;
    if (repeated) score *= options.cooldownDamping;

    const shift = view === 'shift';
    const daily = !shift && (view === 'daily' || useDaily);
    const expected = shift ? slowLevel : daily ? dailyLevel : fastLevel;
    const sigma = shift ? slowSigma : daily ? dailySigma : fastSigma;
    const lower = this.untransform(expected - BAND_SIGMAS * sigma);
    const upper = this.untransform(expected + BAND_SIGMAS * sigma);
    const shown = this.untransform(expected);
    if (undamped < EXPLAINED_SCORE) return { score, expected: shown, lower, upper, reason: NORMAL };
    const what = view === 'record' ? this.describeRecord(x, recordBroken!) : this.describe(view, x >= expected, varianceRatio);
    return { score, expected: shown, lower, upper, reason: this.explain(x, expected, sigma, what, surprise, repeated) };
  }

  /** One line on why the point scored high, around `what` is unusual. */
  private explain(x: number, expected: number, sigma: number, what: string, surprise: number, repeated: boolean): string {
    const shown = formatNumber(this.untransform(x));
    const around = `${formatNumber(this.untransform(expected))} ± ${formatNumber(Math.abs(this.untransform(expected + BAND_SIGMAS * sigma) - this.untransform(expected)))}`;
    return `${shown} vs expected ${around}: ${what}, ${rarityInWords(surprise)}${repeated ? ' (continuing)' : ''}`;
  }

  /** What a calibrated view found unusual, e.g. "a spike". */
  private describe(view: Exclude<View, 'record'>, up: boolean, varianceRatio: number): string {
    switch (view) {
      case 'spike':
        return up ? 'a spike' : 'a dip';
      case 'shift':
        return up ? 'the level shifted up' : 'the level shifted down';
      case 'variance':
        return `variance ${formatNumber(varianceRatio)}× its usual`;
      case 'daily':
        return 'for this time of day';
    }
  }

  /** What a record broke, e.g. "above every value so far (highest was 480)". */
  private describeRecord(x: number, broken: number): string {
    const shown = formatNumber(this.untransform(broken));
    return x > broken ? `above every value so far (highest was ${shown})` : `below every value so far (lowest was ${shown})`;
  }

  /**
   * The earlier maximum (or minimum) that `x` exceeds by more than `RECORD_MARGIN` of the range of earlier
   * values, or `undefined` when `x` is no record.
   */
  private recordBroken(x: number): number | undefined {
    const low = this.s[RANGE_MIN]!;
    const high = this.s[RANGE_MAX]!;
    const margin = RECORD_MARGIN * (high - low);
    // A series that has never moved has no range to leave: its first move is the spike view's to judge.
    if (!(margin > 0)) return undefined;
    if (x > high + margin) return high;
    if (x < low - margin) return low;
    return undefined;
  }

  /** Widens the range of values seen to include `x`, remembering when an empty range got its first value. */
  private learnRange(x: number, time: number): void {
    const s = this.s;
    if (s[RANGE_MIN] === Infinity) s[RANGE_SINCE] = time;
    if (x < s[RANGE_MIN]!) s[RANGE_MIN] = x;
    if (x > s[RANGE_MAX]!) s[RANGE_MAX] = x;
  }

  /** Scores the silence since the last point: 0.5 after `SILENT_INTERVALS` typical intervals without one. */
  silence(now: number): Score {
    const s = this.s;
    const expected = s[N]! > 0 ? this.untransform(levelValue(s, FAST)) : NaN;
    return silenceScore(now, s[LAST_TIME]!, s[INTERVAL]!, expected, s[N]! > this.options.warmup);
  }

  /** A score for a point that carries no usable value: nothing is learned from it. */
  private quiet(reason: string): Score {
    const expected = this.s[N]! > 0 ? this.untransform(levelValue(this.s, FAST)) : NaN;
    return { score: 0, expected, lower: expected, upper: expected, reason };
  }

  /** Maps a raw value to the modelled series; `undefined` when it yields no point (first counter value, reset). */
  private transform(value: number, time: number): number | undefined {
    const s = this.s;
    switch (this.options.transform) {
      case 'none':
        return value;
      case 'log': {
        // The offset (1 % of the first non-zero magnitude) keeps zeros finite without assuming units.
        if (s[LOG_OFFSET] === 0 && value !== 0) s[LOG_OFFSET] = 0.01 * Math.abs(value);
        return Math.log(Math.max(value, 0) + (s[LOG_OFFSET] || 1));
      }
      case 'rate': {
        const previous = s[COUNTER_VALUE]!;
        const elapsed = (time - s[COUNTER_TIME]!) / 1000;
        const first = s[N] === 0 && s[COUNTER_TIME] === 0;
        if (!first && elapsed <= 0) return undefined;
        s[COUNTER_VALUE] = value;
        s[COUNTER_TIME] = time;
        if (first) return undefined;
        // A counter that went down was reset: what it counted since the reset is its value.
        return (value >= previous ? value - previous : value) / elapsed;
      }
    }
  }

  /** Inverse of `transform` for showing expected values and bands in the caller's units. */
  private untransform(y: number): number {
    if (this.options.transform !== 'log') return y;
    return Math.exp(Math.min(y, 700)) - (this.s[LOG_OFFSET] || 1);
  }

  toJSON(): DetectorState<EnsembleState> {
    return {
      method: this.method,
      version: 3,
      options: structuredClone(this.options) as unknown as Record<string, unknown>,
      state: packState(this.s, this.c),
    };
  }
}

function emptyState(): [Float64Array, Float32Array] {
  // One buffer for both views: a second ArrayBuffer would cost more than a hundred bytes per series.
  const buffer = new ArrayBuffer(SCALARS * Float64Array.BYTES_PER_ELEMENT + CELLS * Float32Array.BYTES_PER_ELEMENT);
  const s = new Float64Array(buffer, 0, SCALARS);
  const c = new Float32Array(buffer, SCALARS * Float64Array.BYTES_PER_ELEMENT, CELLS);
  profileInit(s, DAILY, c, DAILY_CELLS);
  for (let i = 0; i < VIEWS.length; i++) tailInit(s, TAILS + i * TAIL_SCALARS, c, TAIL_CELLS + i * TAIL_BINS);
  tailInit(s, COMBINED_TAIL, c, COMBINED_CELLS);
  s[RANGE_MIN] = Infinity;
  s[RANGE_MAX] = -Infinity;
  s[RANGE_SINCE] = Infinity;
  return [s, c];
}

/** Resolved options by their JSON, so the many detectors of one configuration share one object. */
const resolved = new Map<string, EnsembleOptions>();
/** Distinct configurations remembered; beyond this each detector gets its own copy. */
const MAX_SHARED_CONFIGURATIONS = 64;

function withDefaults(options: Partial<EnsembleOptions> = {}): EnsembleOptions {
  const key = JSON.stringify(options);
  const known = resolved.get(key);
  if (known) return known;
  const full: EnsembleOptions = Object.freeze({
    ...DEFAULTS,
    ...options,
    fast: Object.freeze({ ...DEFAULTS.fast, ...options.fast }),
    slow: Object.freeze({ ...DEFAULTS.slow, ...options.slow }),
    daily: Object.freeze({ ...DEFAULTS.daily, ...options.daily }),
  });
  if (resolved.size < MAX_SHARED_CONFIGURATIONS) resolved.set(key, full);
  return full;
}

/** Registry entry for the default ensemble detector. */
export const ensemble: DetectorDefinition<EnsembleOptions, EnsembleState> = {
  method: 'ensemble',
  description: 'Spikes, level shifts, variance changes, time-of-day deviations and all-time records, calibrated on the series, combined into one score.',
  defaults: DEFAULTS,
  create: (options) => new Ensemble(withDefaults(options), ...emptyState()),
  restore: (state) => {
    const [s, c] = emptyState();
    // Version 1 had no range: it restores with an empty one, so records wait until the range has history.
    const scalars = state.version === 1 ? s.subarray(0, V1_SCALARS) : s;
    if (!unpackState(state.state, scalars, c)) {
      throw new Error(`ensemble state v${state.version} does not match this version's layout; start a fresh detector`);
    }
    // Versions 1 and 2 kept the variance view's means in |z|, not in steps of the metric: start both from
    // the mean step that the fast level's spread implies, so the view reads "as usual" until it re-learns.
    if (state.version < 3) s[VARIANCE_SHORT] = s[VARIANCE_LONG] = MEAN_STEP_PER_SIGMA * levelSigma(s, FAST, s[QUANTUM]!);
    return new Ensemble(withDefaults(state.options as Partial<EnsembleOptions>), s, c);
  },
};
