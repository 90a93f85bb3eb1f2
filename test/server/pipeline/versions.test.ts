/**
 * Per-version telemetry: the parts of one timestamp are combined by the metric's semantics before the
 * detector sees them, attribution still sees each part, and open alerts tell the current truth.
 */
import { describe, expect, it } from 'vitest';
import type { TelemetryPoint } from '../../../contract/events.ts';
import { createDefaultDetector, restoreDetector } from '../../../detectors/index.ts';
import type { Detector, Point, Score } from '../../../detectors/types.ts';
import type { Alert } from '../../../contract/alert.ts';
import { clipToDomain, metricDomain, metricSemantics } from '../../../server/pipeline/metric-semantics.ts';
import { combineParts, DEFAULT_PIPELINE_OPTIONS, Pipeline, type DetectorFactory, type PipelineSnapshot } from '../../../server/pipeline/pipeline.ts';
import { aChange, metricRecords, stepSeries, T0 } from '../../support/factories.ts';
import { LatestChangeAttributor } from '../../support/latest-change-attributor.ts';

type Input = Parameters<Pipeline['ingest']>[0];

/** The default detector, recording every point it is fed (by series metric); restores keep recording into the same log. */
function recordingDetectors(log: Point[] = []): { detectors: DetectorFactory; fed: Point[] } {
  const wrap = (detector: Detector): Detector => ({
    method: detector.method,
    toJSON: () => detector.toJSON(),
    update: (point) => {
      log.push({ timestamp: point.timestamp, value: point.value, ...(point.count !== undefined ? { count: point.count } : {}) });
      return detector.update(point);
    },
    ...(detector.silence ? { silence: (now: number) => detector.silence!(now) } : {}),
  });
  return { detectors: { create: (hints) => wrap(createDefaultDetector(hints)), restore: (state) => wrap(restoreDetector(state)) }, fed: log };
}

/** A detector with a fixed verdict: anomalous above `threshold`, with the band given (which may leave the metric's domain). */
function fixedDetectors(band: { expected: number; lower: number; upper: number }, threshold: number): DetectorFactory {
  const make = (): Detector => ({
    method: 'fixed',
    toJSON: () => ({ method: 'fixed', version: 1, options: {}, state: null }),
    update: (point): Score => ({ score: point.value > threshold ? 1 : 0, ...band, reason: `${point.value} vs expected ${band.expected}` }),
  });
  return { create: make, restore: make };
}

/** The naive attributor, also recording every observed point with its score. */
class RecordingAttributor extends LatestChangeAttributor {
  observed: Array<{ point: TelemetryPoint; score: number }> = [];
  override observePoint(point?: TelemetryPoint, score?: number): void {
    this.observed.push({ point: point!, score: score! });
  }
}

function run(pipeline: Pipeline, records: Input[]): Alert[] {
  return records.flatMap((r) => pipeline.ingest(r).alerts);
}

/** Deterministic noise around 1. */
const noise = (i: number) => 1 + [0.02, -0.01, 0.03, -0.025, 0.0, 0.015, -0.02, 0.01][i % 8]!;

/** requests_per_sec of checkout every 10 s: `before` points of v1 alone at ~100, then `after` points split 50/50 between v1 and v2. */
function rollout(options: { before?: number; after?: number; withChange?: boolean; versionedBefore?: boolean } = {}): { records: Input[]; splitAt: number } {
  const { before = 200, after = 60, withChange = true, versionedBefore = true } = options;
  const records: Input[] = [];
  const at = (i: number) => T0 + i * 10_000;
  const point = (i: number, value: number, version?: string): Input => ({
    metric: { service: 'checkout', metric: 'requests_per_sec', value, timestamp: at(i), ...(version ? { tags: { version } } : {}) },
  });
  for (let i = 0; i < before; i++) records.push(point(i, 100 * noise(i), versionedBefore ? 'v1' : undefined));
  if (withChange) records.push({ change: aChange({ version: 'v2', previousVersion: 'v1', timestamp: at(before) - 5_000 }) });
  for (let i = before; i < before + after; i++) records.push(point(i, 50 * noise(i), 'v1'), point(i, 50 * noise(i + 3), 'v2'));
  return { records, splitAt: at(before) };
}

