/**
 * Practical significance: has the metric's level moved by a size that matters, clearly beyond its noise?
 *
 * The calibrated detectors say how rare a value is among the series' own history, which takes weeks of
 * history to say "1 in 10,000" and learns every incident as a little more normal. This detector asks the
 * question an on-call engineer asks of a graph instead, and needs about 25 points to ask it:
 *
 * - **reference**: the level of roughly the last half hour of event time *before* the newest few points
 *   (a Huber-clipped EWMA in time, fed with each point once it leaves the recent window), with its noise
 *   (mean absolute deviation);
 * - **recent level**: the median and the winsorized mean of the newest 3 and 5 points (5 only where points
 *   come faster than every 45 s), and an EWMA of the deviations over about ten points. The median needs
 *   two of three (three of five) points to agree, so one odd sample (a GC pause, a scrape that caught a
 *   burst) never moves it; the mean of five is the most sensitive test for a step of moderate size; the
 *   EWMA adds up changes too small for five points, such as an error ratio with few errors per point;
 * - **evidence** = min(statistical, practical): `z / zThreshold`, the recent level's distance from the
 *   reference in units of its own standard error (its empirical spread when the series is autocorrelated),
 *   and the size of the change against the kind's effect size (`metric-kind.ts`): `log(r) / log(up)` for
 *   a factor `r`. Both must reach 1 for the score to reach 0.5: a rare wiggle of no size does not page,
 *   and neither does a large-looking change inside the noise. `score = e / (1 + e)`.
 *
 * Latencies, rates, counters and error ratios without counts are modelled on a log scale (multiplicative
 * noise); error ratios with counts on their square root, where binomial noise is 1/(2√n) at every level
 * and never taken below that; utilizations as they are. Utilizations also remember bursts they came back
 * from, so a nightly job's repeat does not page again. A metric that stops reporting scores 0.5 after ten
 * typical intervals (`silence`). Everything is O(1) per point with fixed-size state.
 *
 * @example
 * ```ts
 * const d = effect.create({ kind: 'latency' });
 * for (let i = 0; i < 60; i++) d.update({ timestamp: i * 30_000, value: 200 * (1 + 0.03 * Math.sin(i)) });
 * d.update({ timestamp: 60 * 30_000, value: 450 });
 * d.update({ timestamp: 61 * 30_000, value: 455 }).reason; // "455 vs expected 201: 2.26× its level of the previous half hour, …"
 * ```
 */
import { DEFAULT_EFFECT_SIZES, domainOf, type EffectSize, type MetricKind } from './metric-kind.ts';
import { formatNumber } from './internal/format.ts';
import { packState, unpackState, type PackedState } from './internal/packed-state.ts';
import { clampMagnitude, safeScore } from './internal/sanitize.ts';
import { silenceScore } from './internal/silence.ts';
import type { Detector, DetectorDefinition, DetectorState, Point, Score } from './types.ts';

/** Options of the effect detector. */
export interface EffectOptions {
  /** The metric's kind: decides the scale (log for latencies and rates) and the default effect size. */
  kind: MetricKind;
  /** The smallest change that matters; defaults to the kind's (`DEFAULT_EFFECT_SIZES`). */
  size: EffectSize;
  /**
   * The unit of the values relative to the kind's natural scale (`unitOf`): 100 for a ratio sent in
   * percent. Values are modelled divided by it and answers scaled back, so `minAbsolute` and the
   * binomial noise of counts keep their meaning.
   */
  unit: number;
  /**
   * Standard errors the recent level must be from the reference. At 5, a series of Gaussian noise crosses
   * it about once in ten million points per direction: about once in 100 days at 10 s sampling, the
   * false-page budget of the sensitivity contract (docs/detectors.md).
   */
  zThreshold: number;
  /** Event time the reference level averages over, in ms (its EWMA time constant). */
  referenceMs: number;
  /** Points learned into the reference before any score is given. */
  warmup: number;
}

