/**
 * KafkaIngest.consumerLag against the real mock broker: the partitions' real end offsets minus the
 * position the ingest processes next, and a fast refusal when no broker answers. The ingest is not started: the test sets what
 * its fetch side would have (the assignment, the positions) and asks.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../../server/config.ts';
import { Changewatch } from '../../../server/core.ts';
import { KafkaIngest } from '../../../server/ingest/kafka-ingest.ts';
import { createLogger } from '../../../server/log.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { aChange, aPoint } from '../../support/factories.ts';
import { connectedProducer, topicEnv, uniqueTopics } from '../../support/kafka-helpers.ts';

const brokers = inject('kafkaBrokers');
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

/** The ingest's state that its fetch side normally sets. */
interface Internals {
  assigned: Set<string> | undefined;
  positions: Map<string, number>;
  lagAdmin: { disconnect(): Promise<void> } | undefined;
}

function ingestFor(env: Record<string, string>): KafkaIngest {
  const config = loadConfig({ env });
  const ingest = new KafkaIngest(config, new Changewatch(createPipeline(config.pipeline)), { loadPartition: async () => undefined, loadLegacy: async () => undefined, save: async () => ({ behind: [] }) }, createLogger('silent'));
  cleanup.push(async () => (ingest as unknown as Internals).lagAdmin?.disconnect());
  return ingest;
}

describe('Kafka ingest consumer lag (real broker)', () => {
  // (A committed offset for a partition not fetched yet is not set up here: the mock broker has no DescribeGroups, which kafkajs's setOffsets needs.)
  it('is each partition end minus the next offset processed; a partition not fetched and never committed counts from its start', async () => {
    const topics = uniqueTopics('lag');
    const producer = await connectedProducer(brokers);
    cleanup.push(() => producer.disconnect());
    const point = JSON.stringify(aPoint({ timestamp: Date.now() }));
    await producer.send({ topic: topics.telemetry, messages: Array.from({ length: 5 }, () => ({ partition: 0, value: point })) });
    await producer.send({ topic: topics.telemetry, messages: Array.from({ length: 4 }, () => ({ partition: 1, value: point })) });
    await producer.send({ topic: topics.changes, messages: Array.from({ length: 3 }, (_, i) => ({ partition: 2, value: JSON.stringify(aChange({ id: `chg-${i}` })) })) });
    const ingest = ingestFor(topicEnv(topics, brokers));
    const internals = ingest as unknown as Internals;
    // Before the group assigns anything, only the changes and catalog (read in full, from their start) have lag.
    const beforeAssignment = await ingest.consumerLag();
    expect(beforeAssignment.filter((lag) => lag.topic === topics.telemetry)).toEqual([]);
    expect(beforeAssignment.filter((lag) => lag.topic === topics.changes && lag.lag > 0)).toEqual([{ topic: topics.changes, partition: 2, lag: 3 }]);

    internals.assigned = new Set([`${topics.telemetry}:0`, `${topics.telemetry}:1`, `${topics.telemetry}:2`]);
    internals.positions.set(`${topics.telemetry}:0`, 2);
    const lags = (await ingest.consumerLag()).filter((lag) => lag.topic === topics.telemetry).sort((a, b) => a.partition - b.partition);
    expect(lags).toEqual([
      { topic: topics.telemetry, partition: 0, lag: 3 },
      { topic: topics.telemetry, partition: 1, lag: 4 },
      { topic: topics.telemetry, partition: 2, lag: 0 },
    ]);
    internals.positions.set(`${topics.telemetry}:0`, 5);
    expect((await ingest.consumerLag()).find((lag) => lag.topic === topics.telemetry && lag.partition === 0)?.lag).toBe(0);
  });

  it('refuses within about two seconds when no broker answers', async () => {
    const ingest = ingestFor({ KAFKA_BROKERS: '127.0.0.1:9' });
    const startedAt = Date.now();
    await expect(ingest.consumerLag()).rejects.toThrow();
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });
});