describe('per-version points', () => {
  it('sums a rollout that splits requests_per_sec 50/50 between v1 and v2: the detector sees the whole, and no alert is raised', () => {
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const { records, splitAt } = rollout();
    expect(run(pipeline, records)).toEqual([]);
    const split = fed.filter((p) => p.timestamp >= splitAt);
    // One sample per timestamp, each the sum of the halves; every timestamp combined as soon as both versions reported.
    expect(split.map((p) => p.timestamp)).toEqual(Array.from({ length: 60 }, (_, k) => splitAt + k * 10_000));
    split.forEach((p, k) => expect(p.value).toBeCloseTo(50 * noise(200 + k) + 50 * noise(203 + k), 9));
    // v1 alone before: every timestamp fed once (the first waited for the second, having no previous one to compare with).
    expect(fed.filter((p) => p.timestamp < splitAt).map((p) => p.timestamp)).toEqual(Array.from({ length: 200 }, (_, i) => T0 + i * 10_000));
  });

  it('is as quiet when the points carried no version before the rollout', () => {
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const { records, splitAt } = rollout({ versionedBefore: false, withChange: false });
    expect(run(pipeline, records)).toEqual([]);
    expect(fed.filter((p) => p.timestamp >= splitAt).every((p) => p.value > 90)).toBe(true);
  });

  it('without the deploy event, leaves a version that first reports after its timestamp was combined out of that one sum only', () => {
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), { ...DEFAULT_PIPELINE_OPTIONS, alertThreshold: 2 });
    const { records, splitAt } = rollout({ withChange: false, after: 5 });
    run(pipeline, records);
    const split = fed.filter((p) => p.timestamp >= splitAt).map((p) => Math.round(p.value));
    expect(split[0]).toBeLessThan(55); // v1's half alone: v2 was not expected yet
    expect(split.slice(1).every((v) => v > 90)).toBe(true); // from then on v2 is waited for
  });

  it('waits for a version a deploy announced on the series’ environment, until a rollback withdraws it', () => {
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const v1 = (i: number): Input => ({ metric: { service: 'checkout', metric: 'requests_per_sec', value: 100, timestamp: T0 + i * 10_000, tags: { version: 'v1' } } });
    run(pipeline, [v1(0), v1(1)]);
    const fedAfter = (record: Input) => {
      pipeline.ingest(record);
      return fed.length;
    };
    expect(fed).toHaveLength(2); // steady state: v1 alone is combined as soon as it reports
    pipeline.ingest({ change: aChange({ version: 'v2', environment: 'staging', timestamp: T0 + 15_000 }) });
    expect(fedAfter(v1(2))).toBe(3); // another environment's deploy: not waited for
    pipeline.ingest({ change: aChange({ id: 'chg-2', version: 'v2', timestamp: T0 + 25_000 }) });
    expect(fedAfter(v1(3))).toBe(3); // v2 is expected: v1's part waits...
    expect(fedAfter(v1(4))).toBe(4); // ...until the next timestamp at the latest
    pipeline.ingest({ change: aChange({ id: 'chg-3', type: 'rollback', version: 'v1', previousVersion: 'v2', timestamp: T0 + 45_000 }) });
    expect(fedAfter(v1(5))).toBe(6); // rolled back: v2 is no longer waited for
  });

  it('weights a latency by its parts’ counts, or takes the plain mean when a part has none', () => {
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const at = (i: number, value: number, version: string, count?: number): Input => ({
      metric: { service: 'checkout', metric: 'latency_p99', value, timestamp: T0 + i * 10_000, tags: { version }, ...(count !== undefined ? { count } : {}) },
    });
    run(pipeline, [at(0, 100, 'v1', 90), at(0, 200, 'v2', 10), at(1, 100, 'v1', 90), at(1, 200, 'v2'), at(2, 100, 'v1', 0), at(2, 300, 'v2', 0)]);
    expect(fed).toEqual([
      { timestamp: T0, value: 110, count: 100 },
      { timestamp: T0 + 10_000, value: 150 },
      // Counts that are all 0 weigh nothing: the plain mean, and the total count 0.
      { timestamp: T0 + 20_000, value: 200, count: 0 },
    ]);
  });

  it('combines by the metric’s semantics', () => {
    expect(metricSemantics('requests_per_sec')).toBe('additive');
    expect(metricSemantics('request_rate')).toBe('additive');
    expect(metricSemantics('http_requests_total')).toBe('additive');
    expect(metricSemantics('http_request_duration_seconds_count')).toBe('additive');
    expect(metricSemantics('http_request_duration_seconds_sum')).toBe('additive');
    expect(metricSemantics('throughput')).toBe('additive');
    expect(metricSemantics('ingress_qps')).toBe('additive');
    expect(metricSemantics('errors_per_sec')).toBe('additive');
    expect(metricSemantics('error_rate')).toBe('weighted');
    expect(metricSemantics('checkout_failure_ratio')).toBe('weighted');
    expect(metricSemantics('latency_p99')).toBe('weighted');
    expect(metricSemantics('request_latency_ms')).toBe('weighted');
    expect(metricSemantics('cpu_utilization')).toBe('weighted');
    expect(metricSemantics('temperature')).toBe('weighted');
    expect(combineParts([{ value: 40, count: 4 }, { value: 60, count: 6 }], 'additive')).toEqual({ value: 100, count: 10 });
    expect(combineParts([{ value: 40 }, { value: 60, count: 6 }], 'additive')).toEqual({ value: 100 });
    expect(combineParts([{ value: 0.01, count: 900 }, { value: 0.1, count: 100 }], 'weighted').value).toBeCloseTo(0.019, 12);
  });

  it('still shows attribution every version’s own point, scored as the whole was', () => {
    const attributor = new RecordingAttributor();
    const pipeline = new Pipeline(recordingDetectors().detectors, attributor, DEFAULT_PIPELINE_OPTIONS);
    const { records } = rollout({ before: 30, after: 3 });
    run(pipeline, records);
    const sent = records.flatMap((r) => ('metric' in r ? [r.metric] : []));
    // Every original point, the very object, in arrival order; the last timestamp is complete, so it was combined.
    expect(attributor.observed.map((o) => o.point)).toEqual(sent);
    expect(attributor.observed.every((o, i) => o.point === sent[i])).toBe(true);
    const lastTwo = attributor.observed.slice(-2);
    expect(lastTwo.map((o) => o.point.tags?.version)).toEqual(['v1', 'v2']);
    expect(lastTwo[0]!.score).toBe(lastTwo[1]!.score);
  });

  it('applies the lateness rules to parts, and gives attribution a part that comes after its timestamp was combined', () => {
    const attributor = new RecordingAttributor();
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, attributor, DEFAULT_PIPELINE_OPTIONS);
    const { records } = rollout({ before: 40, after: 3, withChange: false });
    run(pipeline, records);
    const newest = T0 + 42 * 10_000;
    const fedBefore = fed.length;
    const late = { service: 'checkout', metric: 'requests_per_sec', value: 7, timestamp: newest, tags: { version: 'v3' } };
    expect(pipeline.ingest({ metric: late }).rejected).toBeUndefined();
    expect(pipeline.ingest({ metric: { ...late, timestamp: newest - 60_000 } }).rejected).toBeUndefined();
    expect(pipeline.ingest({ metric: { ...late, timestamp: newest - DEFAULT_PIPELINE_OPTIONS.maxLatenessMs - 1 } }).rejected?.code).toBe('CW_EVENT_LATE');
    expect(fed.length).toBe(fedBefore); // the detector has moved on
    expect(attributor.observed.at(-2)).toEqual({ point: late, score: attributor.observed.at(-3)!.score }); // its timestamp's score
    expect(attributor.observed.at(-1)!.score).toBe(0); // an older timestamp's score is not known
    // v3 reported for the last combined timestamp: the next one waits for it.
    const next = (version: string): Input => ({ metric: { ...late, value: 40, timestamp: newest + 10_000, tags: { version } } });
    pipeline.ingest(next('v1'));
    pipeline.ingest(next('v2'));
    expect(fed.length).toBe(fedBefore);
    pipeline.ingest(next('v3'));
    expect(fed.at(-1)).toEqual({ timestamp: newest + 10_000, value: 120 });
  });

  it('keeps the buffered parts and the announced versions through a checkpoint', () => {
    const { records } = rollout({ before: 200, after: 40 });
    const whole = recordingDetectors();
    const expected = run(new Pipeline(whole.detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS), records);

    // Cut after the change and v1's half of the first split timestamp: v1's part is buffered, v2 is awaited.
    const cut = records.findIndex((r) => 'change' in r) + 2;
    const log: Point[] = [];
    const first = recordingDetectors(log);
    const pipeline = new Pipeline(first.detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const head = run(pipeline, records.slice(0, cut));
    const snapshot = JSON.parse(JSON.stringify(pipeline.snapshot())) as PipelineSnapshot;
    expect(snapshot.series[0]!.pending).toEqual([(records[cut - 1] as { metric: TelemetryPoint }).metric]);
    expect(snapshot.announced).toEqual([{ service: 'checkout', version: 'v2', environment: 'prod', at: T0 + 200 * 10_000 - 5_000 }]);
    const restored = Pipeline.restore(snapshot, recordingDetectors(log).detectors, LatestChangeAttributor.restore(snapshot.attributor));
    const tail = run(restored, records.slice(cut));
    expect([...head, ...tail]).toEqual(expected);
    expect(log).toEqual(whole.fed);
  });

  it('restores a checkpoint written before per-version combining', () => {
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const { records } = rollout({ before: 20, after: 0, withChange: false });
    run(pipeline, records);
    const snapshot = JSON.parse(JSON.stringify(pipeline.snapshot())) as PipelineSnapshot;
    for (const s of snapshot.series) for (const field of ['versions', 'pending', 'combinedAt', 'combinedScore'] as const) delete s[field];
    delete snapshot.announced;
    const restored = Pipeline.restore(snapshot, detectors, new LatestChangeAttributor());
    const fedBefore = fed.length;
    restored.ingest({ metric: { service: 'checkout', metric: 'requests_per_sec', value: 100, timestamp: T0 + 30 * 10_000, tags: { version: 'v1' } } });
    expect(fed.length).toBe(fedBefore);
    restored.ingest({ metric: { service: 'checkout', metric: 'requests_per_sec', value: 100, timestamp: T0 + 31 * 10_000, tags: { version: 'v1' } } });
    // Nothing to compare the first part with: it waits for the next timestamp, which then goes through at once.
    expect(fed.slice(fedBefore)).toEqual([{ timestamp: T0 + 30 * 10_000, value: 100 }, { timestamp: T0 + 31 * 10_000, value: 100 }]);
  });

  it('combines the parts of a series that stopped reporting once its service has moved on', () => {
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const at = (metric: string, i: number, version?: string): Input => ({
      metric: { service: 'checkout', metric, value: 50, timestamp: T0 + i * 10_000, ...(version ? { tags: { version } } : {}) },
    });
    // The versioned series' first timestamp has nothing to compare with, so it waits: its last one stays buffered.
    run(pipeline, [at('requests_per_sec', 0, 'v1'), at('requests_per_sec', 0, 'v2')]);
    expect(fed).toEqual([]);
    for (let i = 0; i <= 3; i++) run(pipeline, [at('queue_depth', i)]);
    expect(fed.filter((p) => p.value === 100)).toEqual([{ timestamp: T0, value: 100 }]);
  });

  it('feeds unversioned points to the detector at once, unchanged and in order', () => {
    const { detectors, fed } = recordingDetectors();
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const points = stepSeries({ normal: 50, anomalous: 3 }).map((p, i) => (i % 7 === 3 ? { ...p, count: 10 } : p));
    // Out of order within the lateness window, as accepted before.
    [points[10], points[11]] = [points[11]!, points[10]!];
    for (const point of points) {
      const before = fed.length;
      pipeline.ingest({ metric: point });
      expect(fed.length).toBe(before + 1);
    }
    expect(fed).toEqual(points.map(({ timestamp, value, count }) => ({ timestamp, value, ...(count !== undefined ? { count } : {}) })));
  });
});

