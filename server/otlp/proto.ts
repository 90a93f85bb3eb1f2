/**
 * OTLP metrics on the wire: decodes an `ExportMetricsServiceRequest` from protobuf (`otlp_proto`,
 * `application/x-protobuf`) or OTLP/JSON (`otlp_json`, `application/json`) into plain objects, and
 * encodes the few messages changewatch writes (one resource's request, the export response).
 *
 * Decoding is protobufjs's, driven by a reflection descriptor of the stable OTLP v1 messages
 * (opentelemetry-proto's `collector/metrics/v1`, `metrics/v1`, `resource/v1`, `common/v1`): the
 * message names, field names, numbers and types of those files, limited to the fields changewatch
 * reads. Fields it leaves out (exemplars, scopes, metadata, schema URLs) are skipped on decode like any
 * unknown field. Both encodings go through the same protobufjs message type (`decode` for protobuf,
 * `fromObject` for JSON) and come out through the same `toObject`, so they are read identically: 64-bit
 * integers as numbers (nanosecond times lose sub-microsecond precision, which milliseconds never
 * needed), enums as numbers, absent scalars absent. The tests check this descriptor against payloads
 * the OpenTelemetry JS SDK's own serializers produce.
 */
import protobuf from 'protobufjs';
import { createError, type ChangewatchError } from '../errors.ts';

/** How an OTLP payload is encoded: the OpenTelemetry Collector's Kafka exporter names. */
export const OTLP_ENCODINGS = ['otlp_proto', 'otlp_json'] as const;
/** An OTLP payload encoding. */
export type OtlpEncoding = (typeof OTLP_ENCODINGS)[number];

/** `AggregationTemporality` of OTLP. */
export const TEMPORALITY = { unspecified: 0, delta: 1, cumulative: 2 } as const;
/** `DataPointFlags.FLAG_NO_RECORDED_VALUE`: the point marks a stream gone stale and holds no value. */
export const FLAG_NO_RECORDED_VALUE = 1;

/** An attribute value as decoded (one of the fields is set). */
export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number;
  doubleValue?: number;
  arrayValue?: { values: AnyValue[] };
  kvlistValue?: { values: KeyValue[] };
  /** base64. */
  bytesValue?: string;
}
export interface KeyValue {
  key?: string;
  value?: AnyValue;
}
interface PointCommon {
  attributes: KeyValue[];
  startTimeUnixNano?: number;
  timeUnixNano?: number;
  flags?: number;
}
export interface NumberDataPoint extends PointCommon {
  asDouble?: number;
  asInt?: number;
}
export interface HistogramDataPoint extends PointCommon {
  count?: number;
  sum?: number;
  bucketCounts: number[];
  explicitBounds: number[];
  min?: number;
  max?: number;
}
export interface ExponentialBuckets {
  offset?: number;
  bucketCounts: number[];
}
export interface ExponentialHistogramDataPoint extends PointCommon {
  count?: number;
  sum?: number;
  scale?: number;
  zeroCount?: number;
  positive?: ExponentialBuckets;
  negative?: ExponentialBuckets;
  min?: number;
  max?: number;
  zeroThreshold?: number;
}
export interface SummaryDataPoint extends PointCommon {
  count?: number;
  sum?: number;
  quantileValues: Array<{ quantile?: number; value?: number }>;
}
export interface OtlpMetric {
  name?: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints: NumberDataPoint[] };
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints: HistogramDataPoint[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality?: number };
  summary?: { dataPoints: SummaryDataPoint[] };
}
export interface OtlpResourceMetrics {
  resource?: { attributes: KeyValue[] };
  scopeMetrics: Array<{ metrics: OtlpMetric[] }>;
}
/** A decoded `ExportMetricsServiceRequest`. */
export interface OtlpMetricsRequest {
  resourceMetrics: OtlpResourceMetrics[];
}

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const packed = (type: string, id: number) => ({ rule: 'repeated', type, id, options: { packed: true } });
const attributes = (id: number) => repeated('KeyValue', id);

