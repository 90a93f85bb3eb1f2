import { describe, expect, it } from 'vitest';
import type { TelemetryPoint } from '../../../contract/events.ts';
import { metricKindOf } from '../../../detectors/metric-kind.ts';
import { metricSemantics } from '../../../server/pipeline/metric-semantics.ts';
import { mapOtlpMetrics, observationRateName } from '../../../server/otlp/map.ts';
import { decodeOtlpMetrics, encodeOtlpMetrics, type OtlpEncoding } from '../../../server/otlp/proto.ts';
import { OtlpStreams } from '../../../server/otlp/streams.ts';
import {
  AggregationTemporality,
  exponentialHistogram,
  gauge,
  histogram,
  otlpJson,
  otlpProto,
  resourceMetrics,
  sum,
} from '../../support/otlp.ts';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

const T0 = Date.UTC(2026, 2, 2, 14, 0, 0);
const CHECKOUT = { 'service.name': 'checkout', 'service.version': 'v2.4.0', 'deployment.environment.name': 'prod' };
const { DELTA, CUMULATIVE } = AggregationTemporality;

/** Decodes what the SDK serialized, maps it and runs it through fresh stream state: the points the core would get. */
function pointsOf(metrics: ResourceMetrics | ResourceMetrics[], encoding: OtlpEncoding = 'otlp_proto', streams = new OtlpStreams()): TelemetryPoint[] {
  const out: TelemetryPoint[] = [];
  for (const rm of Array.isArray(metrics) ? metrics : [metrics]) {
    const decoded = decodeOtlpMetrics(encoding === 'otlp_proto' ? otlpProto(rm) : otlpJson(rm), encoding, 1_000_000);
    if (!decoded.ok) throw decoded.error;
    const mapped = mapOtlpMetrics(decoded.value);
    expect(mapped.refusals).toEqual([]);
    for (const reading of mapped.readings) out.push(...streams.convert(reading, 'otlp_metrics:0'));
  }
  return out;
}