/** Points in the recent window; the reference learns each point once it leaves the window. */
const WINDOW = 5;
/** The short window: the median of three needs two points to agree, so one odd point never moves it. */
const SHORT = 3;
/** Deviations are winsorized at this many σ before they enter a window mean (a blip counts as 3 σ, not 30). */
const WINSOR_SIGMAS = 3;
/** Standard deviation of the median of three Gaussian values, in σ. */
const MEDIAN3_SD = 0.67;
/** Standard deviation of the median of five Gaussian values, in σ. */
const MEDIAN5_SD = 0.536;
/**
 * Typical interval from which the three-point statistics are used. Slower than this, waiting for a third
 * agreeing point costs minutes; faster, five points take under four minutes and need three to agree.
 */
const SHORT_WINDOW_FROM_MS = 45_000;
/** Mean absolute deviation to σ for Gaussian noise (√(π/2)). */
const ABS_TO_SIGMA = 1.2533;
/** The reference's EWMA rate is at least this per point: a reference of fewer than 5 points is noise. */
const MAX_REFERENCE_RATE = 0.2;
/** EWMA rate of the reference's noise (about 50 points): noise changes slowly. */
const SPREAD_RATE = 0.02;
/** EWMA rate of the empirical spread of each window statistic (about 100 points). */
const EMPIRICAL_RATE = 0.01;
/** On a log scale the noise is never taken below half a percent: steadier than that is quantization. */
const LOG_NOISE_FLOOR = 0.005;
/** EWMA rate of the slow statistic: about ten points of memory. */
const DRIFT_RATE = 0.2;
/** Standard deviation of that EWMA of independent noise, in σ: √(rate / (2 − rate)). */
const DRIFT_SD = Math.sqrt(DRIFT_RATE / (2 - DRIFT_RATE));
/** Points the slow statistic summarizes, for the reason ("over its last 10 points"). */
const DRIFT_POINTS = 10;
/** Below this clarity on every statistic the point is ordinary and the size of the change is not worked out. */
const NEGLIGIBLE_CLARITY = 0.1;
/** Practical evidence given to a remembered burst's size: just short of paging. */
const BELOW_PAGING = 0.9;
/** Offset of the ratio scale: a tenth of a percent, the ratio effect size's own floor. */
const RATIO_OFFSET = 0.001;
/** Half-width, in σ, of the band shown for a kind without an effect size. */
const BAND_SIGMAS = 4;
/**
 * An excursion that is over within this many points is a burst. A utilization that bursts and comes
 * back (a cron job's CPU, a backup's disk) is not paged again for a burst no larger than one it made
 * within about a day; an excursion that lasts longer is a change and is never taken as a pattern. Only
 * saturation metrics remember bursts: batch work moves utilization in bursts on purpose, while a burst
 * of latency, errors or traffic is a symptom each time (and a remembered pair of odd samples would
 * otherwise delay the page of the next real step).
 */
const BURST_POINTS = 6;
/** A burst up to this factor of the remembered one (on the model scale) is the same pattern: bursts vary with noise. */
const BURST_TOLERANCE = 1.25;
/** Event time over which a remembered burst fades (its e-folding time): a daily job is remembered till its next run. */
const BURST_MEMORY_MS = 36 * 3_600_000;
/** EWMA rate of the mean count behind points. */
const COUNT_RATE = 0.05;

