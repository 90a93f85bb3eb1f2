/**
 * From a decoded OTLP metrics request to readings: one per data point, with its service, version,
 * environment and tags, in event-time milliseconds. Stateless: what needs the previous point of the
 * same stream (cumulative sums and histograms) is done by `OtlpStreams` (streams.ts), which turns
 * readings into `TelemetryPoint`s. The names of those points are decided here (`outputNames`) and
 * documented in docs/otel.md.
 */
import type { TelemetryPoint } from '../../contract/events.ts';
import { createError, type ChangewatchError, type ErrorCode } from '../errors.ts';
import { validateEvent } from '../wire/decode.ts';
import { explicitBuckets, exponentialBuckets, type Distribution } from './distribution.ts';
import { FLAG_NO_RECORDED_VALUE, TEMPORALITY, type AnyValue, type KeyValue, type OtlpMetric, type OtlpMetricsRequest } from './proto.ts';

/** Quantiles estimated from every histogram, and the suffix of each one's metric. */
export const HISTOGRAM_QUANTILES: ReadonlyArray<readonly [q: number, suffix: string]> = [
  [0.5, 'p50'],
  [0.9, 'p90'],
  [0.99, 'p99'],
];

/** What every reading carries: its stream's identity and its time. */
export interface ReadingBase {
  service: string;
  /** The OTLP metric name. */
  metric: string;
  /** End of the point's interval (time_unix_nano), epoch ms. */
  timestamp: number;
  /** Start of a delta point's interval or of a cumulative stream (start_time_unix_nano), epoch ms; 0 when not sent. */
  start: number;
  /** Point attributes, then `version` and `environment` from the resource. */
  tags: Record<string, string>;
}

/** A data point, mapped. */
export type Reading =
  /** A gauge, or a non-monotonic cumulative sum (an up-down counter's current value). */
  | (ReadingBase & { kind: 'level'; value: number })
  /** A monotonic sum: what it counted over its interval (delta) or since its start (cumulative). */
  | (ReadingBase & { kind: 'count'; temporality: 'delta' | 'cumulative'; value: number })
  /** A histogram, exponential histogram or summary; a summary's quantiles come as sent. */
  | (ReadingBase & { kind: 'distribution'; temporality: 'delta' | 'cumulative'; dist: Distribution; quantiles?: Array<[q: number, value: number]> });

/** Data points of one metric (or a whole resource) refused for one reason. */
export interface Refusal {
  /** Index of the resource in the request's `resourceMetrics`. */
  index: number;
  error: ChangewatchError;
  /** What the dead letter holds: a JSON summary of what was refused. */
  original: string;
}

/** The readings and refusals of one request. */
export interface MappedRequest {
  readings: Reading[];
  refusals: Refusal[];
  /** Data points refused (one refusal may stand for many). */
  refusedPoints: number;
  /** Data points in the request (stale markers included). */
  dataPoints: number;
}

/** The name of the per-second rate of a monotonic sum: the name with `.per_sec`. */
export function rateName(metric: string): string {
  return `${metric}.per_sec`;
}

/**
 * A histogram's observation rate is named after what it observes, without the word naming its unit of
 * measure (`http.server.request.duration` → `http.server.request.per_sec`): a rate whose name says
 * "duration" would be judged as a latency, and its per-version parts averaged instead of added.
 */
export function observationRateName(metric: string): string {
  const base = metric.replace(/[._-]?(duration|latency|response[._-]?time|time|size|bytes|seconds|ms)$/i, '');
  return rateName(base === '' ? metric : base);
}

/** Every metric name a reading of `metric` and `kind` becomes. */
export function outputNames(metric: string, kind: Reading['kind'], summaryQuantiles?: readonly number[]): string[] {
  if (kind === 'level') return [metric];
  if (kind === 'count') return [rateName(metric)];
  const quantiles = summaryQuantiles ? summaryQuantiles.map(quantileSuffix) : HISTOGRAM_QUANTILES.map(([, suffix]) => suffix);
  return [...quantiles.map((suffix) => `${metric}.${suffix}`), `${metric}.mean`, observationRateName(metric)];
}

/** `p50` for 0.5, `p999` for 0.999, `min` and `max` for 0 and 1. */
export function quantileSuffix(q: number): string {
  if (q <= 0) return 'min';
  if (q >= 1) return 'max';
  return `p${String(Math.round(q * 1000) / 10).replace('.', '')}`;
}

/** Maps every data point of `request`; never throws. */
export function mapOtlpMetrics(request: OtlpMetricsRequest): MappedRequest {
  const out: MappedRequest = { readings: [], refusals: [], refusedPoints: 0, dataPoints: 0 };
  request.resourceMetrics.forEach((rm, index) => mapResource(rm, index, out));
  return out;
}

