import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { TelemetryPoint } from '../../../contract/events.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../server/pipeline/pipeline.ts';
import { HISTORY_BUCKET_MS, HISTORY_BUCKETS, MAX_HISTORY_VERSIONS, SeriesHistory } from '../../../server/pipeline/series-history.ts';
import { T0 } from '../../support/factories.ts';

const KEY = 'checkout\u0000latency_ms\u0000prod';
const BAND = { expected: 100, lower: 90, upper: 110 };
/** T0 is midnight, so it starts a bucket. */
const B = HISTORY_BUCKET_MS;

function part(version: string, value: number, timestamp = T0): TelemetryPoint {
  return { service: 'checkout', metric: 'latency_ms', value, timestamp, tags: { version } };
}

describe('SeriesHistory bucketing', () => {
  it('averages the points of one bucket, keeps its newest band and places it at the bucket middle', () => {
    const history = new SeriesHistory();
    history.record(KEY, 'checkout', 'latency_ms', T0 + 1_000, 100, BAND);
    history.record(KEY, 'checkout', 'latency_ms', T0 + 60_000, 110, BAND);
    history.record(KEY, 'checkout', 'latency_ms', T0 + 170_000, 120, { expected: 101, lower: 91, upper: 111 });
    history.record(KEY, 'checkout', 'latency_ms', T0 + B, 300, BAND);
    const window = history.window(KEY)!;
    expect(window.points).toEqual([
      { time: T0 + B / 2, value: 110, expected: 101, lower: 91, upper: 111 },
      { time: T0 + B + B / 2, value: 300, expected: 100, lower: 90, upper: 110 },
    ]);
    expect(window.step).toBe(B);
    expect(window.newest).toBe(T0 + 2 * B);
  });

  it("clips the band to the metric's domain, as alerts show it", () => {
    const history = new SeriesHistory();
    history.record('k', 'checkout', 'error_rate', T0, 0.01, { expected: 0.01, lower: -0.02, upper: 0.04 });
    expect(history.window('k')!.points[0]).toMatchObject({ lower: 0, upper: expect.closeTo(0.04, 6) });
  });

  it('merges buckets for a coarser step: count-weighted mean, newest band, aligned to the step', () => {
    const history = new SeriesHistory();
    history.record(KEY, 'checkout', 'latency_ms', T0, 100, BAND);
    history.record(KEY, 'checkout', 'latency_ms', T0 + 10_000, 100, BAND);
    history.record(KEY, 'checkout', 'latency_ms', T0 + B, 130, { expected: 105, lower: 95, upper: 115 });
    history.record(KEY, 'checkout', 'latency_ms', T0 + 2 * B, 500, BAND);
    const window = history.window(KEY, { step: 2 * B - 1 })!;
    expect(window.step).toBe(2 * B);
    expect(window.points).toEqual([
      { time: T0 + B, value: 110, expected: 105, lower: 95, upper: 115 },
      { time: T0 + 3 * B, value: 500, expected: 100, lower: 90, upper: 110 },
    ]);
  });

  it('leaves out empty buckets and serves only the buckets from `from` (inclusive) to `to` (exclusive)', () => {
    const history = new SeriesHistory();
    for (const b of [0, 1, 4, 5]) history.record(KEY, 'checkout', 'latency_ms', T0 + b * B, b, BAND);
    expect(history.window(KEY)!.points.map((p) => p.value)).toEqual([0, 1, 4, 5]);
    expect(history.window(KEY, { from: T0 + B, to: T0 + 5 * B })!.points.map((p) => p.value)).toEqual([1, 4]);
  });
});

describe('SeriesHistory bounds', () => {
  it(`keeps only the last ${HISTORY_BUCKETS} buckets and ignores points older than them`, () => {
    const history = new SeriesHistory();
    for (let b = 0; b < HISTORY_BUCKETS + 10; b++) history.record(KEY, 'checkout', 'latency_ms', T0 + b * B, b, BAND);
    let values = history.window(KEY)!.points.map((p) => p.value);
    expect(values).toHaveLength(HISTORY_BUCKETS);
    expect(values[0]).toBe(10);
    expect(values.at(-1)).toBe(HISTORY_BUCKETS + 9);
    history.record(KEY, 'checkout', 'latency_ms', T0 + 9 * B, -1, BAND);
    history.record(KEY, 'checkout', 'latency_ms', T0 + 10 * B, 20, BAND);
    values = history.window(KEY)!.points.map((p) => p.value);
    expect(values).not.toContain(-1);
    expect(values[0]).toBe(15);
  });

  it('empties every reused slot when the series jumps ahead by more than its window', () => {
    const history = new SeriesHistory();
    for (let b = 0; b < 5; b++) history.record(KEY, 'checkout', 'latency_ms', T0 + b * B, b, BAND);
    history.record(KEY, 'checkout', 'latency_ms', T0 + 1_000 * B, 7, BAND);
    expect(history.window(KEY)!.points.map((p) => p.value)).toEqual([7]);
  });

  it('ignores non-finite values and times', () => {
    const history = new SeriesHistory();
    history.record(KEY, 'checkout', 'latency_ms', T0, Number.NaN, BAND);
    history.record(KEY, 'checkout', 'latency_ms', Number.NaN, 1, BAND);
    expect(history.has(KEY)).toBe(false);
  });
});