// Float64 slots.
const N = 0;
const LAST_TIME = 1;
const INTERVAL = 2;
const LOG_OFFSET = 3;
const LEVEL = 4;
const SPREAD = 5;
const LEARNED = 6;
const COUNT_MEAN = 7;
const QUANTUM = 8;
const FILL = 9;
const POSITION = 10;
/** The empirical spread of each statistic: the short median, the short mean, the long mean, the EWMA. */
const EMPIRICAL = 11;
const STATISTICS = 4;
/** The open excursion (evidence ≥ 1): its points, and its furthest recent level above and below the reference. */
const EXCURSION_POINTS = EMPIRICAL + STATISTICS;
const EXCURSION_HIGH = EXCURSION_POINTS + 1;
const EXCURSION_LOW = EXCURSION_POINTS + 2;
/** The largest recent burst above and below the reference (model-scale deviations), and when each ended. */
const BURST_HIGH = EXCURSION_POINTS + 3;
const BURST_HIGH_AT = BURST_HIGH + 1;
const BURST_LOW = BURST_HIGH + 2;
const BURST_LOW_AT = BURST_HIGH + 3;
/** 1 once a utilization above 1.5 was seen: the series is in percent. */
const PERCENT = BURST_LOW_AT + 1;
/** EWMA of the winsorized deviations from the reference (the slow statistic). */
const DRIFT = PERCENT + 1;
/** An error ratio's scale, chosen at its first point: 0 not yet, `COUNTED` on its square root, `UNCOUNTED` on a log scale. */
const RATIO_SCALE = DRIFT + 1;
const COUNTED = 1;
const UNCOUNTED = 2;
const RING = RATIO_SCALE + 1;
const SCALARS = RING + WINDOW;

/** Serialized state of the effect detector. */
export type EffectState = PackedState;

const DEFAULTS: EffectOptions = {
  kind: 'gauge',
  size: DEFAULT_EFFECT_SIZES.gauge,
  unit: 1,
  zThreshold: 5,
  referenceMs: 30 * 60_000,
  warmup: 20,
};

/** One window statistic's verdict. */
interface Finding {
  evidence: number;
  /** Recent level (median of the window) on the model scale. */
  recent: number;
  z: number;
  points: number;
}

/** The effect detector. */
export class EffectDetector implements Detector<EffectState> {
  readonly method = 'effect';

  /** The scale values are modelled on (decided at the first point for ratios). */
  private scale: 'log' | 'sqrt' | 'none';
  private readonly domain: { min: number; max: number };

  constructor(
    private readonly options: EffectOptions,
    private readonly s: Float64Array,
  ) {
    this.scale = options.kind === 'saturation' || options.kind === 'gauge' ? 'none' : options.kind === 'ratio' && s[RATIO_SCALE] === COUNTED ? 'sqrt' : 'log';
    this.domain = domainOf(options.kind, options.unit);
    this.logUp = Math.log(options.size.up ?? Math.E);
    this.logDown = Math.log(options.size.down ?? 1 / Math.E);
  }

  /** Logarithms of the effect size's factors, worked out once. */
  private readonly logUp: number;
  private readonly logDown: number;

  update(point: Point): Score {
    const s = this.s;
    const value = Number(point.value);
    if (!Number.isFinite(value)) return this.quiet('no value (missing or not a number)');
    const time = Number.isFinite(point.timestamp) ? point.timestamp : s[LAST_TIME]!;
    if (this.options.kind === 'ratio' && s[RATIO_SCALE] === 0) this.chooseRatioScale(point);
    const x = this.transform(clampMagnitude(value));
    if (value > 1.5) s[PERCENT] = 1;
    const n = ++s[N]!;
    if (n > 1 && time > s[LAST_TIME]!) {
      const elapsed = time - s[LAST_TIME]!;
      s[INTERVAL] = s[INTERVAL] === 0 ? elapsed : s[INTERVAL]! + 0.05 * (elapsed - s[INTERVAL]!);
    }
    if (time > s[LAST_TIME]! || n === 1) s[LAST_TIME] = time;
    const count = Number(point.count);
    if (Number.isFinite(count) && count > 0) s[COUNT_MEAN] = s[COUNT_MEAN] === 0 ? count : s[COUNT_MEAN]! + COUNT_RATE * (count - s[COUNT_MEAN]!);

    // The window holds the newest points; the one it pushes out is learned into the reference.
    // Slots as small integers (the state keeps them as doubles), so the ring is indexed on the fast path.
    const fill = s[FILL]! | 0;
    const position = s[POSITION]! | 0;
    if (fill === WINDOW) this.learn(s[RING + position]!);
    else s[FILL] = fill + 1;
    const previous = s[RING + (position === 0 ? WINDOW - 1 : position - 1)]!;
    s[RING + position] = x;
    s[POSITION] = position === WINDOW - 1 ? 0 : position + 1;
    if (n > 1) {
      const step = Math.abs(x - previous);
      if (step > 0 && (s[QUANTUM] === 0 || step < s[QUANTUM]!)) s[QUANTUM] = step;
    }
    return this.judge(value);
  }

