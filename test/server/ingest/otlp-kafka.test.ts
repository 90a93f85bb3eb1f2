import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Producer } from 'kafkajs';
import type { Alert } from '../../../contract/alert.ts';
import { connectedProducer, eventually, TopicReader } from '../../support/kafka-helpers.ts';
import { startTestService, type TestService } from '../../support/service-harness.ts';
import { AggregationTemporality, gauge, histogram, otlpJson, otlpProto, resourceMetrics, sum } from '../../support/otlp.ts';
import { bearer, testAuthConfigFile, TEST_TOKENS } from '../../support/tokens.ts';

const brokers = inject('kafkaBrokers');
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(env: Record<string, string> = {}): Promise<{ service: TestService; producer: Producer }> {
  const service = await startTestService(brokers, { env: { CHANGEWATCH_OTLP_ENABLED: 'true', ...env } });
  cleanup.push(() => service.stop());
  const producer = await connectedProducer(brokers);
  cleanup.push(() => producer.disconnect());
  await eventually(() => service.ingest.ready, 20_000, 'the consumer to join its group');
  return { service, producer };
}

const BOUNDS = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2];
const NOISE = [0, 1, -1, 2, -2, 1, 0, -1];
/** Ten seconds of checkout as its OpenTelemetry SDK exports it with delta temporality for the histogram, cumulative for the counter. */
function export10s(i: number, start: number, slow: boolean) {
  const at = start + i * 10_000;
  const n = NOISE[i % NOISE.length]!;
  const counts = slow ? [0, 0, 5, 10, 40 + n, 40 - n, 5, 0] : [10 + n, 40 - n, 40, 8, 2, 0, 0, 0];
  const mean = slow ? 0.9 : 0.12;
  return resourceMetrics({ 'service.name': 'checkout', 'service.version': 'v2.4.0', 'deployment.environment.name': 'prod' }, [
    histogram('http.server.request.duration', AggregationTemporality.DELTA, [{ at, start: at - 10_000, boundaries: BOUNDS, counts, sum: 100 * mean, attributes: { 'http.route': '/pay' } }]),
    sum('orders.placed', AggregationTemporality.CUMULATIVE, [{ at, start: start - 60_000, value: 1000 + 50 * i + n }]),
    gauge('process.cpu.utilization', [{ at, value: 0.3 + n / 100 }]),
  ]);
}