describe('SeriesHistory versions', () => {
  it('keeps each version apart only in the buckets where two or more reported', () => {
    const history = new SeriesHistory();
    history.record(KEY, 'checkout', 'latency_ms', T0, 100, BAND, [part('v1', 100)]);
    history.record(KEY, 'checkout', 'latency_ms', T0 + B, 150, BAND, [part('v1', 100, T0 + B), part('v2', 200, T0 + B)]);
    history.record(KEY, 'checkout', 'latency_ms', T0 + B + 10_000, 160, BAND, [part('v1', 110, T0 + B), part('v2', 210, T0 + B)]);
    history.record(KEY, 'checkout', 'latency_ms', T0 + 2 * B, 200, BAND, [part('v2', 200, T0 + 2 * B)]);
    const window = history.window(KEY)!;
    expect(window.points.map((p) => p.value)).toEqual([100, 155, 200]);
    expect(window.versions).toEqual([
      { version: 'v1', values: [Number.NaN, 105, Number.NaN] },
      { version: 'v2', values: [Number.NaN, 205, Number.NaN] },
    ]);
  });

  it('drops the versions once no bucket of the window holds two', () => {
    const history = new SeriesHistory();
    history.record(KEY, 'checkout', 'latency_ms', T0, 150, BAND, [part('v1', 100), part('v2', 200)]);
    history.record(KEY, 'checkout', 'latency_ms', T0 + (HISTORY_BUCKETS - 1) * B, 200, BAND, [part('v2', 200)]);
    expect(history.window(KEY)!.versions).toHaveLength(2);
    const withVersions = history.retainedBytes(KEY);
    history.record(KEY, 'checkout', 'latency_ms', T0 + HISTORY_BUCKETS * B, 200, BAND, [part('v2', 200)]);
    expect(history.window(KEY)!.versions).toEqual([]);
    expect(history.retainedBytes(KEY)).toBeLessThan(withVersions);
  });

  it(`keeps at most ${MAX_HISTORY_VERSIONS} versions, replacing the least recently seen`, () => {
    const history = new SeriesHistory();
    history.record(KEY, 'checkout', 'latency_ms', T0, 1, BAND, [part('v1', 1), part('v2', 2), part('v3', 3)]);
    history.record(KEY, 'checkout', 'latency_ms', T0 + B, 1, BAND, [part('v2', 2), part('v3', 3), part('v4', 4)]);
    const window = history.window(KEY)!;
    expect(window.versions.map((v) => v.version)).toEqual(['v4', 'v2', 'v3']);
    // v4 took v1's column: v1's value of the first bucket is not passed off as v4's.
    expect(window.versions[0]!.values).toEqual([Number.NaN, 4]);
  });
});

describe('SeriesHistory memory', () => {
  it('retains at most about 1.5 KB for a series in steady state', () => {
    const history = new SeriesHistory();
    for (let b = 0; b < 3 * HISTORY_BUCKETS; b++) history.record(KEY, 'checkout', 'latency_ms', T0 + b * B, b, BAND);
    expect(history.retainedBytes(KEY)).toBeLessThanOrEqual(1_536);
    expect(history.retainedBytes('unknown')).toBe(0);
  });

  it("matches what V8's heap actually grows by per series (measured in a child process with --expose-gc)", () => {
    const script = `
      import { SeriesHistory, HISTORY_BUCKET_MS } from './server/pipeline/series-history.ts';
      const n = 10_000;
      const keys = Array.from({ length: n }, (_, i) => 'svc' + i + '\\u0000latency_ms\\u0000prod');
      const band = { expected: 100, lower: 90, upper: 110 };
      const used = () => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
      const history = new SeriesHistory();
      const before = used();
      for (let b = 0; b < 70; b++) for (const key of keys) history.record(key, 'svc', 'latency_ms', b * HISTORY_BUCKET_MS, b, band);
      console.log(JSON.stringify({ measured: (used() - before) / n, estimate: history.retainedBytes(keys[0]) }));`;
    const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { measured, estimate } = JSON.parse(output.trim().split('\n').at(-1)!) as { measured: number; estimate: number };
    expect(measured).toBeLessThanOrEqual(1_700);
    expect(Math.abs(measured - estimate)).toBeLessThan(250);
  }, 30_000);
});