  /** Scores the recent window against the reference. */
  private judge(value: number): Score {
    const s = this.s;
    const { options } = this;
    const level = s[LEVEL]!;
    const sigma = this.sigma();
    if (s[LEARNED]! < options.warmup) {
      const shown = this.untransform(s[RING + ((s[POSITION]! + WINDOW - 1) % WINDOW)]!);
      return { score: 0, expected: shown, lower: this.clip(shown), upper: this.clip(shown), reason: 'warming up' };
    }
    // The window's deviations from the reference, newest first (no arrays: this runs for every point).
    const p = s[POSITION]! | 0;
    const d0 = s[RING + ((p + 4) % WINDOW)]! - level;
    const d1 = s[RING + ((p + 3) % WINDOW)]! - level;
    const d2 = s[RING + ((p + 2) % WINDOW)]! - level;
    const d3 = s[RING + ((p + 1) % WINDOW)]! - level;
    const d4 = s[RING + p]! - level;
    const medianShort = median3(d0, d1, d2);
    const medianLong = median5(d0, d1, d2, d3, d4);
    const w = WINSOR_SIGMAS * sigma;
    const meanShort = (winsorize(d0, w) + winsorize(d1, w) + winsorize(d2, w)) / SHORT;
    const meanLong = (SHORT * meanShort + winsorize(d3, w) + winsorize(d4, w)) / WINDOW;
    // Clarity first (cheap); the size of the change, judged on the robust recent level (a median), only
    // when some statistic is clear enough for it to matter or a burst is being followed.
    // Where points come faster than `SHORT_WINDOW_FROM_MS`, three of five points must agree: that costs
    // seconds and ignores a pair of odd samples; where they come slower, two of three must.
    const short = s[INTERVAL]! >= SHORT_WINDOW_FROM_MS;
    const c0 = short ? this.clarity(0, medianShort, MEDIAN3_SD * sigma, medianShort) : this.clarity(0, medianLong, MEDIAN5_SD * sigma, medianLong);
    const c1 = short ? this.clarity(1, meanShort, sigma / Math.sqrt(SHORT), medianShort) : 0;
    const c2 = this.clarity(2, meanLong, sigma / Math.sqrt(WINDOW), medianLong);
    // The slow statistic: an EWMA of the deviations (about ten points), which keeps adding up a change
    // too small for five points to show, such as an error ratio with few errors behind each point.
    s[DRIFT] = s[DRIFT]! + DRIFT_RATE * (winsorize(d0, w) - s[DRIFT]!);
    const c3 = this.clarity(3, s[DRIFT]!, sigma * DRIFT_SD, medianLong);
    const best = this.best;
    const clearest = Math.max(c0, c1, c2, c3);
    this.levelShown = this.untransform(level);
    if (clearest < NEGLIGIBLE_CLARITY && s[EXCURSION_POINTS] === 0) {
      best.evidence = 0;
    } else {
      const sizeShort = this.practical(level, medianShort, true);
      const sizeLong = this.practical(level, medianLong, true);
      if (short) {
        this.keep(Math.min(c0, sizeShort), medianShort, this.zs[0]!, SHORT, true);
        this.keep(Math.min(c1, sizeShort), medianShort, this.zs[1]!, SHORT, false);
      } else {
        this.keep(Math.min(c0, sizeLong), medianLong, this.zs[0]!, WINDOW, true);
      }
      this.keep(Math.min(c2, sizeLong), medianLong, this.zs[2]!, WINDOW, false);
      this.keep(Math.min(c3, sizeLong), medianLong, this.zs[3]!, DRIFT_POINTS, false);
      // Bursts are followed on their size before any remembered burst caps it, so the memory stays fresh
      // (below half the threshold with no excursion open there is nothing to follow).
      if (clearest >= 0.5 || s[EXCURSION_POINTS]! > 0) {
        const unremembered = Math.min(clearest, Math.max(this.practical(level, medianShort, false), this.practical(level, medianLong, false)));
        this.followExcursion(unremembered, medianShort);
      }
    }
    const expected = this.levelShown;
    this.band(level, sigma);
    const lower = this.bandLower;
    const upper = this.bandUpper;
    const score = safeScore(best.evidence / (1 + best.evidence));
    if (best.evidence < 0.3) return { score, expected, lower, upper, reason: 'within the usual range' };
    return { score, expected, lower, upper, reason: this.explain(value, expected, best) };
  }

