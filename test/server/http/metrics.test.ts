/**
 * GET /metrics on a running service over the real mock broker: the exposition parses with a real
 * Prometheus text parser, has every family with its type, and moves when events are consumed.
 */
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { aChange, stepSeries } from '../../support/factories.ts';
import { connectedProducer, eventually } from '../../support/kafka-helpers.ts';
import { scrape, type Scrape } from '../../support/prometheus.ts';
import { startTestService, type TestService } from '../../support/service-harness.ts';

const brokers = inject('kafkaBrokers');

/** Every family the service must expose, with its Prometheus type. */
const FAMILIES = {
  changewatch_consumer_lag_messages: 'GAUGE',
  changewatch_records_in_total: 'COUNTER',
  changewatch_dead_letters_total: 'COUNTER',
  changewatch_series_tracked: 'GAUGE',
  changewatch_alerts_emitted_total: 'COUNTER',
  changewatch_incidents_open: 'GAUGE',
  changewatch_outbox_pending: 'GAUGE',
  changewatch_outbox_oldest_pending_age_seconds: 'GAUGE',
  changewatch_deliveries_total: 'COUNTER',
  changewatch_rollback_decisions_total: 'COUNTER',
  changewatch_checkpoint_duration_seconds: 'HISTOGRAM',
  changewatch_checkpoint_size_bytes: 'GAUGE',
  nodejs_eventloop_lag_seconds: 'GAUGE',
  nodejs_eventloop_lag_p99_seconds: 'GAUGE',
  process_cpu_seconds_total: 'COUNTER',
  process_resident_memory_bytes: 'GAUGE',
  nodejs_heap_size_used_bytes: 'GAUGE',
} as const;

describe('GET /metrics (real broker)', () => {
  let service: TestService;
  let producer: Producer;
  const metrics = (): Promise<Scrape> => scrape(`${service.url}/metrics`);

  beforeAll(async () => {
    service = await startTestService(brokers, { env: { KAFKA_CHECKPOINT_INTERVAL_MS: '300' } });
    producer = await connectedProducer(brokers);
    await eventually(() => service.ingest.ready, 20_000, 'the consumer to join its group');
  });
  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
  });

  it('exposes every required metric family with its type, zeros included before any event', async () => {
    const before = await metrics();
    for (const [name, type] of Object.entries(FAMILIES)) expect({ name, type: before.family(name).type }).toEqual({ name, type });
    expect(before.value('changewatch_series_tracked')).toBe(0);
    expect(before.value('changewatch_records_in_total', { topic: service.topics.telemetry })).toBe(0);
    expect(before.value('changewatch_dead_letters_total', { code: 'CW_EVENT_INVALID_JSON' })).toBe(0);
    expect(before.value('changewatch_alerts_emitted_total', { severity: 'critical' })).toBe(0);
    expect(before.value('changewatch_rollback_decisions_total', { outcome: 'proposed' })).toBe(0);
    expect(before.value('changewatch_incidents_open', { status: 'firing' })).toBe(0);
    expect(before.value('changewatch_outbox_oldest_pending_age_seconds')).toBe(0);
    // The approved-rollback source exists without any notify route: its delivery counters start at 0.
    expect(before.family('changewatch_deliveries_total').metrics.map((s) => s.labels?.outcome).sort()).toEqual(['cancelled', 'dead', 'delivered', 'released', 'retried']);
  });

  it('counts records in per topic and dead letters by code as they are consumed, and tracks the new series', async () => {
    const before = await metrics();
    const telemetry = service.topics.telemetry;
    const now = Date.now();
    await producer.send({
      topic: telemetry,
      messages: [
        { key: 'checkout', value: JSON.stringify({ service: 'checkout', metric: 'latency_p99', value: 100, timestamp: now - 60_000 }) },
        { key: 'checkout', value: '{"service": "checkout", "metric":' },
        // Epoch seconds are refused with a hint.
        { key: 'checkout', value: JSON.stringify({ service: 'checkout', metric: 'latency_p99', value: 100, timestamp: Math.floor(now / 1000) }) },
      ],
    });
    let after = before;
    await eventually(
      async () => {
        after = await metrics();
        return after.value('changewatch_records_in_total', { topic: telemetry }) === 3;
      },
      15_000,
      'three records in on the telemetry topic',
    );
    expect(after.value('changewatch_dead_letters_total', { code: 'CW_EVENT_INVALID_JSON' }) - before.value('changewatch_dead_letters_total', { code: 'CW_EVENT_INVALID_JSON' })).toBe(1);
    expect(after.value('changewatch_dead_letters_total', { code: 'CW_EVENT_TIMESTAMP' }) - before.value('changewatch_dead_letters_total', { code: 'CW_EVENT_TIMESTAMP' })).toBe(1);
    expect(after.value('changewatch_dead_letters_total', { code: 'CW_EVENT_SCHEMA' })).toBe(before.value('changewatch_dead_letters_total', { code: 'CW_EVENT_SCHEMA' }));
    expect(after.value('changewatch_series_tracked')).toBe(1);
    // The same figures as the status endpoint's.
    expect(service.core.stats(true).deadLettered).toBe(2);
  });

  it('reports the lag of every telemetry partition assigned, and a checkpoint once one is saved', async () => {
    let now: Scrape | undefined;
    await eventually(
      async () => {
        now = await metrics();
        return now.value('changewatch_checkpoint_duration_seconds') >= 1;
      },
      15_000,
      'a checkpoint',
    );
    const lags = now!.family('changewatch_consumer_lag_messages').metrics.filter((s) => s.labels?.topic === service.topics.telemetry);
    // The mock broker creates topics with 4 partitions; one instance is assigned them all, and has read them to the end.
    expect(lags.map((s) => s.labels?.partition).sort()).toEqual(['0', '1', '2', '3']);
    expect(lags.map((s) => Number(s.value))).toEqual([0, 0, 0, 0]);
    expect(now!.value('changewatch_checkpoint_size_bytes')).toBeGreaterThan(0);
    const histogram = now!.sample('changewatch_checkpoint_duration_seconds')!;
    expect(Number(histogram.buckets!['+Inf'])).toBe(Number(histogram.count));
  });

  it('counts alert emissions by severity and the incident they open', async () => {
    const before = await metrics();
    const series = stepSeries({ service: 'search', normal: 200, anomalous: 3, start: Date.now() - 2_030_000 });
    await producer.send({ topic: service.topics.changes, messages: [{ key: 'search', value: JSON.stringify(aChange({ id: 'chg-metrics', service: 'search', timestamp: series[195]!.timestamp })) }] });
    await producer.send({ topic: service.topics.telemetry, messages: series.map((p) => ({ key: p.service, value: JSON.stringify(p) })) });
    const emitted = (scrape: Scrape) => ['critical', 'warning', 'info'].reduce((sum, severity) => sum + scrape.value('changewatch_alerts_emitted_total', { severity }), 0);
    let after = before;
    await eventually(
      async () => {
        after = await metrics();
        return emitted(after) > emitted(before) && after.value('changewatch_incidents_open', { status: 'firing' }) >= 1;
      },
      20_000,
      'an alert emission and its incident',
    );
    const severity = service.core.alerts.list({ service: 'search', limit: 1 })[0]!.severity;
    expect(after.value('changewatch_alerts_emitted_total', { severity })).toBeGreaterThan(before.value('changewatch_alerts_emitted_total', { severity }));
    expect(after.value('changewatch_records_in_total', { topic: service.topics.changes })).toBe(before.value('changewatch_records_in_total', { topic: service.topics.changes }) + 1);
    expect(after.value('changewatch_series_tracked')).toBe(2);
  });
});
