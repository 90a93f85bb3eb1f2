/**
 * How the Kafka edge applies fetched batches to the core, without a broker: batches are built by the
 * fetch side's encoder and handed to the ingest's processing step directly.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/config.ts';
import { Changewatch } from '../../../server/core.ts';
import { BatchEncoder, type FetchedBatch, type RawMessage } from '../../../server/ingest/fetched-batch.ts';
import { KafkaIngest } from '../../../server/ingest/kafka-ingest.ts';
import type { CheckpointStore, PartitionSave } from '../../../server/ingest/checkpoint.ts';
import { createLogger } from '../../../server/log.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { aPoint, T0 } from '../../support/factories.ts';

/** The ingest's private processing step and positions, which the Kafka side normally drives. */
interface Internals {
  positions: Map<string, number>;
  processBatch(batch: FetchedBatch): Promise<void>;
}

function messages(first: number, count: number): RawMessage[] {
  return Array.from({ length: count }, (_, i) => ({ offset: String(first + i), key: Buffer.from('checkout'), value: Buffer.from(JSON.stringify(aPoint({ timestamp: T0 + (first + i) * 10_000 }))) }));
}

describe('Kafka ingest applying fetched batches', () => {
  it('skips records below the absorbed position, but learns the series identities of a skipped batch', async () => {
    const config = loadConfig({ env: { KAFKA_BROKERS: '127.0.0.1:9' } });
    const core = new Changewatch(createPipeline(config.pipeline));
    const ingest = new KafkaIngest(config, core, { loadPartition: async () => undefined, loadLegacy: async () => undefined, save: async () => ({ behind: [] }) }, createLogger('silent'));
    const internals = ingest as unknown as Internals;
    const encoder = new BatchEncoder({ maxMessageBytes: 10_000, maxFutureSkewMs: Number.MAX_SAFE_INTEGER });
    const topic = config.kafka.topics.telemetry;
    // Offsets 0–3 were absorbed before a restart; they are fetched again, then 4–5 are new.
    internals.positions.set(`${topic}:0`, 4);
    const again = encoder.encode(topic, 0, 'metric', messages(0, 4), Date.now());
    const fresh = encoder.encode(topic, 0, 'metric', messages(4, 2), Date.now());
    expect(fresh.newSeries).toEqual([]); // the series was introduced by the skipped batch

    await internals.processBatch(again);
    expect(core.stats(true).eventsProcessed).toBe(0);
    await internals.processBatch(fresh);
    expect(core.stats(true).eventsProcessed).toBe(2);
    expect(ingest.consumedOffsets()).toEqual({ [`${topic}:0`]: '6' });
  });
});

describe('Kafka ingest and partition ownership', () => {
  /** An ingest over a recording checkpoint store that holds one saved partition (`:2`). */
  function setup() {
    const config = loadConfig({ env: { KAFKA_BROKERS: '127.0.0.1:9' } });
    const core = new Changewatch(createPipeline(config.pipeline));
    const topic = config.kafka.topics.telemetry;
    const saves: PartitionSave[][] = [];
    const loads: string[] = [];
    const donor = createPipeline(config.pipeline);
    for (let i = 0; i < 30; i++) donor.ingest({ metric: aPoint({ service: 'search', timestamp: T0 + i * 10_000 }) }, `${topic}:2`);
    const stored = { offset: '30', series: donor.shardChanges(`${topic}:2`).upserts.map((u) => u.state) };
    const checkpoints: CheckpointStore = {
      loadPartition: async (t, partition) => {
        loads.push(`${t}:${partition}`);
        return partition === 2 ? stored : undefined;
      },
      loadLegacy: async () => undefined,
      save: async (partitions) => {
        saves.push(partitions);
        return { behind: [] };
      },
    };
    const ingest = new KafkaIngest(config, core, checkpoints, createLogger('silent'));
    const internals = ingest as unknown as Internals & { reassign(assignment: Set<string>): Promise<void> };
    const encoder = new BatchEncoder({ maxMessageBytes: 10_000, maxFutureSkewMs: Number.MAX_SAFE_INTEGER });
    const batch = (partition: number, service: string, first: number, count: number) =>
      encoder.encode(topic, partition, 'metric', Array.from({ length: count }, (_, i) => ({ offset: String(first + i), key: Buffer.from(service), value: Buffer.from(JSON.stringify(aPoint({ service, timestamp: T0 + (first + i) * 10_000 }))) })), Date.now());
    return { core, ingest, internals, topic, saves, loads, batch };
  }

  it('restores a partition from its checkpoint before its first batch, and skips what the checkpoint holds', async () => {
    const { core, ingest, internals, topic, loads, batch } = setup();
    await internals.processBatch(batch(2, 'search', 25, 10));
    expect(loads).toEqual([`${topic}:2`]);
    // Offsets 25–29 are in the checkpoint; 30–34 are new.
    expect(core.stats(true).eventsProcessed).toBe(5);
    expect(ingest.consumedOffsets()).toEqual({ [`${topic}:2`]: '35' });
    expect(core.seriesCount).toBe(1);
  });

  it('checkpoints a partition the group moved away, drops its state, and skips its batches fetched before the move', async () => {
    const { core, ingest, internals, topic, saves, batch } = setup();
    await internals.processBatch(batch(0, 'checkout', 0, 10));
    await internals.processBatch(batch(1, 'payments', 0, 10));
    expect(core.seriesCount).toBe(2);
    await internals.reassign(new Set([`${topic}:1`]));
    expect(saves).toHaveLength(1);
    expect(saves[0]!.map((s) => [s.partition, s.offset, s.upserts.length])).toEqual([[0, '10', 1]]);
    expect(core.seriesCount).toBe(1);
    expect(ingest.consumedOffsets()).toEqual({ [`${topic}:1`]: '10' });
    const processed = core.stats(true).eventsProcessed;
    await internals.processBatch(batch(0, 'checkout', 10, 5));
    expect(core.stats(true).eventsProcessed).toBe(processed);
    expect(ingest.assignedPartitions()).toEqual([`${topic}:1`]);
  });
});