describe('OTLP metrics on Kafka (real broker)', () => {
  it('turns OTLP protobuf on the topic into tracked series, and a latency step into an alert', async () => {
    const { service, producer } = await setup();
    const alerts = await TopicReader.start(brokers, service.topics.alerts);
    cleanup.push(() => alerts.stop());
    const start = Date.now() - 2_100_000;
    const normal = Array.from({ length: 200 }, (_, i) => ({ key: 'checkout', value: otlpProto(export10s(i, start, false)) }));
    await producer.send({ topic: service.topics.otlpMetrics, messages: normal });
    // 7 series: the histogram's p50, p90, p99, mean and observation rate, the counter's rate, the gauge.
    await eventually(() => service.core.seriesCount === 7, 20_000, 'the OTLP series to be tracked');
    // 200 × (5 histogram points + 1 gauge) + 199 rates (the first cumulative point is the baseline).
    await eventually(() => service.core.stats(true).eventsProcessed === 200 * 6 + 199, 20_000, 'every mapped point');
    expect(alerts.messages).toEqual([]);

    const slow = Array.from({ length: 6 }, (_, i) => ({ key: 'checkout', value: otlpProto(export10s(200 + i, start, true)) }));
    await producer.send({ topic: service.topics.otlpMetrics, messages: slow });
    const [first] = await alerts.waitFor((m) => m.length > 0, 20_000);
    const alert = JSON.parse(first!.value.toString()) as Alert;
    expect(alert).toMatchObject({ status: 'firing', service: 'checkout', environment: 'prod' });
    expect(alert.metric).toMatch(/^http\.server\.request\.duration\.(p50|p90|p99|mean)$/);
    expect(alert.observed).toBeGreaterThan(0.4);
    expect(service.core.stats(true).deadLettered).toBe(0);
  }, 60_000);

  it('dead-letters malformed OTLP messages and resources without service.name with their reason, and keeps consuming', async () => {
    const { service, producer } = await setup({ CHANGEWATCH_OTLP_ENCODING: 'otlp_json' });
    const deadletters = await TopicReader.start(brokers, service.topics.deadletter);
    cleanup.push(() => deadletters.stop());
    const at = Date.now() - 60_000;
    const anonymous = otlpJson(resourceMetrics({ 'host.name': 'web-1' }, [gauge('queue.depth', [{ at, value: 1 }])]));
    const good = otlpJson(resourceMetrics({ 'service.name': 'payments' }, [gauge('queue.depth', [{ at, value: 4 }])]));
    // A protobuf message on the JSON topic, told apart by its content-type header (as POST /v1/metrics writes it).
    const proto = otlpProto(resourceMetrics({ 'service.name': 'payments' }, [gauge('pool.usage', [{ at, value: 0.5 }])]));
    await producer.send({
      topic: service.topics.otlpMetrics,
      messages: [
        { key: 'x', value: Buffer.from('{"resourceMetrics": [') },
        { key: 'x', value: anonymous },
        { key: 'payments', value: good },
        { key: 'payments', value: proto, headers: { 'content-type': 'application/x-protobuf' } },
        { key: 'x', value: otlpProto(resourceMetrics({ 'service.name': 'payments' }, [gauge('g', [{ at, value: 1 }])])) },
      ],
    });
    const dead = await deadletters.waitFor((m) => m.length >= 3);
    expect(dead.map((m) => m.headers['changewatch-error-code']).sort()).toEqual(['CW_EVENT_INVALID_JSON', 'CW_OTLP_NO_SERVICE', 'CW_EVENT_INVALID_JSON'].sort());
    const invalid = dead.find((m) => m.value.toString() === '{"resourceMetrics": [')!;
    expect(invalid.headers['changewatch-source-topic']).toBe(service.topics.otlpMetrics);
    const noService = dead.find((m) => m.headers['changewatch-error-code'] === 'CW_OTLP_NO_SERVICE')!;
    expect(noService.headers['changewatch-error-message']).toMatch(/no service\.name/);
    expect(noService.headers['changewatch-item-index']).toBe('0');
    expect(JSON.parse(noService.value.toString())).toEqual({ resource: { 'host.name': 'web-1' }, metrics: ['queue.depth'] });
    await eventually(() => service.core.seriesCount === 2, 15_000, 'the two good gauges');
    expect(service.core.stats(true).deadLettered).toBe(3);
  });

  it('takes POST /v1/metrics through the OTLP topic into the pipeline', async () => {
    const { service } = await setup({ CHANGEWATCH_CONFIG: testAuthConfigFile() });
    const at = Date.now() - 30_000;
    const body = otlpProto(
      resourceMetrics({ 'service.name': 'inventory' }, [
        sum('stock.reservations', AggregationTemporality.DELTA, [{ at, start: at - 10_000, value: 30 }]),
        gauge('queue.depth', [{ at, value: 12 }]),
      ]),
    );
    const res = await fetch(`${service.url}/v1/metrics`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/x-protobuf', ...bearer(TEST_TOKENS.ingest) } });
    expect(res.status).toBe(200);
    await eventually(() => service.core.stats(true).eventsProcessed === 2, 15_000, 'both points');
    expect(service.core.seriesCount).toBe(2);
    // One message, on the partition of its key.
    const otlpOffsets = Object.entries(service.ingest.consumedOffsets()).filter(([key]) => key.startsWith(`${service.topics.otlpMetrics}:`));
    expect(otlpOffsets.map(([, offset]) => offset)).toEqual(['1']);
  });
});
