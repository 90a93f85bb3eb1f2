/**
 * ServiceMetrics: one registry per instance, the emission sink's counters, and the scrape-time
 * gauges read from a real (PGlite) store; every scrape parsed with a real Prometheus text parser.
 */
import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Changewatch } from '../../server/core.ts';
import { createError } from '../../server/errors.ts';
import { ServiceMetrics, type MetricsSources, type PartitionLag } from '../../server/metrics.ts';
import { createPipeline } from '../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../server/pipeline/pipeline.ts';
import { Store } from '../../server/store/store.ts';
import { aChange, httpDeadLetterOf, metricRecords, stepSeries, T0 } from '../support/factories.ts';
import { Scrape } from '../support/prometheus.ts';
import { notificationFor } from './alerts/delivery/support.ts';
import { makeIncident } from './store/fixtures.ts';

const scrapeOf = async (metrics: ServiceMetrics) => new Scrape((await metrics.render()).body);

let store: Store;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(async () => {
  await store.close();
});

/** Sources over the test store, with the core and the lag given. */
function sources(overrides: { seriesCount?: number; consumerLag?: () => Promise<PartitionLag[]> } = {}): MetricsSources {
  return { core: { seriesCount: overrides.seriesCount ?? 0 }, store, ingest: { consumerLag: overrides.consumerLag ?? (async () => []) } };
}

