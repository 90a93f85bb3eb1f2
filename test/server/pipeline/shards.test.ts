/**
 * Shards: a series belongs to the shard (Kafka partition) its points arrive on; one shard's state is
 * saved, dropped and restored on its own, and a pipeline that takes a shard over from saved rows goes
 * on exactly as the one that saved them would have.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../contract/alert.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS, type Pipeline } from '../../../server/pipeline/pipeline.ts';
import type { ReplayRecord } from '../../../server/wire/schemas.ts';
import { aChange, stepSeries, T0 } from '../../support/factories.ts';

/** Points of two services in time order, each on its own shard, plus a deploy that breaks payments. */
function stream(): Array<{ record: ReplayRecord; shard: string }> {
  const checkout = stepSeries({ service: 'checkout', normal: 300, anomalous: 0 }).map((metric) => ({ record: { metric }, shard: 'p0' }));
  const payments = stepSeries({ service: 'payments', start: T0 + 5_000, normal: 250, anomalous: 50 }).map((metric) => ({ record: { metric }, shard: 'p1' }));
  const deploy = { record: { change: aChange({ service: 'payments', timestamp: T0 + 249 * 10_000 }) }, shard: '' };
  return [...checkout, ...payments, deploy].sort((a, b) => timeOf(a.record) - timeOf(b.record));
}

function timeOf(record: ReplayRecord): number {
  return 'metric' in record ? record.metric.timestamp : 'change' in record ? record.change.timestamp : 0;
}

function feed(pipeline: Pipeline, items: Array<{ record: ReplayRecord; shard: string }>): Alert[] {
  return items.flatMap(({ record, shard }) => pipeline.ingest(record, shard).alerts);
}

describe('Pipeline shards', () => {
  it('returns only the series of the asked shard that changed since the last call', () => {
    const pipeline = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    feed(pipeline, stream().slice(0, 100));
    const p0 = pipeline.shardChanges('p0');
    expect(p0.upserts.map((u) => u.key)).toEqual(['checkout\u0000latency_p99\u0000prod']);
    expect(p0.deletes).toEqual([]);
    expect(pipeline.shardChanges('p0').upserts).toEqual([]);
    expect(pipeline.shardChanges('p1').upserts.map((u) => u.key)).toEqual(['payments\u0000latency_p99\u0000prod']);
    expect(pipeline.shards()).toEqual(new Set(['p0', 'p1']));
    // `all` returns every series of the shard, changed or not.
    expect(pipeline.shardChanges('p0', true).upserts).toHaveLength(1);
  });

  it('hands a shard over: the taking pipeline emits what the saving one would have, alert ids and suspects included', () => {
    const items = stream();
    const cut = items.findIndex((i) => 'metric' in i.record && i.record.metric.timestamp > T0 + 200 * 10_000);
    const reference = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    const expected = feed(reference, items).filter((a) => a.service === 'payments');
    expect(expected.length).toBeGreaterThan(0);
    expect(expected[0]!.suspects[0]?.changeId).toBe('chg-1');

    const first = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    feed(first, items.slice(0, cut));
    const saved = first.shardChanges('p1', true);
    first.dropShard('p1');
    expect(first.seriesCount).toBe(1);

    // The taker sees every change and the catalog (they belong to no shard) and restores p1's rows.
    const taker = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    expect(taker.importShard('p1', saved.upserts.map((u) => u.state))).toBe(1);
    const rest = items.slice(cut).filter((i) => i.shard !== 'p0');
    expect(feed(taker, rest)).toEqual(expected);
  });

  it('restores an open alert with its sticky top suspect and goes on updating it', () => {
    const items = stream();
    const reference = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    const all = feed(reference, items);
    const opened = all.find((a) => a.service === 'payments')!;
    const cut = items.findIndex((i) => 'metric' in i.record && i.record.metric.timestamp > Date.parse(opened.startedAt) + 60_000);

    const first = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    const before = feed(first, items.slice(0, cut));
    expect(before.map((a) => a.id)).toContain(opened.id);
    const taker = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    taker.ingest({ change: (items.find((i) => 'change' in i.record)!.record as { change: ReturnType<typeof aChange> }).change });
    taker.importShard('p1', first.shardChanges('p1', true).upserts.map((u) => u.state));
    expect(taker.openAlerts().map((a) => a.id)).toEqual([opened.id]);
    const after = feed(taker, items.slice(cut).filter((i) => i.shard === 'p1'));
    expect(after).toEqual(all.filter((a) => a.service === 'payments' && Date.parse(a.updatedAt) >= timeOf(items[cut]!.record)));
  });

  it('drops a shard without resolving its alerts, and forgets what attribution kept about it', () => {
    const pipeline = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    const alerts = feed(pipeline, stream());
    expect(alerts.some((a) => a.service === 'payments' && a.status === 'firing')).toBe(true);
    pipeline.dropShard('p1');
    expect(pipeline.openAlerts()).toEqual([]);
    expect(pipeline.seriesCount).toBe(1);
    expect(pipeline.shardChanges('p1')).toEqual({ upserts: [], deletes: [] });
    const tracks = (pipeline.snapshot().attributor as { series: Array<{ service: string }> }).series.map((s) => s.service);
    expect(tracks).toEqual(['checkout']);
  });

  it('moves a series whose points start arriving on another shard', () => {
    const pipeline = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    const points = stepSeries({ normal: 20, anomalous: 0 });
    for (const metric of points.slice(0, 10)) pipeline.ingest({ metric }, 'p0');
    pipeline.shardChanges('p0');
    for (const metric of points.slice(10)) pipeline.ingest({ metric }, 'p3');
    expect(pipeline.shardChanges('p0')).toEqual({ upserts: [], deletes: ['checkout\u0000latency_p99\u0000prod'] });
    expect(pipeline.shardChanges('p3').upserts).toHaveLength(1);
  });

  it('lists a series forgotten for idleness as a delete of its shard', () => {
    const pipeline = createPipeline({ ...DEFAULT_PIPELINE_OPTIONS, seriesIdleMs: 60_000 });
    pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_p99', value: 100, timestamp: T0, tags: { pod: 'a' } } }, 'p0');
    for (let i = 1; i < 20; i++) pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_p99', value: 100, timestamp: T0 + i * 10_000, tags: { pod: 'b' } } }, 'p0');
    const changes = pipeline.shardChanges('p0');
    expect(changes.deletes).toEqual(['checkout\u0000latency_p99\u0000prod\u0000pod=a']);
    expect(changes.upserts.map((u) => u.key)).toEqual(['checkout\u0000latency_p99\u0000prod\u0000pod=b']);
  });

  it('marks again what could not be saved', () => {
    const pipeline = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    feed(pipeline, stream().slice(0, 50));
    const changes = pipeline.shardChanges('p0');
    expect(pipeline.shardChanges('p0').upserts).toEqual([]);
    pipeline.unsaved('p0', changes);
    expect(pipeline.shardChanges('p0').upserts.map((u) => u.key)).toEqual(changes.upserts.map((u) => u.key));
  });
});
