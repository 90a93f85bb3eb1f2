import { describe, expect, it } from 'vitest';
import { createDefaultDetector, restoreDetector } from '../../../detectors/index.ts';
import { DEFAULT_PIPELINE_OPTIONS, isSevereDeviation, Pipeline, type DetectorFactory } from '../../../server/pipeline/pipeline.ts';
import type { Alert } from '../../../contract/alert.ts';
import { aChange, metricRecords, stepSeries, T0 } from '../../support/factories.ts';
import { LatestChangeAttributor } from '../../support/latest-change-attributor.ts';

const detectors: DetectorFactory = { create: createDefaultDetector, restore: restoreDetector };

function newPipeline(): { pipeline: Pipeline; attributor: LatestChangeAttributor } {
  const attributor = new LatestChangeAttributor();
  return { pipeline: new Pipeline(detectors, attributor, DEFAULT_PIPELINE_OPTIONS), attributor };
}

function run(pipeline: Pipeline, records: Parameters<Pipeline['ingest']>[0][]): Alert[] {
  return records.flatMap((r) => pipeline.ingest(r).alerts);
}

describe('Pipeline', () => {
  it('speaks of a counter as its rate: observed, band, severity and the chart are per second, not the running total', () => {
    const { pipeline } = newPipeline();
    // http_requests_total counts about 100 requests a second (a point every 10 s), then 10 a second.
    let total = 5e8;
    const records = [];
    for (let i = 0; i < 400; i++) {
      const rate = (i < 300 ? 100 : 10) * (1 + 0.03 * Math.sin(i * 1.7));
      total += rate * 10;
      records.push({ metric: { service: 'auth', metric: 'http_requests_total', value: total, timestamp: T0 + i * 10_000 } });
    }
    const alerts = run(pipeline, records);
    const alert = alerts.find((a) => a.status === 'firing')!;
    expect(alert).toBeDefined();
    const last = alerts.filter((a) => a.id === alert.id).at(-1)!;
    for (const value of [alert.observed, last.observed, last.peak!]) expect(value).toBeLessThan(20);
    expect(alert.expected).toBeGreaterThan(80);
    expect(alert.expected).toBeLessThan(120);
    expect(alert.upper).toBeLessThan(1_000);
    const [key] = pipeline.history.keysOf('auth', 'http_requests_total');
    const points = pipeline.history.window(key!)!.points;
    expect(Math.max(...points.map((p) => p.value))).toBeLessThan(120);
  });

  it('opens one alert at a level shift, names the latest change, and explains it in one sentence', () => {
    const { pipeline } = newPipeline();
    const points = stepSeries({ normal: 200, anomalous: 10 });
    const onsetTime = points[200]!.timestamp;
    const alerts = run(pipeline, [{ change: aChange({ service: 'checkout', timestamp: onsetTime - 120_000 }) }, ...metricRecords(points)]);
    expect(alerts.length).toBeGreaterThan(0);
    const first = alerts[0]!;
    expect(first).toMatchObject({ status: 'firing', service: 'checkout', metric: 'latency_p99' });
    // The default detector needs two of three (at fast sampling three of five) points of a step to agree
    // before it pages, so one odd point never does.
    expect(points.slice(200, 203).map((p) => new Date(p.timestamp).toISOString())).toContain(first.startedAt);
    expect(first.suspects[0]!.changeId).toBe('chg-1');
    expect(first.explanation).toMatch(/^checkout latency_p99 .* since \d\d:\d\d UTC; most likely deploy chg-1\.$/);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(1);
  });

  it('makes an alert critical when the metric is far out and at least doubled, whatever the score, and never de-escalates it', () => {
    // A criticalScore no score reaches: only the size of the deviation decides.
    const options = { ...DEFAULT_PIPELINE_OPTIONS, criticalScore: 1.01 };
    const severities = (factor: number, after?: number): Alert['severity'][] => {
      const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), options);
      const points = stepSeries({ normal: 200, anomalous: 6, factor });
      if (after !== undefined) points.push(...stepSeries({ start: points.at(-1)!.timestamp + 10_000, normal: 0, anomalous: 6, factor: after }));
      return run(pipeline, metricRecords(points)).map((a) => a.severity);
    };
    const small = severities(1.3);
    expect(small.length).toBeGreaterThan(0);
    expect(small).not.toContain('critical');
    const big = severities(14);
    expect(big[0]).toBe('critical');
    // 14× then 2×: still anomalous, smaller, and the alert stays critical.
    const easing = severities(14, 2);
    expect(easing.length).toBeGreaterThan(1);
    expect(new Set(easing)).toEqual(new Set(['critical']));
  });

  it('judges a deviation by the spread on its side and never by a zero-width band', () => {
    const band = { expected: 0.01, lower: 0.008, upper: 0.012 };
    expect(isSevereDeviation(0.14, band, 3)).toBe(true); // 14×, 65 half-widths up
    expect(isSevereDeviation(0.019, band, 3)).toBe(false); // 4.5 half-widths, not doubled
    expect(isSevereDeviation(0.03, { expected: 0.01, lower: 0, upper: 0.02 }, 3)).toBe(false); // tripled, but 2 half-widths
    expect(isSevereDeviation(30, { expected: 100, lower: 90, upper: 110 }, 3)).toBe(true); // traffic down to a third
    expect(isSevereDeviation(60, { expected: 100, lower: 90, upper: 110 }, 3)).toBe(false); // 4 half-widths down, not halved
    expect(isSevereDeviation(300, { expected: 100, lower: 90, upper: 200 }, 3)).toBe(false); // wide band above
    expect(isSevereDeviation(1, { expected: 0, lower: 0, upper: 0 }, 3)).toBe(false); // constant series
    expect(isSevereDeviation(-5, { expected: -1, lower: -1.1, upper: -0.9 }, 3)).toBe(true); // negative metric, moved by 4× its size
  });

  it('refuses points that would start a series beyond maxSeries, keeps the others going, and keeps the limit after a restore', () => {
    const options = { ...DEFAULT_PIPELINE_OPTIONS, maxSeries: 2 };
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), options);
    const point = (metric: string, i: number) => ({ metric: { service: 'checkout', metric, value: 100 + (i % 3), timestamp: T0 + i * 10_000 } });
    expect(pipeline.ingest(point('a', 0)).rejected).toBeUndefined();
    expect(pipeline.ingest(point('b', 0)).rejected).toBeUndefined();
    const refused = pipeline.ingest(point('c', 0)).rejected;
    expect(refused?.code).toBe('CW_SERIES_LIMIT');
    expect(refused?.message).toMatch(/^checkout c would be a new series, but 2 series are tracked already \(pipeline\.maxSeries\)/);
    expect(pipeline.ingest(point('a', 1)).rejected).toBeUndefined();
    expect(pipeline.seriesCount).toBe(2);

    const restored = Pipeline.restore(pipeline.snapshot(), detectors, new LatestChangeAttributor(), options);
    expect(restored.ingest(point('b', 2)).rejected).toBeUndefined();
    expect(restored.ingest(point('d', 2)).rejected?.code).toBe('CW_SERIES_LIMIT');
    // A lower limit after a restart keeps the series already tracked and refuses new ones.
    const lowered = Pipeline.restore(pipeline.snapshot(), detectors, new LatestChangeAttributor(), { ...options, maxSeries: 1 });
    expect(lowered.seriesCount).toBe(2);
    expect(lowered.ingest(point('a', 3)).rejected).toBeUndefined();
    expect(lowered.ingest(point('e', 3)).rejected?.code).toBe('CW_SERIES_LIMIT');
  });

  it('forgets a series idle for seriesIdleMs, freeing its slot and resolving its "stopped reporting" alert, but keeps one with an anomaly open', () => {
    const options = { ...DEFAULT_PIPELINE_OPTIONS, maxSeries: 3, seriesIdleMs: 10 * 60_000 };
    const pipeline = new Pipeline(detectors, new LatestChangeAttributor(), options);
    const point = (metric: string, i: number, value = 100 + (i % 3)) => ({ metric: { service: 'checkout', metric, value, timestamp: T0 + i * 10_000 } });
    // Three series learn for 200 points; then `spiky` jumps and stays up (an open alert) and `quiet` stops.
    for (let i = 0; i < 200; i++) for (const metric of ['busy', 'quiet', 'spiky']) pipeline.ingest(point(metric, i));
    for (let i = 200; i < 210; i++) {
      pipeline.ingest(point('busy', i));
      pipeline.ingest(point('spiky', i, 5_000));
    }
    expect(pipeline.openAlerts().map((a) => a.metric)).toContain('spiky');
    expect(pipeline.ingest(point('new', 210)).rejected?.code).toBe('CW_SERIES_LIMIT');

    // Ten minutes of event time later `quiet` is forgotten; `spiky`, idle as long but alerting, is not.
    const emitted = [];
    for (let i = 210; i < 275; i++) emitted.push(...pipeline.ingest(point('busy', i)).alerts);
    expect(pipeline.seriesCount).toBe(2);
    const quiet = emitted.filter((a) => a.metric === 'quiet');
    expect(quiet[0]).toMatchObject({ status: 'firing' }); // stopped reporting
    expect(quiet.at(-1)).toMatchObject({ status: 'resolved' });
    expect(quiet.at(-1)!.explanation).toMatch(/^checkout quiet has not reported since \d\d:\d\d UTC while the service's other metrics did; it is no longer tracked\.$/);
    expect(pipeline.openAlerts().map((a) => a.metric)).toContain('spiky');
    expect(pipeline.ingest(point('new', 275)).rejected).toBeUndefined();
    expect(pipeline.seriesCount).toBe(3);
    // It survives a checkpoint as forgotten.
    const restored = Pipeline.restore(pipeline.snapshot(), detectors, new LatestChangeAttributor(), options);
    expect(restored.seriesCount).toBe(3);
    expect(restored.ingest(point('quiet', 276)).rejected?.code).toBe('CW_SERIES_LIMIT');
  });

  it('resolves after the series has been normal for resolveAfterMs of event time, and never before', () => {
    const { pipeline } = newPipeline();
    const spike = stepSeries({ normal: 200, anomalous: 3 });
    const back = stepSeries({ start: spike.at(-1)!.timestamp + 10_000, normal: 60, anomalous: 0 });
    const alerts = run(pipeline, metricRecords([...spike, ...back]));
    const resolved = alerts.filter((a) => a.status === 'resolved');
    expect(resolved).toHaveLength(1);
    const normalSince = back[0]!.timestamp;
    expect(Date.parse(resolved[0]!.resolvedAt!) - normalSince).toBeGreaterThanOrEqual(DEFAULT_PIPELINE_OPTIONS.resolveAfterMs);
    expect(resolved[0]!.explanation).toMatch(/back to normal/);
    expect(pipeline.openAlerts()).toEqual([]);
  });

  it('keeps an alert firing through a persistent level shift the detector has adapted to', () => {
    const { pipeline } = newPipeline();
    const shifted = stepSeries({ normal: 200, anomalous: 150, factor: 3 });
    const during = run(pipeline, metricRecords(shifted));
    expect(during.length).toBeGreaterThan(0);
    expect(during.some((a) => a.status === 'resolved')).toBe(false);
    const back = stepSeries({ start: shifted.at(-1)!.timestamp + 10_000, normal: 60, anomalous: 0 });
    expect(run(pipeline, metricRecords(back)).filter((a) => a.status === 'resolved')).toHaveLength(1);
  });

  it('alerts when one metric of a service stops reporting while the others go on, and resolves when it is back', () => {
    const { pipeline } = newPipeline();
    const latency = stepSeries({ metric: 'latency_p99', normal: 400, anomalous: 0 });
    const errors = stepSeries({ metric: 'queue_depth', normal: 400, anomalous: 0, base: 40 });
    // queue_depth stops after point 300 while latency_p99 keeps reporting.
    const merged = [...latency, ...errors.slice(0, 300)].sort((a, b) => a.timestamp - b.timestamp);
    const alerts = run(pipeline, metricRecords(merged));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ status: 'firing', metric: 'queue_depth' });
    expect(alerts[0]!.explanation).toMatch(/^checkout queue_depth stopped reporting \(no point for /);
    const silentFor = Date.parse(alerts[0]!.startedAt) - errors[299]!.timestamp;
    expect(silentFor).toBeGreaterThan(60_000);
    expect(silentFor).toBeLessThan(10 * 60_000);
    const back = run(pipeline, metricRecords([{ ...errors[0]!, timestamp: latency.at(-1)!.timestamp + 10_000 }]));
    expect(back.map((a) => [a.id, a.status])).toEqual([[alerts[0]!.id, 'resolved']]);
    expect(back[0]!.explanation).toMatch(/reporting again/);
  });

  it('re-ranks an open alert when the causing change arrives late', () => {
    const { pipeline } = newPipeline();
    const points = stepSeries({ normal: 200, anomalous: 3 });
    const before = run(pipeline, metricRecords(points));
    expect(before.at(-1)!.suspects).toEqual([]);
    const late = run(pipeline, [{ change: aChange({ id: 'chg-late', timestamp: points[199]!.timestamp }) }]);
    expect(late).toHaveLength(1);
    expect(late[0]!.suspects[0]!.changeId).toBe('chg-late');
    expect(late[0]!.id).toBe(before[0]!.id);
  });

  it('rejects points later than maxLatenessMs and accepts smaller disorder', () => {
    const { pipeline } = newPipeline();
    const points = stepSeries({ normal: 50, anomalous: 0 });
    run(pipeline, metricRecords(points));
    const newest = points.at(-1)!.timestamp;
    expect(pipeline.ingest({ metric: { ...points[0]!, timestamp: newest - 60_000 } }).rejected).toBeUndefined();
    expect(pipeline.ingest({ metric: { ...points[0]!, timestamp: newest - DEFAULT_PIPELINE_OPTIONS.maxLatenessMs - 1 } }).rejected?.code).toBe('CW_EVENT_LATE');
  });

  it('continues identically after a snapshot and restore mid-stream', () => {
    const records = [{ change: aChange({ timestamp: T0 + 1_990_000 }) }, ...metricRecords(stepSeries({ normal: 200, anomalous: 40 }))];
    const whole = newPipeline().pipeline;
    const expected = run(whole, records);

    const first = newPipeline();
    const head = run(first.pipeline, records.slice(0, 205));
    const snapshot = JSON.parse(JSON.stringify(first.pipeline.snapshot()));
    const restored = Pipeline.restore(snapshot, detectors, LatestChangeAttributor.restore(snapshot.attributor));
    const tail = run(restored, records.slice(205));
    expect([...head, ...tail]).toEqual(expected);
  });

  it('checkpoints an open alert with exactly its fields and re-emits its heartbeat on time after a restore', () => {
    const records = metricRecords(stepSeries({ normal: 200, anomalous: 40 }));
    const first = newPipeline();
    run(first.pipeline, records.slice(0, 205));
    const snapshot = JSON.parse(JSON.stringify(first.pipeline.snapshot()));
    const open = snapshot.series[0].open;
    expect(Object.keys(open)).toEqual(['alert', 'baseline', 'normalSince', 'lastEmitted', 'attributedAt', 'silent']);
    // The heartbeat is due reemitEveryMs after the last emission, whether or not the pipeline was restored in between.
    const restored = Pipeline.restore(snapshot, detectors, LatestChangeAttributor.restore(snapshot.attributor));
    const due = Date.parse(open.lastEmitted.updatedAt) + DEFAULT_PIPELINE_OPTIONS.reemitEveryMs;
    const next = run(restored, records.slice(205))[0]!;
    expect(Date.parse(next.updatedAt)).toBeLessThanOrEqual(due);
  });

  it('splits series by every tag but version and environment, whatever the tag order', () => {
    const { pipeline } = newPipeline();
    const at = (i: number, tags?: Record<string, string>) => ({ metric: { service: 'checkout', metric: 'latency_p99', timestamp: T0 + i * 1_000, value: 100, ...(tags ? { tags } : {}) } });
    run(pipeline, [
      at(0),
      at(1, { version: 'v1' }),
      at(2, { environment: 'prod' }),
      at(3, { region: 'eu', version: 'v1' }),
      at(4, { version: 'v2', region: 'eu' }),
      at(5, { zone: 'a', region: 'eu' }),
      at(6, { region: 'eu', zone: 'a', env: 'staging' }),
      at(7, { env: 'staging' }),
    ]);
    const keys = pipeline.snapshot().series.map((s) => s.key.split('\u0000').join('|'));
    expect(keys).toEqual(['checkout|latency_p99|prod', 'checkout|latency_p99|prod|region=eu', 'checkout|latency_p99|prod|region=eu|zone=a', 'checkout|latency_p99|staging|region=eu|zone=a', 'checkout|latency_p99|staging']);
  });

  it('gives every series its own alert and keeps ids stable across runs', () => {
    const a = stepSeries({ service: 'checkout', normal: 200, anomalous: 5 });
    const b = stepSeries({ service: 'payments', normal: 200, anomalous: 5 });
    const merged = [...a, ...b].sort((x, y) => x.timestamp - y.timestamp || x.service.localeCompare(y.service));
    const once = run(newPipeline().pipeline, metricRecords(merged));
    const twice = run(newPipeline().pipeline, metricRecords(merged));
    expect(new Set(once.map((x) => x.service))).toEqual(new Set(['checkout', 'payments']));
    expect(twice).toEqual(once);
  });
});
