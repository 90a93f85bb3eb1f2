/**
 * Proportion test for error ratios: is this interval's ratio more than its request count can explain?
 *
 * The baseline rate is the ratio of EWMA error counts to EWMA request counts (so busy intervals weigh
 * more), and the statistic is a binomial z-score `(p − p₀) / √(p₀(1 − p₀)/n)`: 3 errors in 10 requests is
 * noise, 300 in 1,000 is an incident. Without `count` on a point, the running mean count is assumed.
 * By default only increases count (`direction: 'up'`): fewer errors is not an incident.
 *
 * Incidents do not make it deaf to the next one. From a point rarer than 1 in 1,000, the points of an
 * episode are learned as pending (scores during it are unchanged); once the ratio has been ordinary
 * against the history from before the episode for 5 points, an episode that reached 1 in 10,000 (an
 * anomaly) is taken back out of the calibration and the baseline returns to its rate from before it,
 * while an episode that stayed below is kept as ordinary noise. An anomaly that lasts `episodeLimit`
 * points is a new normal and is kept.
 *
 * @example
 * ```ts
 * const d = proportion.create();
 * for (let i = 0; i < 300; i++) d.update({ timestamp: i * 60_000, value: 0.01, count: 1000 });
 * d.update({ timestamp: 300 * 60_000, value: 0.31, count: 1000 }).reason;
 * // "0.31 vs expected 0.01 ± 0.0126: 1000 events, rarer than 1 in …"
 * ```
 */
import { unpackState } from './internal/packed-state.ts';
import {
  BASE_CELLS,
  BASE_SCALARS,
  CalibratedDetector,
  HALF_SCORE_SURPRISE,
  TAIL_SLOT,
  type CalibratedOptions,
  type CalibratedState,
  type Observation,
} from './internal/calibrated.ts';
import { PENDING_SCALARS, TAIL_BINS, tailCommit, tailDiscard, tailLearn, tailLearnPending, tailSurpriseCommitted } from './internal/tail.ts';
import type { DetectorDefinition, Point } from './types.ts';

/** Options of the proportion detector. */
export interface ProportionOptions extends CalibratedOptions {
  /** EWMA rate of the baseline counts (1 / horizon in points). */
  rate: number;
  /** Events assumed behind a point that has no `count` before any count was seen. */
  assumedCount: number;
  /** `up` scores only ratios above the baseline; `both` also scores drops. */
  direction: 'up' | 'both';
  /** Half-width of the shown band, in binomial σ. */
  bandSigmas: number;
  /**
   * Points after which an anomaly that has not ended becomes the series' history (a new normal): until
   * then its points are kept apart and forgotten when it ends, so the next incident is judged against
   * the history before this one.
   */
  episodeLimit: number;
}

const DEFAULTS: ProportionOptions = { warmup: 30, tailDecay: 0.0003, rate: 0.01, assumedCount: 100, direction: 'up', bandSigmas: 4, episodeLimit: 1000 };

const HITS = BASE_SCALARS;
const TRIALS = HITS + 1;
/** Points seen when the open episode began (0: none open). */
const EPISODE_AT = TRIALS + 1;
/** The baseline counts just before the open episode began. */
const HITS_BEFORE = EPISODE_AT + 1;
const TRIALS_BEFORE = HITS_BEFORE + 1;
/** Consecutive ordinary points against the history from before the episode. */
const NORMAL_RUN = TRIALS_BEFORE + 1;
/** Largest surprise of the open episode against the baseline and history from before it. */
const PEAK = NORMAL_RUN + 1;
const PENDING_TOTAL = PEAK + 1;
const SCALARS = PENDING_TOTAL + PENDING_SCALARS - BASE_SCALARS;
/** What the calibration histogram learned during the open episode. */
const PENDING = BASE_CELLS;
const CELLS = TAIL_BINS;
/** Scalars of a version 1 state (hits and trials only, no cells of its own). */
const V1_SCALARS = 2;

/** A point this surprising (1 in 1,000) opens a possible anomaly: its points are learned as pending. */
const EPISODE_OPENS = 3;
/** An episode that reached this surprise (score 0.5) against the history before it was an anomaly: it is forgotten when it ends. */
const EPISODE_ANOMALOUS = HALF_SCORE_SURPRISE;
/** A point less surprising than this (1 in 100) against the baseline and history from before the episode is ordinary. */
const EPISODE_CLOSES = 2;
/** An episode ends after this many consecutive ordinary points (so a canary's interleaved per-version points do not end it). */
const EPISODE_CLOSE_RUN = 5;

class Proportion extends CalibratedDetector<ProportionOptions> {
  readonly method = 'proportion';
  protected override readonly version = 2;
  /** The baseline counts before the current point was learned: where an anomaly opened at this point starts from. */
  private hitsBefore = 0;
  private trialsBefore = 0;

  protected start(x: number, _time: number, point: Point): void {
    const trials = this.trials(point);
    this.s[HITS] = ratio(x) * trials;
    this.s[TRIALS] = trials;
  }

