/**
 * How the Kafka edge applies fetched batches to the core, without a broker: batches are built by the
 * fetch side's encoder and handed to the ingest's processing step directly.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/config.ts';
import { Changewatch } from '../../../server/core.ts';
import { BatchEncoder, type FetchedBatch, type RawMessage } from '../../../server/ingest/fetched-batch.ts';
import { KafkaIngest } from '../../../server/ingest/kafka-ingest.ts';
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