describe('open alerts', () => {
  it('follow the metric on every point and keep the most extreme value as peak', () => {
    const pipeline = new Pipeline(fixedDetectors({ expected: 100, lower: 90, upper: 110 }, 150), new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const at = (i: number, value: number): Input => ({ metric: { service: 'checkout', metric: 'latency_p99', value, timestamp: T0 + i * 10_000 } });
    const seen: Array<[number, number | undefined]> = [];
    [100, 500, 900, 400, 130, 300].forEach((value, i) => {
      pipeline.ingest(at(i, value));
      const open = pipeline.openAlerts()[0];
      if (open) seen.push([open.observed, open.peak]);
    });
    expect(seen).toEqual([
      [500, 500],
      [900, 900],
      [400, 900],
      [130, 900], // not anomalous, still outside the baseline: the alert stays open and says where the metric is
      [300, 900],
    ]);
    // Emissions carry the same: a heartbeat a minute on shows the latest value.
    const emitted = run(pipeline, [at(12, 120)]);
    expect(emitted.map((a) => [a.observed, a.peak])).toEqual([[120, 900]]);
  });

  it('keep the lowest value as peak for a drop', () => {
    const low: Detector = { method: 'fixed', toJSON: () => ({ method: 'fixed', version: 1, options: {}, state: null }), update: (p) => ({ score: p.value < 60 ? 1 : 0, expected: 100, lower: 90, upper: 110, reason: 'low' }) };
    const pipeline = new Pipeline({ create: () => low, restore: () => low }, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    [100, 40, 20, 50, 80].forEach((value, i) => pipeline.ingest({ metric: { service: 'checkout', metric: 'request_rate', value, timestamp: T0 + i * 10_000 } }));
    expect(pipeline.openAlerts().map((a) => [a.observed, a.peak])).toEqual([[80, 20]]);
  });

  it('clip bands to the metric’s domain: a ratio’s never below 0 nor above 1, a latency’s never below 0, a gauge’s as given', () => {
    const band = { expected: 0.01, lower: -0.05, upper: 1.4 };
    const alertOf = (metric: string, value: number) => {
      const pipeline = new Pipeline(fixedDetectors(band, 0.5), new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
      const alerts = run(pipeline, [{ metric: { service: 'checkout', metric, value: 0.01, timestamp: T0 } }, { metric: { service: 'checkout', metric, value, timestamp: T0 + 10_000 } }]);
      const open = pipeline.snapshot().series[0]!.open!;
      return { alert: alerts[0]!, baseline: open.baseline };
    };
    const ratio = alertOf('error_rate', 1.45);
    expect([ratio.alert.expected, ratio.alert.lower, ratio.alert.upper]).toEqual([0.01, 0, 1]);
    expect(ratio.baseline.lower).toBe(0);
    expect(ratio.baseline.upper).toBe(1);
    const latency = alertOf('latency_p99', 2);
    expect([latency.alert.expected, latency.alert.lower, latency.alert.upper]).toEqual([0.01, 0, 1.4]);
    expect(latency.baseline.lower).toBe(0);
    const gauge = alertOf('temperature_delta', 2);
    expect([gauge.alert.lower, gauge.alert.upper]).toEqual([-0.05, 1.4]);
    expect(gauge.baseline.lower).toBeLessThan(-0.05);
  });

  it('clip a real detector’s band on a low error ratio', () => {
    const pipeline = new Pipeline({ create: createDefaultDetector, restore: restoreDetector }, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS);
    const points = stepSeries({ metric: 'error_rate', normal: 300, anomalous: 10, base: 0.002, factor: 60 });
    const alerts = run(pipeline, metricRecords(points));
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      expect(a.lower).toBeGreaterThanOrEqual(0);
      expect(a.expected).toBeGreaterThanOrEqual(0);
      expect(a.upper).toBeLessThanOrEqual(1);
    }
  });
});

describe('metric domains', () => {
  it('bounds ratios, keeps latencies, rates, counters and sizes non-negative, and leaves gauges open', () => {
    expect(metricDomain('error_rate')).toEqual({ min: 0, max: 1 });
    expect(metricDomain('success_ratio')).toEqual({ min: 0, max: 1 });
    expect(metricDomain('error_percent')).toEqual({ min: 0, max: 100 });
    for (const metric of ['latency_p99', 'requests_per_sec', 'http_requests_total', 'payload_size', 'response_bytes', 'cpu_utilization']) expect(metricDomain(metric)).toEqual({ min: 0, max: Infinity });
    expect(metricDomain('temperature_delta')).toEqual({ min: -Infinity, max: Infinity });
    expect(clipToDomain(-0.2, metricDomain('error_rate'))).toBe(0);
    expect(clipToDomain(Number.NaN, metricDomain('error_rate'))).toBeNaN();
  });
});