  /** The strongest statistic of the current point. */
  private readonly best: Finding = { evidence: 0, recent: 0, z: 0, points: SHORT };
  /** The reference's EWMA rate per point and the typical interval it was worked out for (derived, not state). */
  private timeRate = 0;
  private rateInterval = -1;
  /** The normal band of the current point (`band`), kept in fields to spare an array per point. */
  private bandLower = 0;
  private bandUpper = 0;
  /** The reference level in the metric's units, worked out once per point. */
  private levelShown = 0;
  /** The z of each window statistic at the current point. */
  private readonly zs = new Float64Array(STATISTICS);

  /**
   * How clearly window statistic `i` (its value `stat`, its standard error `sd` under independent noise,
   * the median `recent` of its window) stands out: `|z| / zThreshold`, 0 when it disagrees with the
   * robust level's direction (noise around it). Learns the statistic's own spread while it is ordinary.
   */
  private clarity(i: number, stat: number, sd: number, recent: number): number {
    const s = this.s;
    const threshold = this.options.zThreshold;
    const slot = EMPIRICAL + i;
    const spread = Math.max(sd, s[slot]!);
    const z = stat / spread;
    this.zs[i] = z;
    // The statistic's own spread is learned while it is ordinary, so an autocorrelated series (whose
    // window means wander more than independent noise would) needs a larger move, and incidents do not
    // make the next one harder to see.
    if (Math.abs(z) < 0.5 * threshold) s[slot] = s[slot]! + EMPIRICAL_RATE * (ABS_TO_SIGMA * Math.min(Math.abs(stat), 2 * spread) - s[slot]!);
    return z * recent > 0 ? Math.abs(z) / threshold : 0;
  }

  /** Keeps a statistic's evidence in `best` when it is the strongest so far (`first` starts the point afresh). */
  private keep(evidence: number, recent: number, z: number, points: number, first: boolean): void {
    const best = this.best;
    if (!first && evidence <= best.evidence) return;
    best.evidence = evidence;
    best.recent = recent;
    best.z = z;
    best.points = points;
  }

