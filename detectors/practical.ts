/**
 * The default detector: statistical rarity and practical significance together.
 *
 * Two detectors see every point of the series:
 * - a **calibrated** one (the `ensemble`, or the `proportion` test for error ratios) says how rare the
 *   value is among the series' own history; it knows spikes, variance changes and time-of-day patterns,
 *   but it needs long history to be sure and it learns each incident as a little more normal;
 * - the **effect** detector (`effect.ts`) says whether the level moved by a size that matters for the
 *   metric's kind, clearly beyond its noise, from about 25 points of history.
 *
 * `score = max(effect, calibrated × min(1, size)²)`, where `size` is the recent level's change against the
 * kind's effect size (1 at exactly that size). So a change of operational size alerts quickly even on
 * short history or after earlier incidents (the effect detector), and a statistically rare wiggle that
 * changes nothing that matters cannot page (its calibrated score is damped by the square of how far it
 * falls short of the size). For a `gauge`, whose unit says nothing about what size matters, the size is
 * unknown and both scores count as they are.
 *
 * Counters are turned into per-second rates first (a decrease is a reset). Bands are clipped to the
 * kind's domain: ratios in [0, 1], latencies, rates and utilizations never below 0.
 */
import { createEffect, restoreEffect, type EffectDetector, type EffectOptions, type EffectState } from './effect.ts';
import { ensemble, type EnsembleOptions, type EnsembleState } from './ensemble.ts';
import { DEFAULT_EFFECT_SIZES, domainOf, type EffectSize, type MetricKind } from './metric-kind.ts';
import { proportion } from './proportion.ts';
import { safeScore } from './internal/sanitize.ts';
import type { Detector, DetectorDefinition, DetectorState, Point, Score } from './types.ts';

/** Options of the practical detector. */
export interface PracticalOptions {
  /** The metric's kind (`metricKindOf`); decides the calibrated detector, the scale and the effect size. */
  kind: MetricKind;
  /** The smallest change that matters; defaults to the kind's. */
  size: EffectSize;
  /** Options passed to the effect detector (beyond kind and size). */
  effect: Partial<Omit<EffectOptions, 'kind' | 'size'>>;
  /** Options passed to the ensemble, for kinds that use it. */
  ensemble: Partial<EnsembleOptions>;
}

/** Serialized state: both detectors' states and the counter's last reading. */
export interface PracticalState {
  calibrated: DetectorState;
  effect: DetectorState<EffectState> | null;
  counter: { value: number; time: number } | null;
}

/** The score of evidence exactly at the effect detector's threshold. */
const HALF = 0.5;

const DEFAULTS: PracticalOptions = { kind: 'gauge', size: DEFAULT_EFFECT_SIZES.gauge, effect: {}, ensemble: {} };

class Practical implements Detector<PracticalState> {
  readonly method = 'practical';
  private readonly domain: { min: number; max: number };

  constructor(
    private readonly options: PracticalOptions,
    private readonly calibrated: Detector,
    /** Only kinds with an effect size have one: for the others it would be computed and never read. */
    private readonly effect: EffectDetector | null,
    private counter: { value: number; time: number } | null,
  ) {
    this.domain = domainOf(options.kind);
  }

  update(point: Point): Score {
    const seen = this.options.kind === 'counter' ? this.rateOf(point) : point;
    if (seen === undefined) {
      const expected = (this.effect ?? this.calibrated).update({ timestamp: point.timestamp, value: NaN }).expected;
      return { score: 0, expected, lower: expected, upper: expected, reason: this.counter ? 'counter reset or repeated timestamp' : 'warming up' };
    }
    const byRarity = this.calibrated.update(seen);
    // For a gauge nothing says what size matters, and a z-score of unknown calibration would drown the
    // calibrated ranking, so rarity decides alone.
    if (this.effect === null) return this.clipped(byRarity);
    // For a kind with an effect size, only a change of that size pages; rarity then says how sure we are.
    const byEffect = this.effect.update(seen);
    if (byEffect.score < HALF || byEffect.score >= byRarity.score) return byEffect;
    return this.clipped(byRarity);
  }