describe('the pipeline keeps the history', () => {
  function pipelineWith(options: Partial<typeof DEFAULT_PIPELINE_OPTIONS> = {}) {
    return createPipeline({ ...DEFAULT_PIPELINE_OPTIONS, ...options }, [{ name: 'checkout', dependsOn: ['payments'] }, { name: 'payments', dependsOn: ['ledger'] }]);
  }

  it('records every scored point with the band the detector gave, and the catalog for the charted changes', () => {
    const pipeline = pipelineWith();
    const values = Array.from({ length: 40 }, (_, i) => 100 + ((i * 7) % 5));
    values.forEach((value, i) => pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_ms', value, timestamp: T0 + i * 10_000 } }));
    const window = pipeline.history.window(KEY)!;
    // 10-second points: 18 in each 3-minute bucket, 4 in the last.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(window.points.map((p) => p.value)).toEqual([mean(values.slice(0, 18)), mean(values.slice(18, 36)), mean(values.slice(36))].map((m) => expect.closeTo(m, 4)));
    expect(window.points.every((p) => Number.isFinite(p.expected) && p.lower <= p.upper)).toBe(true);
    expect(pipeline.history.serviceAndDependencies('checkout')).toEqual(['checkout', 'payments', 'ledger']);
  });

  it('records the combined value of per-version parts and each version apart', () => {
    const pipeline = pipelineWith();
    for (let i = 0; i < 6; i++) {
      const timestamp = T0 + i * 10_000;
      pipeline.ingest({ metric: { ...part('v1', 100, timestamp), count: 10 } });
      pipeline.ingest({ metric: { ...part('v2', 200, timestamp), count: 30 } });
    }
    pipeline.ingest({ metric: { ...part('v1', 100, T0 + 60_000), count: 10 } });
    const window = pipeline.history.window(KEY)!;
    expect(window.points[0]!.value).toBeCloseTo(175, 3);
    expect(window.versions.map((v) => [v.version, v.values[0]])).toEqual([
      ['v1', 100],
      ['v2', 200],
    ]);
  });

  it('forgets the history of a series the pipeline forgets, and has none for a series it refused', () => {
    const pipeline = pipelineWith({ maxSeries: 2, seriesIdleMs: 3_600_000 });
    pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_ms', value: 1, timestamp: T0 } });
    pipeline.ingest({ metric: { service: 'checkout', metric: 'error_rate', value: 0.01, timestamp: T0 } });
    expect(pipeline.ingest({ metric: { service: 'checkout', metric: 'cpu', value: 1, timestamp: T0 } }).rejected?.code).toBe('CW_SERIES_LIMIT');
    expect(pipeline.history.size).toBe(2);
    // error_rate goes on reporting past latency_ms's idle limit: latency_ms is forgotten with its history.
    for (let t = T0 + 60_000; t <= T0 + 2 * 3_600_000; t += 60_000) pipeline.ingest({ metric: { service: 'checkout', metric: 'error_rate', value: 0.01, timestamp: t } });
    expect(pipeline.seriesCount).toBe(1);
    expect(pipeline.history.has(KEY)).toBe(false);
    expect(pipeline.history.size).toBe(1);
  });

  it('forgets the history of a dropped shard', () => {
    const pipeline = pipelineWith();
    pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_ms', value: 1, timestamp: T0 } }, 'telemetry:3');
    expect(pipeline.history.has(KEY)).toBe(true);
    pipeline.dropShard('telemetry:3');
    expect(pipeline.history.size).toBe(0);
  });

  it('keeps the history out of snapshots and checkpoint rows', () => {
    const pipeline = pipelineWith();
    pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_ms', value: 123.5, timestamp: T0 } });
    const saved = () => JSON.stringify(pipeline.snapshot()) + JSON.stringify(pipeline.shardChanges('', true));
    const withHistory = saved();
    pipeline.history.forget(KEY);
    expect(saved()).toBe(withHistory);
  });
});