  /**
   * How large the change from `level` to `level + recent` is against the kind's effect size, 1 at
   * exactly that size; `Infinity` for a kind without one (statistics decide alone); 0 for a direction
   * that is never an incident. With `remembering`, a burst no larger than one the series made lately
   * counts just short of paging.
   */
  private practical(level: number, recent: number, remembering: boolean): number {
    const { size } = this.options;
    if (size.up === null && size.down === null) return Infinity;
    const before = this.levelShown;
    // Clipped to the domain: a drop to zero on a log scale comes back as -1e-17, not as zero.
    const now = this.clip(this.untransform(level + recent));
    const up = recent > 0;
    const factor = up ? size.up : size.down;
    if (factor === null) return 0;
    let relative: number;
    if (!(before > 0) || !(now >= 0)) {
      // From nothing (a level of 0), only the absolute floor can speak.
      relative = size.minAbsolute > 0 ? Math.abs(now - before) / this.absoluteFloor() : up ? Infinity : 0;
    } else {
      relative = Math.log(Math.max(now / before, 1e-12)) / (up ? this.logUp : this.logDown);
      if (size.minAbsolute > 0) relative = Math.min(relative, Math.abs(now - before) / this.absoluteFloor());
    }
    // A burst no larger than one the series made and came back from lately is its pattern, not news;
    // an excursion that outlasted a burst is a change, whatever the series did before.
    if (remembering && this.options.kind === 'saturation' && this.s[EXCURSION_POINTS]! < BURST_POINTS) {
      const burst = this.rememberedBurst(up);
      if (burst > 0 && Math.abs(recent) <= BURST_TOLERANCE * burst) relative = Math.min(relative, BELOW_PAGING);
    }
    return Math.max(0, relative);
  }

  /** The effect size's absolute floor in the series' units: a utilization seen above 1.5 is in percent. */
  private absoluteFloor(): number {
    const floor = this.options.size.minAbsolute;
    return (this.options.kind === 'saturation' && this.s[PERCENT] === 1 ? 100 * floor : floor) * this.options.unit;
  }

  /** The remembered burst on one side (a model-scale deviation, faded with time since it ended); 0 when none. */
  private rememberedBurst(up: boolean): number {
    const s = this.s;
    const size = up ? s[BURST_HIGH]! : s[BURST_LOW]!;
    if (size === 0) return 0;
    const age = s[LAST_TIME]! - (up ? s[BURST_HIGH_AT]! : s[BURST_LOW_AT]!);
    return size * Math.exp(-Math.max(0, age) / BURST_MEMORY_MS);
  }

  /** Follows the open excursion; when it ends within `BURST_POINTS`, remembers it as a burst. */
  private followExcursion(evidence: number, recent: number): void {
    const s = this.s;
    if (evidence >= 1) {
      s[EXCURSION_POINTS] = s[EXCURSION_POINTS]! + 1;
      s[EXCURSION_HIGH] = Math.max(s[EXCURSION_HIGH]!, recent);
      s[EXCURSION_LOW] = Math.min(s[EXCURSION_LOW]!, recent);
      return;
    }
    if (s[EXCURSION_POINTS] === 0 || evidence >= 0.5) return;
    if (s[EXCURSION_POINTS]! <= BURST_POINTS) {
      const now = s[LAST_TIME]!;
      if (s[EXCURSION_HIGH]! > this.rememberedBurst(true)) {
        s[BURST_HIGH] = s[EXCURSION_HIGH]!;
        s[BURST_HIGH_AT] = now;
      }
      if (-s[EXCURSION_LOW]! > this.rememberedBurst(false)) {
        s[BURST_LOW] = -s[EXCURSION_LOW]!;
        s[BURST_LOW_AT] = now;
      }
    }
    s[EXCURSION_POINTS] = 0;
    s[EXCURSION_HIGH] = 0;
    s[EXCURSION_LOW] = 0;
  }

  /** Works out the normal band into `bandLower`/`bandUpper`: the effect size around the reference, or `BAND_SIGMAS` σ without one; clipped to the domain. */
  private band(level: number, sigma: number): void {
    const { size } = this.options;
    const expected = this.levelShown;
    const lower = size.down !== null ? expected * size.down : this.untransform(level - BAND_SIGMAS * sigma);
    let upper = size.up !== null ? expected * size.up : this.untransform(level + BAND_SIGMAS * sigma);
    if (size.up !== null && size.minAbsolute > 0) upper = Math.max(upper, expected + this.absoluteFloor());
    this.bandLower = this.clip(Math.min(lower, expected));
    this.bandUpper = this.clip(Math.max(upper, expected));
  }