  /** The verdict with its score made safe and its band clipped to the kind's domain (the same object when nothing changes). */
  private clipped(verdict: Score): Score {
    const { min, max } = this.domain;
    const inside = verdict.lower >= min && verdict.upper <= max && verdict.expected >= min && verdict.expected <= max;
    if (inside && Number.isFinite(verdict.score)) return verdict;
    return { ...verdict, score: safeScore(verdict.score), lower: this.clip(verdict.lower), upper: this.clip(verdict.upper), expected: this.clip(verdict.expected) };
  }

  silence(now: number): Score {
    const verdict = this.calibrated.silence?.(now);
    return verdict ?? { score: 0, expected: NaN, lower: NaN, upper: NaN, reason: 'reporting' };
  }

  /** The counter's per-second rate since its previous reading; undefined for the first reading and repeated timestamps. */
  private rateOf(point: Point): Point | undefined {
    const value = Number(point.value);
    if (!Number.isFinite(value) || !Number.isFinite(point.timestamp)) return { timestamp: point.timestamp, value: NaN };
    const previous = this.counter;
    if (previous && point.timestamp <= previous.time) return undefined;
    this.counter = { value, time: point.timestamp };
    if (!previous) return undefined;
    // A counter that went down was reset: what it counted since the reset is its value.
    const counted = value >= previous.value ? value - previous.value : value;
    return { timestamp: point.timestamp, value: counted / ((point.timestamp - previous.time) / 1000) };
  }

  private clip(x: number): number {
    return Number.isNaN(x) ? x : Math.max(this.domain.min, Math.min(this.domain.max, x));
  }

  toJSON(): DetectorState<PracticalState> {
    return {
      method: this.method,
      version: 1,
      options: structuredClone(this.options) as unknown as Record<string, unknown>,
      state: { calibrated: this.calibrated.toJSON(), effect: this.effect && this.effect.toJSON(), counter: this.counter && { ...this.counter } },
    };
  }
}

/** The calibrated detector each kind uses: the proportion test for ratios, else the ensemble on the kind's scale. */
function calibratedFor(options: PracticalOptions): Detector {
  if (options.kind === 'ratio') return proportion.create();
  const transform = options.kind === 'latency' || options.kind === 'size' ? 'log' : 'none';
  return ensemble.create({ transform, ...options.ensemble });
}

function withDefaults(options: Partial<PracticalOptions> = {}): PracticalOptions {
  const kind = options.kind ?? DEFAULTS.kind;
  return Object.freeze({ ...DEFAULTS, size: DEFAULT_EFFECT_SIZES[kind], ...options, kind });
}

/** True when the kind has an effect size in at least one direction. */
function isSized(options: PracticalOptions): boolean {
  return options.size.up !== null || options.size.down !== null;
}

function effectFor(options: PracticalOptions): Partial<EffectOptions> {
  return { ...options.effect, kind: options.kind, size: options.size };
}

/** Registry entry for the practical (default) detector. */
export const practical: DetectorDefinition<PracticalOptions, PracticalState> = {
  method: 'practical',
  description: 'Statistical rarity (ensemble or proportion test) and practical significance (effect size by metric kind) combined: a change that matters alerts quickly, a rare wiggle that does not cannot page.',
  defaults: DEFAULTS,
  create: (partial) => {
    const options = withDefaults(partial);
    return new Practical(options, calibratedFor(options), isSized(options) ? createEffect(effectFor(options)) : null, null);
  },
  restore: (state) => {
    const options = withDefaults(state.options as Partial<PracticalOptions>);
    const saved = state.state;
    const calibrated = saved.calibrated.method === 'proportion' ? proportion.restore(saved.calibrated as never) : ensemble.restore(saved.calibrated as DetectorState<EnsembleState>);
    return new Practical(options, calibrated, saved.effect && restoreEffect(saved.effect), saved.counter ? { ...saved.counter } : null);
  },
};
