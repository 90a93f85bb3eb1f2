/**
 * The one contract every streaming detector implements.
 *
 * A detector sees one series (one service's one metric) point by point in event time and answers,
 * for each point, how anomalous it is and what it expected instead. Detectors are pure: no I/O,
 * no wall clock, no globals, deterministic, and their whole state serializes to JSON.
 */

/** One observation of a series; `timestamp` is event time in epoch milliseconds. */
export interface Point {
  timestamp: number;
  value: number;
  /**
   * How many underlying events this value summarizes (for example the request count behind an
   * error ratio), when the producer knows it. Ratio detectors use it for a proportion test.
   */
  count?: number;
}

/** A detector's verdict on one point. */
export interface Score {
  /** Anomaly score in [0, 1]; 0 during warm-up and for normal points. Never NaN. */
  score: number;
  /** What the detector expected the value to be. */
  expected: number;
  /** Lower edge of the normal band around `expected`. */
  lower: number;
  /** Upper edge of the normal band around `expected`. */
  upper: number;
  /**
   * One short phrase about the value that an on-call engineer understands, without the metric name,
   * for example "0.31 vs expected 0.010 ± 0.002 for this hour of day". The caller prefixes the series name.
   */
  reason: string;
  /**
   * The value `expected` and the band are about, when the detector judged a transform of the input
   * (a counter's per-second rate; NaN when there is none yet); absent: the input value itself.
   */
  judged?: number;
}

/** Serialized detector state: enough to restore a detector that behaves identically from here on. */
export interface DetectorState<S = unknown> {
  method: string;
  version: number;
  options: Record<string, unknown>;
  state: S;
}

/** A streaming detector for one series. */
export interface Detector<S = unknown> {
  /** The registry name of the method, e.g. "robust-zscore". */
  readonly method: string;
  /** Feeds one point and returns its score. Must never throw and never return NaN. */
  update(point: Point): Score;
  /** Serializes the full state; `restore` of the result continues exactly where this one is. */
  toJSON(): DetectorState<S>;
  /**
   * Optional: scores the silence from the last point up to `now` (epoch ms), for a metric that stopped
   * reporting. The caller supplies the clock, so detectors stay pure; nothing is learned.
   */
  silence?(now: number): Score;
}

/** Hints about a series that let a factory pick sensible defaults (ratio vs gauge, latency, ...). */
export interface SeriesHints {
  metric?: string;
  /**
   * The smallest change that matters for this series, overriding its kind's default
   * (`DEFAULT_EFFECT_SIZES` in `metric-kind.ts`): `up`/`down` factors (null: that direction never pages)
   * and a floor on the absolute change.
   */
  effectSize?: { up: number | null; down: number | null; minAbsolute: number };
}

/** How a registry creates and restores detectors of one method. */
export interface DetectorDefinition<O extends object = Record<string, unknown>, S = unknown> {
  readonly method: string;
  /** One sentence on what the method detects. */
  readonly description: string;
  readonly defaults: Readonly<O>;
  create(options?: Partial<O>): Detector<S>;
  restore(state: DetectorState<S>): Detector<S>;
}

/**
 * The default alert threshold: the score at or above which a point is anomalous, for the pipeline (it opens
 * or keeps an alert; `pipeline.alertThreshold` overrides it) and for attribution (the point joins an
 * anomalous episode; the pipeline passes its threshold on). 0.5 because detectors calibrate their scores
 * so that 0.5 is where a page is worth an engineer's time: for the default detector on latencies, error
 * ratios, rates, counters and utilizations, a change of exactly the kind's operational size five standard
 * errors clear of the noise (noise alone crosses that about once in 100 days at 10 s sampling); on sizes
 * and other gauges (the calibrated ensemble), a value rarer than 1 in 10,000 of the series' own points;
 * for a metric that stopped reporting, ten typical intervals without a point (docs/detectors.md).
 */
export const ALERT_THRESHOLD = 0.5;
