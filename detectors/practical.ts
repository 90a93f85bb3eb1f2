/**
 * The default detector: practical significance where the metric's kind says what size of change matters,
 * statistical rarity where it does not.
 *
 * - For latencies, error ratios, rates, counters and utilizations (kinds with an effect size,
 *   `metric-kind.ts`) the **effect** detector (`effect.ts`) decides: has the level moved by a size that
 *   matters for the kind, clearly beyond its noise? Its evidence is both statistical (standard errors
 *   from the recent level of the series) and practical (the size against the effect size), from about 25
 *   points of history, with no memory of earlier incidents to make the next one look normal.
 * - For sizes and other gauges, whose unit says nothing about what size matters, the **calibrated**
 *   `ensemble` decides: how rare is the value among the series' own history?
 *
 * Until 2026-12-02 the sized kinds ran the calibrated detector (the ensemble, or the `proportion` test for
 * error ratios) beside the effect detector, and took the larger score once the effect detector paged. On
 * the sensitivity grid (`npm run bench:sensitivity -- --quick`) that changed no detection and no false
 * alarm, while it doubled the CPU per point and tripled the state per series, so it was removed.
 *
 * Counters are turned into per-second rates first (a decrease is a reset). Bands are clipped to the
 * kind's domain: ratios in [0, 1], latencies, rates and utilizations never below 0.
 */
import { createEffect, restoreEffect, type EffectOptions, type EffectState } from './effect.ts';
import { ensemble, type EnsembleOptions, type EnsembleState } from './ensemble.ts';
import { DEFAULT_EFFECT_SIZES, domainOf, type EffectSize, type MetricKind } from './metric-kind.ts';
import { safeScore } from './internal/sanitize.ts';
import type { Detector, DetectorDefinition, DetectorState, Point, Score } from './types.ts';

/** Options of the practical detector. */
export interface PracticalOptions {
  /** The metric's kind (`metricKindOf`); decides which detector runs, its scale and the effect size. */
  kind: MetricKind;
  /** The smallest change that matters; defaults to the kind's. */
  size: EffectSize;
  /** The unit of the values (`unitOf`: 100 for a ratio sent in percent); clips to [0, unit] for ratios. */
  unit: number;
  /** Options passed to the effect detector (beyond kind, size and unit). */
  effect: Partial<Omit<EffectOptions, 'kind' | 'size' | 'unit'>>;
  /** Options passed to the ensemble, for kinds without an effect size. */
  ensemble: Partial<EnsembleOptions>;
}

/** Serialized state: the inner detector's state and the counter's last reading. */
export interface PracticalState {
  inner: DetectorState;
  counter: { value: number; time: number } | null;
}

const DEFAULTS: PracticalOptions = { kind: 'gauge', size: DEFAULT_EFFECT_SIZES.gauge, unit: 1, effect: {}, ensemble: {} };

class Practical implements Detector<PracticalState> {
  readonly method = 'practical';
  private readonly domain: { min: number; max: number };

  constructor(
    private readonly options: PracticalOptions,
    /** The effect detector for kinds with an effect size, the ensemble for the others. */
    private readonly inner: Detector,
    private counter: { value: number; time: number } | null,
  ) {
    this.domain = domainOf(options.kind, options.unit);
  }

  update(point: Point): Score {
    if (this.options.kind !== 'counter') return this.clipped(this.inner.update(point));
    const seen = this.rateOf(point);
    if (seen === undefined) {
      const expected = this.inner.update({ timestamp: point.timestamp, value: NaN }).expected;
      return { score: 0, expected, lower: expected, upper: expected, reason: this.counter ? 'counter reset or repeated timestamp' : 'warming up', judged: NaN };
    }
    // The band is about the rate, not the counter's running total: say which value it judged.
    return { ...this.clipped(this.inner.update(seen)), judged: Number(seen.value) };
  }

  silence(now: number): Score {
    return this.inner.silence?.(now) ?? { score: 0, expected: NaN, lower: NaN, upper: NaN, reason: 'reporting' };
  }

  /** The verdict with its score made safe and its band clipped to the kind's domain (the same object when nothing changes). */
  private clipped(verdict: Score): Score {
    const { min, max } = this.domain;
    const inside = verdict.lower >= min && verdict.upper <= max && verdict.expected >= min && verdict.expected <= max;
    if (inside && verdict.score >= 0 && verdict.score <= 1) return verdict;
    return { ...verdict, score: safeScore(verdict.score), lower: this.clip(verdict.lower), upper: this.clip(verdict.upper), expected: this.clip(verdict.expected) };
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
      version: 2,
      options: structuredClone(this.options) as unknown as Record<string, unknown>,
      state: { inner: this.inner.toJSON(), counter: this.counter && { ...this.counter } },
    };
  }
}

/** True when the kind has an effect size in at least one direction. */
function isSized(options: PracticalOptions): boolean {
  return options.size.up !== null || options.size.down !== null;
}

/** The inner detector of a kind: the effect detector when it has an effect size, else the ensemble on the kind's scale. */
function innerFor(options: PracticalOptions): Detector {
  if (isSized(options)) return createEffect({ ...options.effect, kind: options.kind, size: options.size, unit: options.unit });
  return ensemble.create({ transform: options.kind === 'size' ? 'log' : 'none', ...options.ensemble });
}

function withDefaults(options: Partial<PracticalOptions> = {}): PracticalOptions {
  const kind = options.kind ?? DEFAULTS.kind;
  return Object.freeze({ ...DEFAULTS, size: DEFAULT_EFFECT_SIZES[kind], ...options, kind });
}

/** Registry entry for the practical (default) detector. */
export const practical: DetectorDefinition<PracticalOptions, PracticalState> = {
  method: 'practical',
  description: 'Practical significance (a change of the metric kind\'s effect size, clearly beyond its noise) for latencies, ratios, rates, counters and utilizations; statistical rarity (the ensemble) for sizes and other gauges.',
  defaults: DEFAULTS,
  create: (partial) => {
    const options = withDefaults(partial);
    return new Practical(options, innerFor(options), null);
  },
  restore: (state) => {
    if (state.version !== 2) throw new Error(`practical state v${state.version} does not match this version's layout; start a fresh detector`);
    const options = withDefaults(state.options as Partial<PracticalOptions>);
    const saved = state.state;
    const inner = saved.inner.method === 'effect' ? restoreEffect(saved.inner as DetectorState<EffectState>) : ensemble.restore(saved.inner as DetectorState<EnsembleState>);
    return new Practical(options, inner, saved.counter ? { ...saved.counter } : null);
  },
};