describe('ServiceMetrics', () => {
  it('keeps one registry per instance: two never collide, and nothing lands in prom-client\'s global registry', async () => {
    const first = new ServiceMetrics();
    const second = new ServiceMetrics();
    first.recordsIn.inc({ topic: 'a' }, 2);
    expect((await scrapeOf(first)).value('changewatch_records_in_total', { topic: 'a' })).toBe(2);
    expect((await scrapeOf(second)).sample('changewatch_records_in_total', { topic: 'a' })).toBeUndefined();
    expect((await scrapeOf(second)).family('process_cpu_seconds_total').type).toBe('COUNTER');
    expect(globalRegistry.getMetricsAsArray().map((metric) => metric.name).filter((name) => name.startsWith('changewatch_'))).toEqual([]);
  });

  it('counts alert emissions by severity and dead letters by code as the core hands them to its sinks', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const core = new Changewatch(createPipeline(DEFAULT_PIPELINE_OPTIONS));
    core.addSink(metrics.sink);
    core.handle({ change: aChange({ timestamp: T0 + 1_900_000 }) }, httpDeadLetterOf());
    for (const record of metricRecords(stepSeries({ normal: 200, anomalous: 5 }))) core.handle(record, httpDeadLetterOf());
    core.reject(httpDeadLetterOf()(createError('CW_EVENT_SCHEMA', 'value: expected a number')));
    core.reject(httpDeadLetterOf()(createError('CW_EVENT_SCHEMA', 'service: required')));

    const scraped = await scrapeOf(metrics);
    const emissions = core.alerts.list({ limit: 10 });
    expect(emissions.length).toBeGreaterThan(0);
    const bySeverity = Object.fromEntries(['critical', 'warning', 'info'].map((severity) => [severity, scraped.value('changewatch_alerts_emitted_total', { severity })]));
    // Every emission is counted (updates too), so the sum is at least the number of alerts.
    expect(Object.values(bySeverity).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(emissions.length);
    expect(bySeverity[emissions[0]!.severity]).toBeGreaterThan(0);
    expect(scraped.value('changewatch_dead_letters_total', { code: 'CW_EVENT_SCHEMA' })).toBe(2);
    expect(scraped.value('changewatch_dead_letters_total', { code: 'CW_EVENT_LATE' })).toBe(0);
  });

  it('computes the state gauges at scrape time from the store: open incidents by status, pending outbox rows and the oldest one\'s age', async () => {
    let now = 1_000_000;
    const metrics = new ServiceMetrics({ defaultMetrics: false, now: () => now });
    metrics.readFrom(sources({ seriesCount: 7 }));
    let scraped = await scrapeOf(metrics);
    expect(scraped.value('changewatch_series_tracked')).toBe(7);
    expect(scraped.value('changewatch_incidents_open', { status: 'firing' })).toBe(0);
    expect(scraped.family('changewatch_outbox_pending').metrics).toEqual([]);
    expect(scraped.value('changewatch_outbox_oldest_pending_age_seconds')).toBe(0);

    await store.incidents.upsert(makeIncident({ id: 'inc-m1', groupKey: 'g-m1' }));
    await store.incidents.upsert(makeIncident({ id: 'inc-m2', groupKey: 'g-m2', status: 'acknowledged' }));
    await store.incidents.upsert(makeIncident({ id: 'inc-m3', groupKey: 'g-m3', status: 'resolved', resolvedAt: '2026-11-23T10:05:00.000Z' }));
    await store.outbox.enqueue([
      { endpoint: 'pagerduty', notification: notificationFor('n1', 'inc-m1'), createdAt: now - 90_000 },
      { endpoint: 'pagerduty', notification: notificationFor('n2', 'inc-m2'), createdAt: now - 30_000 },
      { endpoint: 'slack', notification: notificationFor('n3', 'inc-m1'), createdAt: now - 10_000 },
    ]);
    scraped = await scrapeOf(metrics);
    expect(scraped.value('changewatch_incidents_open', { status: 'firing' })).toBe(1);
    expect(scraped.value('changewatch_incidents_open', { status: 'acknowledged' })).toBe(1);
    expect(scraped.sample('changewatch_incidents_open', { status: 'resolved' })).toBeUndefined();
    expect(scraped.value('changewatch_outbox_pending', { endpoint: 'pagerduty' })).toBe(2);
    expect(scraped.value('changewatch_outbox_pending', { endpoint: 'slack' })).toBe(1);
    expect(scraped.value('changewatch_outbox_oldest_pending_age_seconds')).toBe(90);

    // Delivered rows are no longer pending: the oldest pending one is younger, the endpoint's count drops.
    await store.outbox.markDelivered('n1', now);
    now += 5_000;
    scraped = await scrapeOf(metrics);
    expect(scraped.value('changewatch_outbox_pending', { endpoint: 'pagerduty' })).toBe(1);
    expect(scraped.value('changewatch_outbox_oldest_pending_age_seconds')).toBe(35);
  });

  it('reports the lag it is given, and leaves a gauge out of the scrape when its source fails (the rest still answer)', async () => {
    const warnings: Array<{ fields: object; message: string }> = [];
    const metrics = new ServiceMetrics({ defaultMetrics: false, log: { warn: (fields: object, message: string) => warnings.push({ fields, message }) } });
    let lag: () => Promise<PartitionLag[]> = async () => [
      { topic: 'changewatch.telemetry', partition: 0, lag: 12 },
      { topic: 'changewatch.telemetry', partition: 1, lag: 0 },
    ];
    metrics.readFrom(sources({ seriesCount: 3, consumerLag: () => lag() }));
    let scraped = await scrapeOf(metrics);
    expect(scraped.value('changewatch_consumer_lag_messages', { topic: 'changewatch.telemetry', partition: '0' })).toBe(12);
    expect(scraped.value('changewatch_consumer_lag_messages', { topic: 'changewatch.telemetry', partition: '1' })).toBe(0);

    lag = async () => {
      throw new Error('Kafka did not answer');
    };
    scraped = await scrapeOf(metrics);
    // No stale lag: the family is there, without samples.
    expect(scraped.family('changewatch_consumer_lag_messages').metrics).toEqual([]);
    expect(scraped.value('changewatch_series_tracked')).toBe(3);
    expect(warnings).toEqual([{ fields: expect.objectContaining({ metric: 'changewatch_consumer_lag_messages' }), message: expect.stringContaining('left out') }]);
  });
});
