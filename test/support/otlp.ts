/**
 * OTLP metrics payloads for tests, built with the OpenTelemetry JS SDK's own data model
 * (`ResourceMetrics` of @opentelemetry/sdk-metrics, resources of @opentelemetry/resources) and encoded by
 * its own OTLP serializers (@opentelemetry/otlp-transformer): the bytes a real OpenTelemetry exporter
 * sends, not bytes this project wrote.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

export { AggregationTemporality };

/** Epoch ms as the SDK's HrTime. */
export function hr(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

const descriptor = (name: string, unit = '') => ({ name, description: '', unit, valueType: ValueType.DOUBLE });

/** One data point's timing and attributes. */
export interface PointSpec {
  /** End of the interval, epoch ms. */
  at: number;
  /** Start of the interval (delta) or of the stream (cumulative), epoch ms; defaults to 10 s before `at` for delta, T0 − 1 h for cumulative. */
  start?: number;
  attributes?: Attributes;
}

export function gauge(name: string, points: Array<PointSpec & { value: number }>, unit = ''): MetricData {
  return {
    descriptor: descriptor(name, unit),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map((p) => ({ startTime: hr(p.start ?? p.at), endTime: hr(p.at), attributes: p.attributes ?? {}, value: p.value })),
  };
}

export function sum(name: string, temporality: AggregationTemporality, points: Array<PointSpec & { value: number }>, options: { monotonic?: boolean; unit?: string } = {}): MetricData {
  return {
    descriptor: descriptor(name, options.unit),
    aggregationTemporality: temporality,
    dataPointType: DataPointType.SUM,
    isMonotonic: options.monotonic ?? true,
    dataPoints: points.map((p) => ({ startTime: hr(startOf(p, temporality)), endTime: hr(p.at), attributes: p.attributes ?? {}, value: p.value })),
  };
}

export function histogram(
  name: string,
  temporality: AggregationTemporality,
  points: Array<PointSpec & { boundaries: number[]; counts: number[]; sum: number; min?: number; max?: number }>,
  unit = 's',
): MetricData {
  return {
    descriptor: descriptor(name, unit),
    aggregationTemporality: temporality,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: points.map((p) => ({
      startTime: hr(startOf(p, temporality)),
      endTime: hr(p.at),
      attributes: p.attributes ?? {},
      value: {
        buckets: { boundaries: p.boundaries, counts: p.counts },
        sum: p.sum,
        count: p.counts.reduce((a, b) => a + b, 0),
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
      },
    })),
  };
}

export function exponentialHistogram(
  name: string,
  temporality: AggregationTemporality,
  points: Array<PointSpec & { scale: number; zeroCount: number; positive: { offset: number; bucketCounts: number[] }; sum: number; min?: number; max?: number }>,
  unit = 'ms',
): MetricData {
  return {
    descriptor: descriptor(name, unit),
    aggregationTemporality: temporality,
    dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
    dataPoints: points.map((p) => ({
      startTime: hr(startOf(p, temporality)),
      endTime: hr(p.at),
      attributes: p.attributes ?? {},
      value: {
        count: p.zeroCount + p.positive.bucketCounts.reduce((a, b) => a + b, 0),
        sum: p.sum,
        scale: p.scale,
        zeroCount: p.zeroCount,
        positive: p.positive,
        negative: { offset: 0, bucketCounts: [] },
        min: p.min ?? 0,
        max: p.max ?? 0,
      },
    })),
  };
}

/** Stream start of cumulative points in these tests: an hour before the first point anyone uses. */
export const STREAM_START = Date.UTC(2026, 2, 2, 13, 0, 0);

function startOf(p: PointSpec, temporality: AggregationTemporality): number {
  if (p.start !== undefined) return p.start;
  return temporality === AggregationTemporality.DELTA ? p.at - 10_000 : STREAM_START;
}

/** One resource's metrics; `resource` attributes as the SDK's resource (service.name, service.version, deployment.environment.name, …). */
export function resourceMetrics(resource: Attributes, metrics: MetricData[]): ResourceMetrics {
  return { resource: resourceFromAttributes(resource), scopeMetrics: [{ scope: { name: 'changewatch-test', version: '1.0.0' }, metrics }] };
}

/** The SDK's OTLP protobuf encoding of an export request holding `metrics`. */
export function otlpProto(metrics: ResourceMetrics): Buffer {
  return Buffer.from(ProtobufMetricsSerializer.serializeRequest(metrics)!);
}

/** The SDK's OTLP/JSON encoding of an export request holding `metrics`. */
export function otlpJson(metrics: ResourceMetrics): Buffer {
  return Buffer.from(JsonMetricsSerializer.serializeRequest(metrics)!);
}