describe('OTLP metrics → telemetry points', () => {
  it('maps a gauge: service.name, service.version and deployment.environment.name from the resource, point attributes as tags', () => {
    const rm = resourceMetrics(CHECKOUT, [
      gauge('process.cpu.utilization', [{ at: T0, value: 0.42, attributes: { 'cpu.mode': 'user', core: 3, hot: true, ratio: 0.5, list: ['a', 'b'] } }]),
    ]);
    for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
      expect(pointsOf(rm, encoding)).toEqual([
        {
          service: 'checkout',
          metric: 'process.cpu.utilization',
          value: 0.42,
          timestamp: T0,
          tags: { 'cpu.mode': 'user', core: '3', hot: 'true', ratio: '0.5', list: '["a","b"]', version: 'v2.4.0', environment: 'prod' },
        },
      ]);
    }
  });

  it('reads the older deployment.environment, and leaves environment to the pipeline default without either', () => {
    const old = pointsOf(resourceMetrics({ 'service.name': 'a', 'deployment.environment': 'staging' }, [gauge('queue.depth', [{ at: T0, value: 3 }])]));
    expect(old[0]!.tags).toEqual({ environment: 'staging' });
    const none = pointsOf(resourceMetrics({ 'service.name': 'a' }, [gauge('queue.depth', [{ at: T0, value: 3 }])]));
    expect(none[0]!.tags).toBeUndefined();
  });

  it('turns a delta monotonic sum into a per-second rate over its interval', () => {
    const rm = resourceMetrics(CHECKOUT, [sum('http.server.requests', DELTA, [{ at: T0, start: T0 - 10_000, value: 250, attributes: { 'http.route': '/pay' } }])]);
    const [point] = pointsOf(rm, 'otlp_json');
    expect(point).toMatchObject({ metric: 'http.server.requests.per_sec', value: 25, timestamp: T0, tags: { 'http.route': '/pay', version: 'v2.4.0' } });
    expect(metricKindOf(point!.metric)).toBe('rate');
    expect(metricSemantics(point!.metric)).toBe('additive');
  });

  it('turns a cumulative monotonic sum into rates between consecutive points; a lower value is a reset that starts a new baseline, never a negative rate', () => {
    const streams = new OtlpStreams();
    const at = (i: number, value: number) => resourceMetrics(CHECKOUT, [sum('orders.placed', CUMULATIVE, [{ at: T0 + i * 10_000, value }])]);
    const rates = [100, 160, 220, 40, 100, 100].map((value, i) => pointsOf(at(i, value), 'otlp_proto', streams));
    expect(rates.map((points) => points.map((p) => p.value))).toEqual([[], [6], [6], [], [6], [0]]);
    expect(rates[1]![0]!.metric).toBe('orders.placed.per_sec');
    expect(streams.stats()).toMatchObject({ streams: 1, baselines: 1, resets: 1 });
  });

  it('treats a new start time as a reset, and skips a point not later than the previous one', () => {
    const streams = new OtlpStreams();
    const point = (at: number, value: number, start: number) => resourceMetrics(CHECKOUT, [sum('jobs.done', CUMULATIVE, [{ at, value, start }])]);
    expect(pointsOf(point(T0, 10, T0 - 60_000), 'otlp_proto', streams)).toEqual([]);
    expect(pointsOf(point(T0 + 10_000, 50, T0 + 5_000), 'otlp_proto', streams)).toEqual([]);
    expect(pointsOf(point(T0 + 10_000, 60, T0 + 5_000), 'otlp_proto', streams)).toEqual([]);
    expect(pointsOf(point(T0 + 20_000, 70, T0 + 5_000), 'otlp_proto', streams).map((p) => p.value)).toEqual([2]);
    expect(streams.stats()).toMatchObject({ baselines: 1, resets: 1, outOfOrder: 1 });
  });

  it('maps an up-down counter (non-monotonic cumulative sum) to its level', () => {
    const points = pointsOf(resourceMetrics(CHECKOUT, [sum('http.server.active_requests', CUMULATIVE, [{ at: T0, value: 17 }], { monotonic: false })]));
    expect(points).toMatchObject([{ metric: 'http.server.active_requests', value: 17 }]);
  });

  it('estimates p50, p90 and p99 of a delta histogram from its buckets by linear interpolation, with the mean and the observation rate', () => {
    const rm = resourceMetrics(CHECKOUT, [
      histogram('http.server.request.duration', DELTA, [{ at: T0, start: T0 - 10_000, boundaries: [0.1, 0.2, 0.5, 1], counts: [10, 50, 30, 10, 0], sum: 30 }]),
    ]);
    const byName = Object.fromEntries(pointsOf(rm).map((p) => [p.metric, p]));
    // p50: rank 50 of 100 falls 40 into the 50 of (0.1, 0.2]; p90: the top of (0.2, 0.5]; p99: 9 into the 10 of (0.5, 1].
    expect(byName['http.server.request.duration.p50']!.value).toBeCloseTo(0.18, 10);
    expect(byName['http.server.request.duration.p90']!.value).toBeCloseTo(0.5, 10);
    expect(byName['http.server.request.duration.p99']!.value).toBeCloseTo(0.95, 10);
    expect(byName['http.server.request.duration.mean']).toMatchObject({ value: 0.3, count: 100 });
    expect(byName['http.server.request.duration.p99']!.count).toBe(100);
    expect(byName['http.server.request.per_sec']).toMatchObject({ value: 10 });
    expect(byName['http.server.request.per_sec']!.count).toBeUndefined();
    // The names the existing semantics recognize: latencies (weighted by count), and a rate (added across versions).
    expect(metricKindOf('http.server.request.duration.p99')).toBe('latency');
    expect(metricKindOf('http.server.request.duration.mean')).toBe('latency');
    expect(metricKindOf('http.server.request.per_sec')).toBe('rate');
    expect(metricSemantics('http.server.request.per_sec')).toBe('additive');
  });

  it('uses min and max of a delta histogram for its open-ended buckets', () => {
    const rm = resourceMetrics(CHECKOUT, [histogram('db.client.operation.duration', DELTA, [{ at: T0, boundaries: [1, 2], counts: [0, 0, 10], sum: 40, min: 3, max: 5 }])]);
    const byName = Object.fromEntries(pointsOf(rm).map((p) => [p.metric, p.value]));
    // All ten observations lie in (2, +∞), narrowed to [3, 5] by min and max.
    expect(byName['db.client.operation.duration.p50']).toBeCloseTo(4, 10);
    expect(byName['db.client.operation.duration.p99']).toBeCloseTo(4.98, 10);
  });

  it('turns a cumulative histogram into the histogram of each interval, bucket by bucket', () => {
    const streams = new OtlpStreams();
    const at = (i: number, counts: number[], total: number) =>
      resourceMetrics(CHECKOUT, [histogram('rpc.server.duration', CUMULATIVE, [{ at: T0 + i * 60_000, boundaries: [10, 100], counts, sum: total }], 'ms')]);
    expect(pointsOf(at(0, [100, 0, 0], 500), 'otlp_proto', streams)).toEqual([]);
    // In the minute after: 60 observations, all in (10, 100], summing to 3000.
    const next = Object.fromEntries(pointsOf(at(1, [100, 60, 0], 3500), 'otlp_proto', streams).map((p) => [p.metric, p]));
    expect(next['rpc.server.duration.p50']!.value).toBeCloseTo(55, 10);
    expect(next['rpc.server.duration.mean']).toMatchObject({ value: 50, count: 60 });
    expect(next['rpc.server.per_sec']!.value).toBeCloseTo(1, 10);
    // The process restarted: counts went down, a new baseline.
    expect(pointsOf(at(2, [5, 0, 0], 20), 'otlp_proto', streams)).toEqual([]);
  });

  it('estimates quantiles of an exponential histogram from its buckets', () => {
    // Scale 0: bucket i holds (2^i, 2^(i+1)]; offset 3 → (8, 16], (16, 32], (32, 64].
    const rm = resourceMetrics(CHECKOUT, [
      exponentialHistogram('http.client.request.duration', DELTA, [{ at: T0, scale: 0, zeroCount: 0, positive: { offset: 3, bucketCounts: [50, 40, 10] }, sum: 2000, min: 9, max: 60 }]),
    ]);
    const byName = Object.fromEntries(pointsOf(rm).map((p) => [p.metric, p.value]));
    expect(byName['http.client.request.duration.p50']).toBeCloseTo(16, 10);
    expect(byName['http.client.request.duration.p90']).toBeCloseTo(32, 10);
    // 9 into the 10 of (32, 64], narrowed to (32, 60] by max.
    expect(byName['http.client.request.duration.p99']).toBeCloseTo(32 + 28 * 0.9, 10);
    expect(byName['http.client.request.duration.mean']).toBe(20);
  });

  it('refuses the points of a resource without service.name, with a reason', () => {
    const decoded = decodeOtlpMetrics(otlpProto(resourceMetrics({ 'host.name': 'web-1' }, [gauge('queue.depth', [{ at: T0, value: 1 }, { at: T0 + 1, value: 2 }])])), 'otlp_proto', 1e6);
    expect(decoded.ok).toBe(true);
    const mapped = mapOtlpMetrics(decoded.ok ? decoded.value : { resourceMetrics: [] });
    expect(mapped.readings).toEqual([]);
    expect(mapped.refusedPoints).toBe(2);
    expect(mapped.refusals).toHaveLength(1);
    expect(mapped.refusals[0]!.error.code).toBe('CW_OTLP_NO_SERVICE');
    expect(mapped.refusals[0]!.error.message).toMatch(/no service\.name/);
    expect(JSON.parse(mapped.refusals[0]!.original)).toEqual({ resource: { 'host.name': 'web-1' }, metrics: ['queue.depth'] });
  });

  it('refuses, one refusal per metric and reason, what it does not map and points that break the telemetry contract', () => {
    const tooManyTags = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v']));
    const rm = resourceMetrics(CHECKOUT, [
      sum('queue.delta', DELTA, [{ at: T0, value: 1 }, { at: T0 + 10_000, value: -2 }], { monotonic: false }),
      gauge('wide', [{ at: T0, value: 1, attributes: tooManyTags }]),
      gauge('ancient', [{ at: Date.UTC(1990, 0, 1), value: 1 }]),
      gauge('fine', [{ at: T0, value: 1 }]),
    ]);
    const decoded = decodeOtlpMetrics(otlpProto(rm), 'otlp_proto', 1e6);
    const mapped = mapOtlpMetrics(decoded.ok ? decoded.value : { resourceMetrics: [] });
    expect(mapped.readings.map((r) => r.metric)).toEqual(['fine']);
    expect(mapped.refusedPoints).toBe(4);
    expect(mapped.refusals.map((r) => r.error.code)).toEqual(['CW_OTLP_UNSUPPORTED', 'CW_EVENT_SCHEMA', 'CW_EVENT_TIMESTAMP']);
    expect(mapped.refusals[0]!.error.message).toMatch(/non-monotonic with delta temporality.*\(2 data points\)/);
    expect(mapped.refusals[1]!.error.message).toMatch(/at most 32 tags/);
  });

  it('reads several resources of one request (protobuf messages concatenate), and re-encodes one resource as the SDK would', () => {
    const a = otlpProto(resourceMetrics({ 'service.name': 'a' }, [gauge('g', [{ at: T0, value: 1 }])]));
    const b = otlpProto(resourceMetrics({ 'service.name': 'b' }, [gauge('g', [{ at: T0, value: 2 }])]));
    const decoded = decodeOtlpMetrics(Buffer.concat([a, b]), 'otlp_proto', 1e6);
    if (!decoded.ok) throw decoded.error;
    expect(mapOtlpMetrics(decoded.value).readings.map((r) => [r.service, r.kind === 'level' && r.value])).toEqual([['a', 1], ['b', 2]]);
    const again = decodeOtlpMetrics(encodeOtlpMetrics({ resourceMetrics: [decoded.value.resourceMetrics[1]!] }), 'otlp_proto', 1e6);
    expect(again.ok && mapOtlpMetrics(again.value).readings.map((r) => r.service)).toEqual(['b']);
  });

  it('refuses malformed payloads with a reason and never throws', () => {
    const cases: Array<[Buffer, OtlpEncoding, string]> = [
      [Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), 'otlp_proto', 'CW_OTLP_DECODE'],
      [Buffer.from('{"resourceMetrics": '), 'otlp_json', 'CW_EVENT_INVALID_JSON'],
      [Buffer.from('[1,2]'), 'otlp_json', 'CW_OTLP_DECODE'],
      [Buffer.from('{"resourceMetrics": "nope"}'), 'otlp_json', 'CW_OTLP_DECODE'],
      [Buffer.from('{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "x", "gauge": {"dataPoints": 7}}]}]}]}'), 'otlp_json', 'CW_OTLP_DECODE'],
      [Buffer.alloc(2_000), 'otlp_proto', 'CW_EVENT_TOO_LARGE'],
    ];
    for (const [bytes, encoding, code] of cases) {
      const decoded = decodeOtlpMetrics(bytes, encoding, 1_000);
      expect([bytes.toString('hex').slice(0, 20), decoded.ok ? 'ok' : decoded.error.code]).toEqual([bytes.toString('hex').slice(0, 20), code]);
    }
    // Deeply nested attribute values: refused or read, but no crash.
    let nested = '{"stringValue":"x"}';
    for (let i = 0; i < 20_000; i++) nested = `{"arrayValue":{"values":[${nested}]}}`;
    const deep = Buffer.from(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":${nested}}]}}]}`);
    expect(() => decodeOtlpMetrics(deep, 'otlp_json', 10_000_000)).not.toThrow();
  });

  it('names the observation rate of a histogram after what it observes', () => {
    expect(observationRateName('http.server.request.duration')).toBe('http.server.request.per_sec');
    expect(observationRateName('http.server.request.body.size')).toBe('http.server.request.body.per_sec');
    expect(observationRateName('queue.wait')).toBe('queue.wait.per_sec');
  });
});

