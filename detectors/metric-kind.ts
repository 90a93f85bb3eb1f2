/**
 * What kind of quantity a metric is, read from its name, and the size of change that matters for each kind.
 *
 * Statistical rarity says a value is unusual for its series; it does not say whether anyone should be woken
 * for it. The effect sizes here are the other half: the smallest sustained change of each kind that an
 * on-call engineer would act on. They are operational judgements, written down with their reasons, and they
 * are configurable (`pipeline.effectSizes`); no benchmark chose them.
 */

/** The kinds of metric the default detector distinguishes. */
export type MetricKind = 'latency' | 'ratio' | 'rate' | 'counter' | 'saturation' | 'size' | 'gauge';

/** Every metric kind, in the order names are matched. */
export const METRIC_KINDS: readonly MetricKind[] = ['ratio', 'counter', 'latency', 'size', 'rate', 'saturation', 'gauge'];

/** Error, failure or success ratios (values in [0, 1]). */
const RATIO_METRIC = /(error|fail|failure|success|timeout|drop|retry)[_.-]?(rate|ratio|fraction|pct|percent)$|_ratio$/i;
/** Monotonic counters by Prometheus naming convention: modelled as per-second rates. */
const COUNTER_METRIC = /_(total|count|sum)$/i;
/** Latencies and durations: multiplicative noise, modelled on a log scale. */
const LATENCY_METRIC = /latency|duration|response[_.-]?time|_p\d{2,3}$|_seconds$|_ms$/i;
/** Sizes (bytes, payloads, queue lengths in bytes): multiplicative noise too, but no size of change is known to matter. */
const SIZE_METRIC = /_bytes$|bytes|size/i;
/** Request and event rates: traffic, throughput. */
const RATE_METRIC = /requests?|traffic|throughput|rps$|qps$|per[_.-]?(sec|second|min|minute)|_rate$|messages|events/i;
/** How full a resource is: CPU, memory, disk, pool and queue utilization. */
const SATURATION_METRIC = /cpu|util|saturation|memory|heap|disk|load|pool|queue|usage/i;

/** The kind of a metric from its name; `gauge` when nothing more specific is known. */
export function metricKindOf(metric: string | undefined): MetricKind {
  const name = metric ?? '';
  if (RATIO_METRIC.test(name)) return 'ratio';
  if (COUNTER_METRIC.test(name)) return 'counter';
  if (LATENCY_METRIC.test(name)) return 'latency';
  if (SIZE_METRIC.test(name)) return 'size';
  if (RATE_METRIC.test(name)) return 'rate';
  if (SATURATION_METRIC.test(name)) return 'saturation';
  return 'gauge';
}

/**
 * The smallest sustained change of a kind that matters. `up` and `down` are factors of the recent level
 * (`null`: a change in that direction is never an incident by itself); `minAbsolute` is a floor on the
 * change in the metric's own units, for kinds where a doubling of almost nothing is still almost nothing.
 */
export interface EffectSize {
  up: number | null;
  down: number | null;
  minAbsolute: number;
}

/**
 * Default effect sizes by kind, each with the operational reason it has:
 * - latency: +25 % on a percentile is what users notice and what latency SLOs are usually budgeted in;
 *   getting faster is not an incident, but a drop to 60 % of the level usually means requests are
 *   short-circuited (failing fast, served from an error path), so it is reported too;
 * - ratio: an error ratio 1.3× its level and up by at least 0.1 percentage point (one more failed request
 *   in a thousand): the contract pages a 1.5× step within 5 points, and a size at 1.3× leaves room for
 *   the noise of the recent level's estimate; fewer errors is never an incident;
 * - rate and counter: traffic down by a quarter (a region, a client or a route lost) or up by 30 %
 *   (capacity planning's usual headroom);
 * - saturation: a utilization 25 % above its level and up by at least 0.2 of its capacity (twenty points
 *   of CPU: a batch job's two-point burst from 2 % to 15 % is nobody's incident, a deploy that takes a
 *   service from 30 % to 55 % is a regression worth a look); a series whose values exceed 1.5 is read as
 *   percent and the floor scales with it. Idle capacity is not an incident, but utilization falling to
 *   half usually means traffic went away;
 * - size and gauge: nothing is known of what size matters, so statistical rarity decides alone.
 */
export const DEFAULT_EFFECT_SIZES: Readonly<Record<MetricKind, Readonly<EffectSize>>> = Object.freeze({
  latency: Object.freeze({ up: 1.25, down: 0.6, minAbsolute: 0 }),
  ratio: Object.freeze({ up: 1.3, down: null, minAbsolute: 0.001 }),
  rate: Object.freeze({ up: 1.3, down: 0.75, minAbsolute: 0 }),
  counter: Object.freeze({ up: 1.3, down: 0.75, minAbsolute: 0 }),
  saturation: Object.freeze({ up: 1.25, down: 0.5, minAbsolute: 0.2 }),
  size: Object.freeze({ up: null, down: null, minAbsolute: 0 }),
  gauge: Object.freeze({ up: null, down: null, minAbsolute: 0 }),
});

/** Problems with an effect size, as sentences; empty when it is valid. */
export function effectSizeProblems(size: EffectSize): string[] {
  const problems: string[] = [];
  if (size.up !== null && !(Number.isFinite(size.up) && size.up > 1)) problems.push(`up must be a factor above 1 or null (got ${size.up})`);
  if (size.down !== null && !(Number.isFinite(size.down) && size.down > 0 && size.down < 1)) problems.push(`down must be a factor between 0 and 1 or null (got ${size.down})`);
  if (!(Number.isFinite(size.minAbsolute) && size.minAbsolute >= 0)) problems.push(`minAbsolute must be a number ≥ 0 (got ${size.minAbsolute})`);
  return problems;
}

/** A ratio named as a percentage (`…_pct`, `…_percent`). */
const PERCENT_NAME = /(pct|percent)$/i;

/**
 * The unit of a metric's values relative to its kind's natural scale: 100 for an error, failure or
 * success ratio named as a percentage (`error_pct` sends 5 for 5 %), else 1. Detectors model ratios as
 * fractions and scale their answers back, so that the binomial noise of counts, the ratio's log offset
 * and the effect size's floor (`minAbsolute`, in fractions) mean the same for `error_rate` and `error_pct`.
 */
export function unitOf(metric: string | undefined): number {
  return metricKindOf(metric) === 'ratio' && PERCENT_NAME.test(metric ?? '') ? 100 : 1;
}

/** The closed range a metric's values live in; infinite ends are unbounded. */
export interface MetricDomain {
  min: number;
  max: number;
}

/** The values a kind can take in `unit`s: ratios in [0, unit], gauges unbounded, everything else never negative. */
export function domainOf(kind: MetricKind, unit = 1): MetricDomain {
  if (kind === 'ratio') return { min: 0, max: unit };
  if (kind === 'gauge') return { min: -Infinity, max: Infinity };
  return { min: 0, max: Infinity };
}

/**
 * The values `metric` can take, from its name: error/failure/success ratios in [0, 1] (named `…_pct` or
 * `…_percent`: in [0, 100]); latencies, sizes, rates, counters and utilizations in [0, ∞); anything
 * else (a gauge of unknown unit, which may be negative) unbounded. Detectors and the pipeline clip to it.
 */
export function metricDomain(metric: string | undefined): MetricDomain {
  return domainOf(metricKindOf(metric), unitOf(metric));
}