  protected observe(x: number, _time: number, n: number, point: Point): Observation {
    const { s, options } = this;
    const p = ratio(x);
    const trials = this.trials(point);
    if (s[EPISODE_AT]! > 0) this.followEpisode(p, trials, n);
    const baseline = rateOf(s[HITS]!, s[TRIALS]!);
    const sigma = Math.sqrt((baseline * (1 - baseline)) / trials);
    const z = (p - baseline) / sigma;
    const learn = Math.max(options.rate, 1 / n);
    this.hitsBefore = s[HITS]!;
    this.trialsBefore = s[TRIALS]!;
    s[HITS] = s[HITS]! + learn * (p * trials - s[HITS]!);
    s[TRIALS] = s[TRIALS]! + learn * (trials - s[TRIALS]!);
    return {
      statistic: this.statisticOf(z),
      expected: baseline,
      band: options.bandSigmas * sigma,
      what: `${Math.round(trials)} events`,
    };
  }

  /**
   * An anomaly's points are learned as pending: the scores during the anomaly are exactly what they would
   * be otherwise (it stops paging as its points become familiar), but once it ends they are taken back out.
   */
  protected override learnTail(learned: number, surprise: number): void {
    const { s, c, options } = this;
    if (s[EPISODE_AT] === 0 && surprise >= EPISODE_OPENS) {
      s[EPISODE_AT] = this.count;
      s[HITS_BEFORE] = this.hitsBefore;
      s[TRIALS_BEFORE] = this.trialsBefore;
      s[NORMAL_RUN] = 0;
      s[PEAK] = surprise;
    }
    if (s[EPISODE_AT]! > 0) tailLearnPending(s, TAIL_SLOT, c, 0, learned, options.tailDecay, PENDING_TOTAL, PENDING);
    else tailLearn(s, TAIL_SLOT, c, 0, learned, options.tailDecay);
  }

  /**
   * Ends the open anomaly once the ratio has been ordinary against the baseline and history from before it
   * for `EPISODE_CLOSE_RUN` points: the baseline goes back to its value before the anomaly and the
   * calibration forgets the anomaly's points, so a series that had an incident is as alert to the next one
   * as it was to the first. An anomaly that lasts `episodeLimit` points is a new normal and is kept.
   */
  private followEpisode(p: number, trials: number, n: number): void {
    const { s, c } = this;
    const before = rateOf(s[HITS_BEFORE]!, s[TRIALS_BEFORE]!);
    const z = (p - before) / Math.sqrt((before * (1 - before)) / trials);
    const surprise = tailSurpriseCommitted(s, TAIL_SLOT, c, 0, this.statisticOf(z), PENDING_TOTAL, PENDING);
    if (surprise > s[PEAK]!) s[PEAK] = surprise;
    s[NORMAL_RUN] = surprise < EPISODE_CLOSES ? s[NORMAL_RUN]! + 1 : 0;
    if (s[NORMAL_RUN]! >= EPISODE_CLOSE_RUN) {
      if (s[PEAK]! >= EPISODE_ANOMALOUS) {
        tailDiscard(s, TAIL_SLOT, c, 0, PENDING_TOTAL, PENDING);
        // Back to the ratio from before, at today's volume.
        if (s[TRIALS_BEFORE]! > 0) s[HITS] = (s[HITS_BEFORE]! / s[TRIALS_BEFORE]!) * s[TRIALS]!;
      } else {
        // Only noise: it stays learned like any other points.
        tailCommit(s, c, PENDING_TOTAL, PENDING);
      }
      s[EPISODE_AT] = 0;
    } else if (n - s[EPISODE_AT]! >= this.options.episodeLimit) {
      tailCommit(s, c, PENDING_TOTAL, PENDING);
      s[EPISODE_AT] = 0;
    }
  }

  private statisticOf(z: number): number {
    return this.options.direction === 'up' ? Math.max(0, z) : Math.abs(z);
  }

  /** Events behind a point: its count, else the running mean count, else `assumedCount`. */
  private trials(point: Point): number {
    const count = Number(point.count);
    if (Number.isFinite(count) && count > 0) return Math.min(count, 1e12);
    return this.s[TRIALS]! > 0 ? this.s[TRIALS]! : this.options.assumedCount;
  }
}

/** The baseline rate from EWMA counts; add-one smoothing keeps it off 0 and 1, where the binomial variance would vanish. */
function rateOf(hits: number, trials: number): number {
  return (hits + 1) / (trials + 2);
}

/** Clamps a ratio into [0, 1] (a producer may send a percentage by mistake; it saturates, never breaks). */
function ratio(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Registry entry for the proportion detector. */
export const proportion: DetectorDefinition<ProportionOptions, CalibratedState> = {
  method: 'proportion',
  description: 'Flags error ratios that their event counts cannot explain, with a binomial test against a weighted baseline rate.',
  defaults: DEFAULTS,
  create: (options) => new Proportion({ ...DEFAULTS, ...options }, ...CalibratedDetector.allocate(SCALARS, CELLS)),
  restore: (state) => {
    const options = { ...DEFAULTS, ...(state.options as Partial<ProportionOptions>) };
    if (state.version !== 1) return new Proportion(options, ...CalibratedDetector.load(state.state, SCALARS, CELLS));
    // Version 1 had no anomaly bookkeeping: it restores with none open.
    const [s, c] = CalibratedDetector.allocate(SCALARS, CELLS);
    if (!unpackState(state.state, s.subarray(0, BASE_SCALARS + V1_SCALARS), c.subarray(0, BASE_CELLS))) {
      throw new Error('proportion state v1 does not match its layout; start a fresh detector');
    }
    return new Proportion(options, s, c);
  },
};
