/**
 * Pipeline checkpoints: the pipeline's state as JSON plus the Kafka offsets it covers, per consumer
 * group, saved in one transaction so a restart never resumes from offsets that do not match the state.
 */
import type { SqlClient } from '../sql-client.ts';
import { isoString } from './rows.ts';

/** The next offset to consume for one topic partition (Kafka offsets are decimal strings). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** A saved checkpoint. */
export interface Checkpoint {
  state: unknown;
  offsets: PartitionOffset[];
  /** ISO-8601. */
  savedAt: string;
}

/** Saves and loads checkpoints. */
export class CheckpointRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Atomically replaces the state and upserts the given offsets of `consumerGroup` (partitions not
   * listed keep their earlier offsets). Joins the caller's transaction when called inside one.
   */
  async save(consumerGroup: string, state: unknown, offsets: readonly PartitionOffset[], savedAt = new Date().toISOString()): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO pipeline_checkpoints (consumer_group, state, saved_at) VALUES ($1, $2::jsonb, $3)
         ON CONFLICT (consumer_group) DO UPDATE SET state = EXCLUDED.state, saved_at = EXCLUDED.saved_at`,
        [consumerGroup, JSON.stringify(state), savedAt],
      );
      for (const { topic, partition, offset } of offsets) {
        await tx.query(
          `INSERT INTO kafka_offsets (consumer_group, topic, partition, "offset") VALUES ($1, $2, $3, $4)
           ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET "offset" = EXCLUDED."offset"`,
          [consumerGroup, topic, partition, offset],
        );
      }
    });
  }

  /** The latest checkpoint of `consumerGroup`, or `undefined` when none was saved. */
  async load(consumerGroup: string): Promise<Checkpoint | undefined> {
    const [checkpoint] = await this.sql.query<{ state: unknown; saved_at: Date }>(
      'SELECT state, saved_at FROM pipeline_checkpoints WHERE consumer_group = $1',
      [consumerGroup],
    );
    if (!checkpoint) return undefined;
    const offsets = await this.sql.query<PartitionOffset>(
      'SELECT topic, partition, "offset" FROM kafka_offsets WHERE consumer_group = $1 ORDER BY topic, partition',
      [consumerGroup],
    );
    return { state: checkpoint.state, offsets, savedAt: isoString(checkpoint.saved_at) };
  }
}