describe('OTLP stream state', () => {
  const reading = (metric: string, at: number, value: number) => ({ kind: 'count' as const, temporality: 'cumulative' as const, service: 's', metric, timestamp: at, start: 0, tags: {}, value });

  it('keeps at most maxStreams streams, evicting the least recently updated', () => {
    const streams = new OtlpStreams({ maxStreams: 2, idleMs: 3_600_000 });
    streams.convert(reading('a', T0, 1));
    streams.convert(reading('b', T0, 1));
    streams.convert(reading('a', T0 + 1_000, 2));
    streams.convert(reading('c', T0 + 1_000, 1));
    expect(streams.stats()).toMatchObject({ streams: 2, evicted: 1 });
    // b was evicted: its next point is a baseline again; a still has its own.
    expect(streams.convert(reading('b', T0 + 2_000, 5))).toEqual([]);
    expect(streams.convert(reading('c', T0 + 2_000, 3)).map((p) => p.value)).toEqual([2]);
  });

  it('forgets streams idle for idleMs of event time, and a shard dropped when its partition moves away', () => {
    const streams = new OtlpStreams({ maxStreams: 100, idleMs: 60_000 });
    streams.convert(reading('old', T0, 1), 'p:0');
    streams.convert(reading('new', T0, 1), 'p:0');
    streams.convert(reading('new', T0 + 120_000, 2), 'p:0');
    expect(streams.stats()).toMatchObject({ streams: 1, expired: 1 });
    streams.convert(reading('other', T0, 1), 'p:1');
    streams.dropShard('p:0');
    expect(streams.stats().streams).toBe(1);
  });
});