function mapResource(rm: OtlpMetricsRequest['resourceMetrics'][number], index: number, out: MappedRequest): void {
  const resource = attributesOf(rm.resource?.attributes ?? []);
  const metrics = rm.scopeMetrics.flatMap((scope) => scope.metrics);
  const points = metrics.reduce((n, m) => n + dataPointsOf(m).length, 0);
  out.dataPoints += points;
  const service = resource['service.name']?.trim();
  if (!service) {
    if (points === 0) return;
    out.refusedPoints += points;
    out.refusals.push({
      index,
      error: createError('CW_OTLP_NO_SERVICE', `OTLP resource ${index} has no service.name attribute: its ${points} data point(s) are refused (set service.name in the SDK or with the collector's resource processor)`, {
        dataPoints: points,
      }),
      original: JSON.stringify({ resource: resource, metrics: metrics.map((m) => m.name).slice(0, 50) }),
    });
    return;
  }
  const fixed: Record<string, string> = {};
  const version = resource['service.version'];
  const environment = resource['deployment.environment.name'] ?? resource['deployment.environment'];
  if (version) fixed.version = version;
  if (environment) fixed.environment = environment;
  // One refusal per metric and reason, however many of its points share it.
  const refused = new Map<string, Refusal & { points: number }>();
  const refuse = (metric: OtlpMetric, code: ErrorCode, message: string) => {
    out.refusedPoints++;
    const key = `${metric.name}\u0000${code}\u0000${message}`;
    const known = refused.get(key);
    if (known) {
      known.points++;
      return;
    }
    const refusal = { index, points: 1, error: createError(code, message), original: '' };
    refusal.original = JSON.stringify({ service, metric: metric.name ?? '', unit: metric.unit ?? '', type: typeOf(metric) });
    refused.set(key, refusal);
  };
  for (const metric of metrics) mapMetric(metric, service, fixed, out.readings, refuse);
  for (const { points: n, index: at, error, original } of refused.values()) {
    const message = n > 1 ? `${error.message} (${n} data points)` : error.message;
    out.refusals.push({ index: at, error: createError(error.code, message, { metric: JSON.parse(original).metric, dataPoints: n }), original });
  }
}

type Refuse = (metric: OtlpMetric, code: ErrorCode, message: string) => void;

