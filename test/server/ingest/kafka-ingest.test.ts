import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import type { Producer } from 'kafkajs';
import { io, type Socket } from 'socket.io-client';
import type { Alert } from '../../../contract/alert.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../contract/socket.ts';
import { aChange, stepSeries } from '../../support/factories.ts';
import { connectedProducer, eventually, TopicReader, uniqueTopics } from '../../support/kafka-helpers.ts';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileCheckpointStore } from '../../../server/ingest/file-checkpoint.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../server/pipeline/pipeline.ts';
import { yamlFile } from '../../support/config-files.ts';
import { startTestService, type TestService } from '../../support/service-harness.ts';
import { bearer, testAuthConfigFile, TEST_TOKENS } from '../../support/tokens.ts';

const brokers = inject('kafkaBrokers');
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(env: Record<string, string> = {}): Promise<{ service: TestService; producer: Producer }> {
  const service = await startTestService(brokers, { env });
  cleanup.push(() => service.stop());
  const producer = await connectedProducer(brokers);
  cleanup.push(() => producer.disconnect());
  await eventually(() => service.ingest.ready, 20_000, 'the consumer to join its group');
  return { service, producer };
}

function points(values: ReturnType<typeof stepSeries>) {
  return values.map((p) => ({ key: p.service, value: JSON.stringify(p) }));
}