/** The OTLP v1 messages changewatch reads, in protobufjs's JSON descriptor form (one flat namespace: names are not on the wire). */
const DESCRIPTOR = {
  nested: {
    AnyValue: {
      oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
        arrayValue: { type: 'ArrayValue', id: 5 },
        kvlistValue: { type: 'KeyValueList', id: 6 },
        bytesValue: { type: 'bytes', id: 7 },
      },
    },
    ArrayValue: { fields: { values: repeated('AnyValue', 1) } },
    KeyValueList: { fields: { values: repeated('KeyValue', 1) } },
    KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
    Resource: { fields: { attributes: attributes(1), droppedAttributesCount: { type: 'uint32', id: 2 } } },
    ExportMetricsServiceRequest: { fields: { resourceMetrics: repeated('ResourceMetrics', 1) } },
    ExportMetricsServiceResponse: { fields: { partialSuccess: { type: 'ExportMetricsPartialSuccess', id: 1 } } },
    ExportMetricsPartialSuccess: { fields: { rejectedDataPoints: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } } },
    ResourceMetrics: { fields: { resource: { type: 'Resource', id: 1 }, scopeMetrics: repeated('ScopeMetrics', 2) } },
    ScopeMetrics: { fields: { metrics: repeated('Metric', 2) } },
    Metric: {
      oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } },
      fields: {
        name: { type: 'string', id: 1 },
        description: { type: 'string', id: 2 },
        unit: { type: 'string', id: 3 },
        gauge: { type: 'Gauge', id: 5 },
        sum: { type: 'Sum', id: 7 },
        histogram: { type: 'Histogram', id: 9 },
        exponentialHistogram: { type: 'ExponentialHistogram', id: 10 },
        summary: { type: 'Summary', id: 11 },
      },
    },
    AggregationTemporality: {
      values: { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 },
    },
    Gauge: { fields: { dataPoints: repeated('NumberDataPoint', 1) } },
    Sum: {
      fields: {
        dataPoints: repeated('NumberDataPoint', 1),
        aggregationTemporality: { type: 'AggregationTemporality', id: 2 },
        isMonotonic: { type: 'bool', id: 3 },
      },
    },
    Histogram: { fields: { dataPoints: repeated('HistogramDataPoint', 1), aggregationTemporality: { type: 'AggregationTemporality', id: 2 } } },
    ExponentialHistogram: {
      fields: { dataPoints: repeated('ExponentialHistogramDataPoint', 1), aggregationTemporality: { type: 'AggregationTemporality', id: 2 } },
    },
    Summary: { fields: { dataPoints: repeated('SummaryDataPoint', 1) } },
    NumberDataPoint: {
      oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
      fields: {
        attributes: attributes(7),
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        asDouble: { type: 'double', id: 4 },
        asInt: { type: 'sfixed64', id: 6 },
        flags: { type: 'uint32', id: 8 },
      },
    },
    HistogramDataPoint: {
      fields: {
        attributes: attributes(9),
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        count: { type: 'fixed64', id: 4 },
        sum: { type: 'double', id: 5 },
        bucketCounts: packed('fixed64', 6),
        explicitBounds: packed('double', 7),
        flags: { type: 'uint32', id: 10 },
        min: { type: 'double', id: 11 },
        max: { type: 'double', id: 12 },
      },
    },
    ExponentialHistogramDataPoint: {
      fields: {
        attributes: attributes(1),
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        count: { type: 'fixed64', id: 4 },
        sum: { type: 'double', id: 5 },
        scale: { type: 'sint32', id: 6 },
        zeroCount: { type: 'fixed64', id: 7 },
        positive: { type: 'ExponentialBuckets', id: 8 },
        negative: { type: 'ExponentialBuckets', id: 9 },
        flags: { type: 'uint32', id: 10 },
        min: { type: 'double', id: 12 },
        max: { type: 'double', id: 13 },
        zeroThreshold: { type: 'double', id: 14 },
      },
    },
    ExponentialBuckets: { fields: { offset: { type: 'sint32', id: 1 }, bucketCounts: packed('uint64', 2) } },
    SummaryDataPoint: {
      fields: {
        attributes: attributes(7),
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        count: { type: 'fixed64', id: 4 },
        sum: { type: 'double', id: 5 },
        quantileValues: repeated('ValueAtQuantile', 6),
        flags: { type: 'uint32', id: 8 },
      },
    },
    ValueAtQuantile: { fields: { quantile: { type: 'double', id: 1 }, value: { type: 'double', id: 2 } } },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
