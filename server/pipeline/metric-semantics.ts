/**
 * What a metric's kind says about how its values behave, for the pipeline: how per-version parts of one
 * timestamp combine into one point, and which values the metric can take at all (to clip bands; the
 * domain is the detectors' own, `metricDomain` in detectors/metric-kind.ts, so a series is combined,
 * modelled and clipped as the same kind of quantity in the same units).
 */
import { metricKindOf, type MetricDomain } from '../../detectors/metric-kind.ts';

export { metricDomain, type MetricDomain } from '../../detectors/metric-kind.ts';

/**
 * How the parts of one metric reported separately per version combine into the value of the whole:
 * - `additive`: each part is a share of the whole (request rates, throughput, counters): the sum;
 * - `weighted`: each part is a level of its share (ratios, latencies, sizes, utilizations, gauges): the
 *   mean, weighted by the parts' `count` when every part has one.
 */
export type MetricSemantics = 'additive' | 'weighted';

/**
 * How per-version parts of `metric` combine: `additive` for rates and counters (`request_rate`,
 * `requests_per_sec`, `http_requests_total`, `…_count`, `…_sum`, traffic, throughput, rps, qps), whose
 * parts add up to the whole; `weighted` for everything else (error ratios, latencies, sizes,
 * utilizations, gauges), whose whole is the parts' mean weighted by their counts. `error_rate` is a
 * ratio and `request_latency_ms` a latency, as for the detectors.
 */
export function metricSemantics(metric: string): MetricSemantics {
  const kind = metricKindOf(metric);
  return kind === 'rate' || kind === 'counter' ? 'additive' : 'weighted';
}

/** `value` moved into `domain` (NaN stays NaN). */
export function clipToDomain(value: number, domain: MetricDomain): number {
  return value < domain.min ? domain.min : value > domain.max ? domain.max : value;
}