describe('Kafka ingest (real broker)', () => {
  it('turns events on Kafka into an alert on a socket.io client and on the alerts topic within 2 s', async () => {
    const { service, producer } = await setup();
    const series = stepSeries({ normal: 200, anomalous: 3, start: Date.now() - 2_030_000 });
    await producer.send({ topic: service.topics.changes, messages: [{ key: 'checkout', value: JSON.stringify(aChange({ timestamp: series[195]!.timestamp })) }] });
    await producer.send({ topic: service.topics.telemetry, messages: points(series.slice(0, 200)) });
    await eventually(() => service.core.stats(true).eventsProcessed === 201, 15_000, 'the normal points to be processed');

    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(service.url, { transports: ['websocket'] });
    cleanup.push(() => socket.close());
    const snapshot = await new Promise<Parameters<ServerToClientEvents['snapshot']>[0]>((resolve) => socket.once('snapshot', resolve));
    expect(snapshot.changes.map((c) => c.id)).toEqual(['chg-1']);
    const alerts = await TopicReader.start(brokers, service.topics.alerts);
    cleanup.push(() => alerts.stop());

    const sentAt = Date.now();
    const onSocket = new Promise<{ alert: Alert; at: number }>((resolve) => socket.once('alert', (alert) => resolve({ alert, at: Date.now() })));
    await producer.send({ topic: service.topics.telemetry, messages: points(series.slice(200)) });
    const { alert, at } = await onSocket;
    expect(at - sentAt).toBeLessThan(2_000);
    expect(alert).toMatchObject({ status: 'firing', service: 'checkout', metric: 'latency_p99' });
    expect(alert.suspects[0]?.changeId).toBe('chg-1');
    const onTopic = await alerts.waitFor((m) => m.length > 0, 2_000);
    expect(JSON.parse(onTopic[0]!.value.toString()).id).toBe(alert.id);
    expect(onTopic[0]!.key).toBe(alert.id);

    const api = (await (await fetch(`${service.url}/api/v1/alerts`)).json()) as { alerts: Alert[] };
    expect(api.alerts.map((a) => a.id)).toContain(alert.id);
  });

  it('dead-letters every kind of bad message with its reason and original bytes, and keeps consuming', async () => {
    const { service, producer } = await setup();
    const deadletters = await TopicReader.start(brokers, service.topics.deadletter);
    cleanup.push(() => deadletters.stop());
    const good = stepSeries({ normal: 5, anomalous: 0, start: Date.now() - 60_000 });
    const bad = [
      '{"service": "checkout", "metric":',
      JSON.stringify({ service: 'checkout', metric: 'error_rate', value: 'high', timestamp: Date.now() }),
      JSON.stringify({ service: 'checkout', metric: 'error_rate', value: 1, timestamp: 1_700_000_000 }),
      JSON.stringify({ service: 'checkout', metric: 'error_rate', value: 1, timestamp: Date.now() + 7 * 86_400_000 }),
      'x'.repeat(1_100_000),
      JSON.stringify([good[0], { nope: 1 }]),
    ];
    await producer.send({ topic: service.topics.telemetry, messages: [...bad.map((value) => ({ key: 'checkout', value })), ...points(good.slice(1))] });
    await producer.send({ topic: service.topics.changes, messages: [{ key: 'x', value: JSON.stringify({ ...aChange(), author: { type: 'robot', name: 'r' } }) }] });

    const dead = await deadletters.waitFor((m) => m.length >= 7);
    const codes = dead.map((m) => m.headers['changewatch-error-code']);
    expect(codes.sort()).toEqual(['CW_EVENT_INVALID_JSON', 'CW_EVENT_SCHEMA', 'CW_EVENT_SCHEMA', 'CW_EVENT_SCHEMA', 'CW_EVENT_TIMESTAMP', 'CW_EVENT_TIMESTAMP', 'CW_EVENT_TOO_LARGE'].sort());
    const invalidJson = dead.find((m) => m.headers['changewatch-error-code'] === 'CW_EVENT_INVALID_JSON')!;
    expect(invalidJson.value.toString()).toBe(bad[0]);
    expect(invalidJson.headers['changewatch-source-topic']).toBe(service.topics.telemetry);
    expect(invalidJson.headers['changewatch-error-message']).toMatch(/not valid JSON/);
    const arrayItem = dead.find((m) => m.headers['changewatch-item-index'] === '1')!;
    expect(arrayItem.value.toString()).toBe('{"nope":1}');
    // The good points, including the one sharing an array with a bad item, all reached the pipeline.
    await eventually(() => service.core.stats(true).eventsProcessed === 5, 10_000, 'the good points');
    expect(service.core.stats(true).deadLettered).toBe(7);
  });

  it('dead-letters points the pipeline refuses (a new series over maxSeries) with the item index of its array', async () => {
    const service = await startTestService(brokers, { env: { CHANGEWATCH_CONFIG: yamlFile('pipeline:\n  maxSeries: 1\n') } });
    cleanup.push(() => service.stop());
    const producer = await connectedProducer(brokers);
    cleanup.push(() => producer.disconnect());
    await eventually(() => service.ingest.ready, 20_000, 'the consumer to join its group');
    const deadletters = await TopicReader.start(brokers, service.topics.deadletter);
    cleanup.push(() => deadletters.stop());
    const at = Date.now() - 60_000;
    const tracked = { service: 'checkout', metric: 'latency_p99', value: 120, timestamp: at };
    const extra = { service: 'checkout', metric: 'error_rate', value: 0.01, timestamp: at };
    await producer.send({ topic: service.topics.telemetry, messages: [{ key: 'checkout', value: JSON.stringify([tracked, extra]) }] });

    const [dead] = await deadletters.waitFor((m) => m.length >= 1);
    expect(dead!.headers['changewatch-error-code']).toBe('CW_SERIES_LIMIT');
    expect(dead!.headers['changewatch-item-index']).toBe('1');
    expect(dead!.key).toBe('checkout');
    expect(JSON.parse(dead!.value.toString())).toEqual(extra);
    // Both points were handled (one refused by the pipeline); the first one started the only series.
    expect(service.core.stats(true)).toMatchObject({ eventsProcessed: 2, deadLettered: 1 });
    expect(service.core.seriesCount).toBe(1);
  });

  it.each(['partition', 'legacy'] as const)('does not skip a recreated topic whose offsets start again below the %s checkpoint', async (kind) => {
    const topics = uniqueTopics('recreated');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cw-data-'));
    const producer = await connectedProducer(brokers);
    cleanup.push(() => producer.disconnect());
    const series = stepSeries({ normal: 5, anomalous: 0, start: Date.now() - 120_000 });
    await producer.send({ topic: topics.telemetry, messages: points(series.slice(0, 3)) });
    // A checkpoint from before the topic was recreated: its offsets are far past today's ends.
    const checkpoints = path.join(dataDir, 'checkpoints');
    if (kind === 'partition') {
      await new FileCheckpointStore(checkpoints, topics.groupId).save([0, 1, 2, 3].map((partition) => ({ topic: topics.telemetry, partition, offset: '1000000', upserts: [], deletes: [] })));
    } else {
      const offsets = Object.fromEntries([0, 1, 2, 3].map((p) => [`${topics.telemetry}:${p}`, '1000000']));
      mkdirSync(checkpoints, { recursive: true });
      writeFileSync(path.join(checkpoints, `checkpoint-${topics.groupId}.json`), JSON.stringify({ state: createPipeline(DEFAULT_PIPELINE_OPTIONS).snapshot(), offsets }));
    }

    const service = await startTestService(brokers, { topics, dataDir });
    cleanup.push(() => service.stop());
    await eventually(() => service.core.stats(true).eventsProcessed === 3, 20_000, 'the points already on the recreated topic');
    await producer.send({ topic: topics.telemetry, messages: points(series.slice(3)) });
    await eventually(() => service.core.stats(true).eventsProcessed === 5, 10_000, 'the points sent after the start');
  });

  it('keeps consuming when its fetch thread dies: a new one takes over, nothing is lost or processed twice', { timeout: 60_000 }, async () => {
    const { service, producer } = await setup();
    const series = stepSeries({ normal: 120, anomalous: 0, start: Date.now() - 1_300_000 });
    await producer.send({ topic: service.topics.telemetry, messages: points(series.slice(0, 60)) });
    await eventually(() => service.core.stats(true).eventsProcessed === 60, 10_000, 'the first points');

    // What a crash of the thread looks like from outside (the class keeps its worker private).
    const fetcher = (service.ingest as unknown as { fetcher: { worker: Worker } }).fetcher;
    const dying = fetcher.worker;
    await dying.terminate();
    expect(service.ingest.ready).toBe(false);
    await producer.send({ topic: service.topics.telemetry, messages: points(series.slice(60)) });

    await eventually(() => service.ingest.ready, 30_000, 'a new fetch thread to join the group');
    expect(fetcher.worker).not.toBe(dying);
    await eventually(() => service.core.stats(true).eventsProcessed >= 120, 20_000, 'the rest of the points');
    // The new thread fetched again from the last committed offset; what was absorbed is skipped.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(service.core.stats(true).eventsProcessed).toBe(120);
    const offsets = Object.values(service.ingest.consumedOffsets()).map(Number);
    expect(offsets.reduce((a, b) => a + b, 0)).toBe(120);
  });

  it('accepts events over HTTP with per-item errors, routes them through Kafka, and dead-letters the refused items', async () => {
    const { service } = await setup({ CHANGEWATCH_CONFIG: testAuthConfigFile() });
    const deadletters = await TopicReader.start(brokers, service.topics.deadletter);
    cleanup.push(() => deadletters.stop());
    const res = await fetch(`${service.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(TEST_TOKENS.ingest) },
      body: JSON.stringify({ events: [{ change: aChange({ timestamp: Date.now() }) }, { metric: { service: 'checkout' } }, { bogus: {} }] }),
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number; rejected: Array<{ index: number; error: { code: string } }> };
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => [r.index, r.error.code])).toEqual([
      [1, 'CW_EVENT_SCHEMA'],
      [2, 'CW_EVENT_SCHEMA'],
    ]);
    await eventually(() => service.core.recentChanges().length === 1, 10_000, 'the change to come back from Kafka');
    // The refused items leave by the same path as Kafka's: the dead-letter topic, with the reason.
    const dead = await deadletters.waitFor((m) => m.length >= 2);
    // Without a key they may land on different partitions: compare in item order.
    expect(dead.map((m) => [m.headers['changewatch-error-code'], m.headers['changewatch-item-index'], JSON.parse(m.value.toString())]).sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
      ['CW_EVENT_SCHEMA', '1', { metric: { service: 'checkout' } }],
      ['CW_EVENT_SCHEMA', '2', { bogus: {} }],
    ]);
    const notJson = await fetch(`${service.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(TEST_TOKENS.ingest) }, body: '{' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('CW_EVENT_INVALID_JSON');
  });
});