const requestType = root.lookupType('ExportMetricsServiceRequest');
const responseType = root.lookupType('ExportMetricsServiceResponse');
/** Plain objects out: numbers for 64-bit integers and enums, base64 bytes, empty arrays for absent repeated fields, no defaults. */
const PLAIN: protobuf.IConversionOptions = { longs: Number, enums: Number, bytes: String, arrays: true, defaults: false };

/** The encoding a Content-Type names, or undefined for any other type. */
export function encodingOfContentType(contentType: string | undefined): OtlpEncoding | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'otlp_proto';
  if (type === 'application/json') return 'otlp_json';
  return undefined;
}

/** The Content-Type of an encoding. */
export function contentTypeOf(encoding: OtlpEncoding): string {
  return encoding === 'otlp_proto' ? 'application/x-protobuf' : 'application/json';
}

/** Decodes an OTLP metrics export request; never throws. */
export function decodeOtlpMetrics(bytes: Uint8Array, encoding: OtlpEncoding, maxBytes: number): { ok: true; value: OtlpMetricsRequest } | { ok: false; error: ChangewatchError } {
  if (bytes.length > maxBytes) {
    return { ok: false, error: createError('CW_EVENT_TOO_LARGE', `OTLP payload is ${bytes.length} bytes, over the ${maxBytes}-byte limit`, { size: bytes.length, maxBytes }) };
  }
  try {
    let message: protobuf.Message;
    if (encoding === 'otlp_proto') {
      message = requestType.decode(bytes);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
      } catch (err) {
        return { ok: false, error: createError('CW_EVENT_INVALID_JSON', `OTLP/JSON payload is not valid JSON: ${(err as Error).message}`) };
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return { ok: false, error: createError('CW_OTLP_DECODE', 'an OTLP/JSON ExportMetricsServiceRequest must be a JSON object with "resourceMetrics"') };
      }
      message = requestType.fromObject(parsed);
    }
    return { ok: true, value: requestType.toObject(message, PLAIN) as unknown as OtlpMetricsRequest };
  } catch (err) {
    const what = encoding === 'otlp_proto' ? 'protobuf' : 'OTLP/JSON';
    return { ok: false, error: createError('CW_OTLP_DECODE', `not a ${what} ExportMetricsServiceRequest: ${(err as Error).message}`.slice(0, 500)) };
  }
}

/** Encodes a request (as `decodeOtlpMetrics` returns it, or part of one) as OTLP protobuf. */
export function encodeOtlpMetrics(request: OtlpMetricsRequest): Uint8Array {
  return requestType.encode(requestType.fromObject(request as unknown as Record<string, unknown>)).finish();
}

/**
 * The body of an OTLP/HTTP export response in `encoding`: empty on full success, with
 * `partialSuccess` when some data points were refused.
 */
export function encodeExportResponse(encoding: OtlpEncoding, partial?: { rejectedDataPoints: number; errorMessage: string }): Buffer {
  const body = partial ? { partialSuccess: { rejectedDataPoints: partial.rejectedDataPoints, errorMessage: partial.errorMessage } } : {};
  if (encoding === 'otlp_json') {
    // OTLP/JSON writes 64-bit integers as decimal strings.
    const json = partial ? { partialSuccess: { rejectedDataPoints: String(partial.rejectedDataPoints), errorMessage: partial.errorMessage } } : {};
    return Buffer.from(JSON.stringify(json));
  }
  return Buffer.from(responseType.encode(responseType.fromObject(body)).finish());
}