  private explain(value: number, expected: number, finding: Finding): string {
    const now = this.clip(this.untransform(this.s[LEVEL]! + finding.recent));
    const ratio = expected > 0 ? now / expected : Infinity;
    const how = `over its last ${finding.points} points, ${formatNumber(Math.abs(finding.z))} standard errors from it`;
    if (this.options.size.up === null && this.options.size.down === null) {
      return `${formatNumber(value)} vs expected ${formatNumber(expected)}: the level moved to ${formatNumber(now)} ${how}`;
    }
    const size = !Number.isFinite(ratio)
      ? 'up from nothing in the previous half hour'
      : ratio < 0.01
        ? 'down to nothing from its level of the previous half hour'
        : `${formatNumber(ratio)}× its level of the previous half hour`;
    return `${formatNumber(value)} vs expected ${formatNumber(expected)}: ${size} (${formatNumber(now)} ${how})`;
  }

  /** Learns a point that left the recent window into the reference level and its noise. */
  private learn(x: number): void {
    const s = this.s;
    const learned = ++s[LEARNED]!;
    if (learned === 1) {
      s[LEVEL] = x;
      return;
    }
    const interval = s[INTERVAL]! > 0 ? s[INTERVAL]! : this.options.referenceMs / 60;
    // The rate follows the typical interval, which moves slowly: work the exponential out again only when it moved.
    if (Math.abs(interval - this.rateInterval) > 0.01 * interval) {
      this.rateInterval = interval;
      this.timeRate = Math.min(MAX_REFERENCE_RATE, 1 - Math.exp(-interval / this.options.referenceMs));
    }
    const rate = Math.max(this.timeRate, 1 / learned);
    const deviation = x - s[LEVEL]!;
    const limit = 3 * this.sigma();
    const clipped = learned <= 10 ? deviation : Math.max(-limit, Math.min(limit, deviation));
    s[LEVEL] = s[LEVEL]! + rate * clipped;
    const size = learned <= 10 ? Math.abs(deviation) : Math.min(Math.abs(deviation), 2 * limit);
    s[SPREAD] = s[SPREAD]! + Math.max(SPREAD_RATE, 1 / learned) * (size - s[SPREAD]!);
  }

  /**
   * Picks the scale of an error ratio at its first point. With a `count`, the noise is binomial: the ratio
   * is modelled on its square root, where that noise has the same size at every level (1 / (2√n)) and is
   * nearly symmetric even with a handful of errors per point. Without one, the noise is the producer's,
   * usually multiplicative: the ratio is modelled on log(ratio + 0.1 %), additive near zero where a
   * change is counted in single requests.
   */
  private chooseRatioScale(point: Point): void {
    const counted = Number.isFinite(Number(point.count)) && Number(point.count) > 0;
    this.s[RATIO_SCALE] = counted ? COUNTED : UNCOUNTED;
    this.scale = counted ? 'sqrt' : 'log';
    if (!counted) this.s[LOG_OFFSET] = RATIO_OFFSET;
  }

  /** The per-point noise σ on the model scale, floored by quantization, scale and the binomial noise of counts. */
  private sigma(): number {
    const s = this.s;
    let sigma = ABS_TO_SIGMA * s[SPREAD]! + 0.5 * s[QUANTUM]! + 1e-9 * (1 + Math.abs(s[LEVEL]!));
    if (this.scale === 'log') sigma = Math.max(sigma, LOG_NOISE_FLOOR);
    // The binomial noise of the events behind each point, on the square-root scale: 1 / (2√n).
    if (this.scale === 'sqrt' && s[COUNT_MEAN]! > 0) sigma = Math.max(sigma, 0.5 / Math.sqrt(s[COUNT_MEAN]!));
    return sigma;
  }