function mapMetric(metric: OtlpMetric, service: string, fixed: Record<string, string>, readings: Reading[], refuse: Refuse): void {
  const name = (metric.name ?? '').trim();
  const points = dataPointsOf(metric);
  if (!name) {
    for (let i = 0; i < Math.max(points.length, 1); i++) refuse(metric, 'CW_EVENT_SCHEMA', 'an OTLP metric has no name');
    return;
  }
  const type = typeOf(metric);
  if (type === 'none') {
    refuse(metric, 'CW_OTLP_UNSUPPORTED', `OTLP metric ${name} holds no gauge, sum, histogram, exponential histogram or summary`);
    return;
  }
  const temporality = metric.sum?.aggregationTemporality ?? metric.histogram?.aggregationTemporality ?? metric.exponentialHistogram?.aggregationTemporality;
  const temporal = temporality === TEMPORALITY.delta ? 'delta' : temporality === TEMPORALITY.cumulative ? 'cumulative' : undefined;
  if (type !== 'gauge' && type !== 'summary' && temporal === undefined) {
    for (let i = 0; i < points.length; i++) refuse(metric, 'CW_OTLP_UNSUPPORTED', `OTLP ${type} ${name} has an unspecified aggregation temporality`);
    return;
  }
  for (const point of points) {
    if (((point.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0) continue;
    const base: ReadingBase = {
      service,
      metric: name,
      timestamp: Math.round((point.timeUnixNano ?? 0) / 1e6),
      start: Math.round((point.startTimeUnixNano ?? 0) / 1e6),
      tags: { ...attributesOf(point.attributes), ...fixed },
    };
    let reading: Reading | string;
    if (type === 'gauge' || type === 'sum') {
      const p = point as { asDouble?: number; asInt?: number };
      const value = p.asDouble ?? p.asInt;
      if (value === undefined) reading = `OTLP ${type} ${name} has a data point without a value`;
      else if (type === 'gauge') reading = { ...base, kind: 'level', value };
      else if (metric.sum!.isMonotonic) reading = { ...base, kind: 'count', temporality: temporal!, value };
      else if (temporal === 'cumulative') reading = { ...base, kind: 'level', value };
      else {
        refuse(metric, 'CW_OTLP_UNSUPPORTED', `OTLP sum ${name} is non-monotonic with delta temporality: a change per interval is no level (export up-down counters with cumulative temporality)`);
        continue;
      }
    } else {
      reading = distributionReading(metric, type, point, base, temporal ?? 'cumulative');
    }
    if (typeof reading === 'string') {
      refuse(metric, 'CW_EVENT_SCHEMA', reading);
      continue;
    }
    const problem = validate(reading);
    if (problem) {
      refuse(metric, problem.code, problem.message);
      continue;
    }
    readings.push(reading);
  }
}

function distributionReading(metric: OtlpMetric, type: 'histogram' | 'exponentialHistogram' | 'summary', point: unknown, base: ReadingBase, temporality: 'delta' | 'cumulative'): Reading | string {
  const name = base.metric;
  if (type === 'summary') {
    const p = point as NonNullable<OtlpMetric['summary']>['dataPoints'][number];
    const quantiles: Array<[number, number]> = [];
    for (const { quantile: q, value } of p.quantileValues) {
      if (q === undefined || value === undefined || !(q >= 0 && q <= 1)) return `OTLP summary ${name} has a quantile outside [0, 1]`;
      quantiles.push([q, value]);
    }
    // A summary's count and sum are cumulative (OTLP); its quantiles are the producer's own, as sent.
    return { ...base, kind: 'distribution', temporality: 'cumulative', dist: { count: p.count ?? 0, ...(p.sum !== undefined ? { sum: p.sum } : {}), buckets: [] }, quantiles };
  }
  let buckets;
  let dist: Distribution;
  if (type === 'histogram') {
    const p = point as NonNullable<OtlpMetric['histogram']>['dataPoints'][number];
    buckets = explicitBuckets(p.explicitBounds, p.bucketCounts);
    if (!buckets) return `OTLP histogram ${name} has ${p.bucketCounts.length} bucket counts for ${p.explicitBounds.length} bounds (or bounds not increasing)`;
    dist = { count: p.count ?? 0, buckets };
    if (p.sum !== undefined) dist.sum = p.sum;
    if (temporality === 'delta' && p.min !== undefined) dist.min = p.min;
    if (temporality === 'delta' && p.max !== undefined) dist.max = p.max;
  } else {
    const p = point as NonNullable<OtlpMetric['exponentialHistogram']>['dataPoints'][number];
    buckets = exponentialBuckets(
      p.scale ?? 0,
      p.zeroCount ?? 0,
      { offset: p.positive?.offset ?? 0, counts: p.positive?.bucketCounts ?? [] },
      { offset: p.negative?.offset ?? 0, counts: p.negative?.bucketCounts ?? [] },
    );
    if (!buckets) return `OTLP exponential histogram ${name} has a scale outside -10..20 or a negative count`;
    dist = { count: p.count ?? 0, buckets };
    if (p.sum !== undefined) dist.sum = p.sum;
    if (temporality === 'delta' && p.min !== undefined) dist.min = p.min;
    if (temporality === 'delta' && p.max !== undefined) dist.max = p.max;
  }
  return { ...base, kind: 'distribution', temporality, dist };
}

/** Checks the points a reading becomes against the telemetry contract (names, tags, time), with the longest of its names. */
function validate(reading: Reading): ChangewatchError | undefined {
  const names = outputNames(reading.metric, reading.kind, reading.kind === 'distribution' ? reading.quantiles?.map(([q]) => q) : undefined);
  const longest = names.reduce((a, b) => (b.length > a.length ? b : a));
  const probe: TelemetryPoint = { service: reading.service, metric: longest, value: reading.kind === 'distribution' ? 0 : reading.value, timestamp: reading.timestamp, tags: reading.tags };
  const checked = validateEvent('metric', probe);
  if (checked.ok) return undefined;
  return createError(checked.error.code, checked.error.message.replace('invalid metric', `OTLP metric ${reading.metric} maps to an invalid point`));
}

type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary' | 'none';

function typeOf(metric: OtlpMetric): MetricType {
  if (metric.gauge) return 'gauge';
  if (metric.sum) return 'sum';
  if (metric.histogram) return 'histogram';
  if (metric.exponentialHistogram) return 'exponentialHistogram';
  if (metric.summary) return 'summary';
  return 'none';
}

function dataPointsOf(metric: OtlpMetric): Array<{ flags?: number; attributes: KeyValue[]; timeUnixNano?: number; startTimeUnixNano?: number }> {
  return metric.gauge?.dataPoints ?? metric.sum?.dataPoints ?? metric.histogram?.dataPoints ?? metric.exponentialHistogram?.dataPoints ?? metric.summary?.dataPoints ?? [];
}

/** Attributes as strings: scalars as written, arrays and maps as JSON, bytes as base64. A key seen twice keeps its last value. */
export function attributesOf(list: readonly KeyValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of list) {
    if (!key || key === '__proto__') continue;
    out[key] = stringOf(value);
  }
  return out;
}

function stringOf(value: AnyValue | undefined): string {
  if (value === undefined) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return String(value.boolValue);
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.doubleValue !== undefined) return String(value.doubleValue);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return JSON.stringify(plain(value));
}

function plain(value: AnyValue | undefined): unknown {
  if (value === undefined) return null;
  if (value.arrayValue) return value.arrayValue.values.map(plain);
  if (value.kvlistValue) return Object.fromEntries(value.kvlistValue.values.map(({ key, value: v }) => [key ?? '', plain(v)]));
  return value.stringValue ?? value.boolValue ?? value.intValue ?? value.doubleValue ?? value.bytesValue ?? null;
}
