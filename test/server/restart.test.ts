/**
 * Crash safety, end to end: a changewatch process is SIGKILLed mid-stream and restarted on the same
 * data dir and consumer group. Every event must still be consumed, and the alerts topic must hold
 * exactly the alert ids a clean replay of the same input produces: nothing lost, no duplicate alert
 * for the same anomaly.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Alert } from '../../contract/alert.ts';
import { startServiceProcess, type ServiceProcess } from '../../tooling/dev/service-process.ts';
import { replayRecords } from '../../server/pipeline/replay.ts';
import { aChange, metricRecords, stepSeries } from '../support/factories.ts';
import { connectedProducer, eventually, testKafka, TopicReader, topicEnv, uniqueTopics } from '../support/kafka-helpers.ts';

const brokers = inject('kafkaBrokers');
const children: ServiceProcess[] = [];
afterEach(() => {
  for (const service of children.splice(0)) service.child.kill('SIGKILL');
});

async function startProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const service = await startServiceProcess(env);
  children.push(service);
  return service;
}

async function status(url: string): Promise<{ stats: { eventsProcessed: number }; consumedOffsets: Record<string, string> }> {
  return (await (await fetch(`${url}/api/v1/status`)).json()) as never;
}

describe('kill and restart mid-stream', () => {
  it('loses nothing and emits no duplicate alert ids', async () => {
    const topics = uniqueTopics('restart');
    // A 1 s checkpoint interval lets the test place the kill between two checkpoints.
    const env = { ...topicEnv(topics, brokers), CHANGEWATCH_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'cw-restart-')), KAFKA_CHECKPOINT_INTERVAL_MS: '1000' };
    const start = Date.now() - 3 * 3_600_000;
    const points = ['checkout', 'payments', 'inventory', 'search'].flatMap((service, i) =>
      stepSeries({ service, metric: 'latency_p99', start: start + i * 1_000, normal: 250 + 40 * i, anomalous: 15 }).concat(
        stepSeries({ service, metric: 'latency_p99', start: start + i * 1_000 + (265 + 40 * i) * 10_000, normal: 120, anomalous: 0 }),
      ),
    ).sort((a, b) => a.timestamp - b.timestamp);
    const change = aChange({ service: 'payments', timestamp: start + 280 * 10_000 });
    const expectedIds = new Set(replayRecords([...metricRecords(points)]).map((a) => a.id));
    expect(expectedIds.size).toBeGreaterThanOrEqual(4);

    const producer = await connectedProducer(brokers);
    const send = (slice: typeof points) => producer.send({ topic: topics.telemetry, messages: slice.map((p) => ({ key: p.service, value: JSON.stringify(p) })) });
    // Kill while checkout's anomaly is open: a restart that lost the pipeline state would re-learn
    // the anomalous level as normal and never resolve (or re-open) that alert.
    const cut = points.findIndex((p) => p.timestamp > start + 2_550_000);
    await send(points.slice(0, cut));
    await producer.send({ topic: topics.changes, messages: [{ key: change.service, value: JSON.stringify(change) }] });
    const alertsSoFar = await TopicReader.start(brokers, topics.alerts);
    const first = await startProcess(env);
    const processed = async (n: number) => eventually(async () => (await status(first.url)).stats.eventsProcessed >= n, 30_000, `the first process to consume ${n} events`);
    await alertsSoFar.waitFor((m) => m.length > 0, 30_000);
    await alertsSoFar.stop();
    await processed(cut + 1);
    // After the checkpoint interval, the next batch checkpoints (state + committed offsets) past the onset...
    await new Promise((r) => setTimeout(r, 1_500));
    await send(points.slice(cut, cut + 20));
    await processed(cut + 21);
    // ...and this batch is absorbed but not yet checkpointed when the process dies: it must be redone from the checkpoint.
    await send(points.slice(cut + 20, cut + 40));
    await processed(cut + 41);
    first.child.kill('SIGKILL');
    await send(points.slice(cut + 40));

    const second = await startProcess(env);
    const admin = testKafka(brokers).admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topics.telemetry);
    await admin.disconnect();
    await eventually(
      async () => {
        const consumed = (await status(second.url)).consumedOffsets;
        return ends.every((p) => p.high === '0' || consumed[`${topics.telemetry}:${p.partition}`] === p.high);
      },
      60_000,
      'the restarted process to consume every telemetry message',
    );

    const alerts = await TopicReader.start(brokers, topics.alerts);
    await eventually(() => new Set(alerts.messages.map((m) => m.key)).size >= expectedIds.size, 15_000, 'the alerts topic');
    await new Promise((r) => setTimeout(r, 500));
    await alerts.stop();
    await producer.disconnect();
    const seen = alerts.messages.map((m) => JSON.parse(m.value.toString()) as Alert);
    expect(new Set(seen.map((a) => a.id))).toEqual(expectedIds);
    // Every anomaly resolved in the end: the restarted state carried on from the checkpoint.
    const final = new Map(seen.map((a) => [a.id, a.status]));
    expect([...final.values()].every((s) => s === 'resolved')).toBe(true);
  }, 120_000);
});