  /** Scores the silence since the last point: 0.5 after 10 typical intervals without one (`internal/silence.ts`). */
  silence(now: number): Score {
    const s = this.s;
    const expected = s[LEARNED]! > 0 ? this.untransform(s[LEVEL]!) : NaN;
    return silenceScore(now, s[LAST_TIME]!, s[INTERVAL]!, expected, s[LEARNED]! >= this.options.warmup);
  }

  private quiet(reason: string): Score {
    const expected = this.s[LEARNED]! > 0 ? this.untransform(this.s[LEVEL]!) : NaN;
    return { score: 0, expected, lower: expected, upper: expected, reason };
  }

  private transform(raw: number): number {
    const value = raw / this.options.unit;
    if (this.scale === 'none') return value;
    if (this.scale === 'sqrt') return Math.sqrt(Math.max(value, 0));
    // The offset (1 % of the first non-zero magnitude) keeps zeros finite without assuming units.
    if (this.s[LOG_OFFSET] === 0 && value !== 0) this.s[LOG_OFFSET] = 0.01 * Math.abs(value);
    return Math.log(Math.max(value, 0) + (this.s[LOG_OFFSET] || 1));
  }

  private untransform(y: number): number {
    return this.options.unit * this.fromModel(y);
  }

  /** The model scale back to the kind's natural units. */
  private fromModel(y: number): number {
    if (this.scale === 'none') return y;
    if (this.scale === 'sqrt') return y > 0 ? y * y : 0;
    return Math.exp(Math.min(y, 700)) - (this.s[LOG_OFFSET] || 1);
  }

  private clip(x: number): number {
    return Math.max(this.domain.min, Math.min(this.domain.max, x));
  }

  toJSON(): DetectorState<EffectState> {
    return { method: this.method, version: 1, options: structuredClone(this.options) as unknown as Record<string, unknown>, state: packState(this.s, new Float32Array(0)) };
  }
}

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/** The median of five values without sorting an array (a selection network). */
function median5(a: number, b: number, c: number, d: number, e: number): number {
  // Drop the smaller of the two pairs' minima and the larger of their maxima, then take the median of what is left.
  if (a > b) [a, b] = [b, a];
  if (c > d) [c, d] = [d, c];
  if (a < c) {
    a = e;
    if (a > b) [a, b] = [b, a];
  } else {
    c = e;
    if (c > d) [c, d] = [d, c];
  }
  if (a < c) return b < c ? b : c;
  return d < a ? d : a;
}

function winsorize(x: number, limit: number): number {
  return x > limit ? limit : x < -limit ? -limit : x;
}

function withDefaults(options: Partial<EffectOptions> = {}): EffectOptions {
  const kind = options.kind ?? DEFAULTS.kind;
  return Object.freeze({ ...DEFAULTS, size: DEFAULT_EFFECT_SIZES[kind], ...options, kind });
}

/** Creates an effect detector. */
export function createEffect(options?: Partial<EffectOptions>): EffectDetector {
  return new EffectDetector(withDefaults(options), new Float64Array(SCALARS));
}

/** Restores an effect detector from its `toJSON()`. */
export function restoreEffect(state: DetectorState<EffectState>): EffectDetector {
  const s = new Float64Array(SCALARS);
  if (!unpackState(state.state, s, new Float32Array(0))) throw new Error(`effect state v${state.version} does not match this version's layout; start a fresh detector`);
  return new EffectDetector(withDefaults(state.options as Partial<EffectOptions>), s);
}

/** Registry entry for the effect detector. */
export const effect: DetectorDefinition<EffectOptions, EffectState> = {
  method: 'effect',
  description: 'Level changes of a size that matters for the metric kind (latency +25 %, traffic −25 %, errors 1.3×), clearly beyond the noise, from about 25 points of history.',
  defaults: DEFAULTS,
  create: createEffect,
  restore: restoreEffect,
};
