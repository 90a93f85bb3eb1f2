/**
 * Pipeline checkpoints, per consumer group: per telemetry partition, its series (one row each) and
 * the next offset not reflected in them, saved in one transaction so a restart or a new owner never
 * resumes from an offset that does not match the state. Earlier builds kept the whole state as one
 * document (`load`, read once at an upgrade).
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

/** What one save writes for one partition. */
export interface PartitionCheckpointWrite {
  topic: string;
  partition: number;
  offset: string;
  upserts: ReadonlyArray<{ key: string; state: string }>;
  deletes: readonly string[];
  /** Written even when the stored offset is further (the topic was recreated). */
  restart?: boolean;
}

/** A series key as stored: JSON-quoted, since PostgreSQL text cannot hold the `\u0000` keys contain. */
function storedKey(key: string): string {
  return JSON.stringify(key);
}

/** Series rows per INSERT statement of a save. */
const UPSERT_SLICE = 500;

/** Saves and loads checkpoints. */
export class CheckpointRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Writes each partition's changed and forgotten series and its offset, in one transaction. A
   * partition whose stored offset is past the given one is left alone (row-locked while checked: the
   * instance that owns it now has gone further) and its `topic:partition` returned.
   */
  async savePartitions(consumerGroup: string, saves: readonly PartitionCheckpointWrite[]): Promise<string[]> {
    return this.sql.transaction(async (tx) => {
      const behind: string[] = [];
      for (const save of saves) {
        const id = [consumerGroup, save.topic, save.partition];
        const [stored] = await tx.query<{ offset: string }>(
          'SELECT "offset"::text AS "offset" FROM partition_checkpoints WHERE consumer_group = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
          id,
        );
        if (stored && BigInt(stored.offset) > BigInt(save.offset) && !save.restart) {
          behind.push(`${save.topic}:${save.partition}`);
          continue;
        }
        await tx.query(
          `INSERT INTO partition_checkpoints (consumer_group, topic, partition, "offset", saved_at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET "offset" = EXCLUDED."offset", saved_at = EXCLUDED.saved_at`,
          [...id, save.offset],
        );
        if (save.deletes.length) {
          await tx.query('DELETE FROM series_checkpoints WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND series_key = ANY($4::text[])', [...id, save.deletes.map(storedKey)]);
        }
        // In slices, so no statement carries more than a few megabytes of parameters.
        for (let at = 0; at < save.upserts.length; at += UPSERT_SLICE) {
          const slice = save.upserts.slice(at, at + UPSERT_SLICE);
          await tx.query(
            `INSERT INTO series_checkpoints (consumer_group, topic, partition, series_key, state)
             SELECT $1, $2, $3, key, state FROM unnest($4::text[], $5::text[]) AS u(key, state)
             ON CONFLICT (consumer_group, topic, partition, series_key) DO UPDATE SET state = EXCLUDED.state`,
            [...id, slice.map((u) => storedKey(u.key)), slice.map((u) => u.state)],
          );
        }
      }
      return behind;
    });
  }

  /** A partition's offset and series, or `undefined` when none was saved. */
  async loadPartition(consumerGroup: string, topic: string, partition: number): Promise<{ offset: string; series: string[] } | undefined> {
    const id = [consumerGroup, topic, partition];
    const [stored] = await this.sql.query<{ offset: string }>('SELECT "offset"::text AS "offset" FROM partition_checkpoints WHERE consumer_group = $1 AND topic = $2 AND partition = $3', id);
    if (!stored) return undefined;
    const rows = await this.sql.query<{ state: string }>('SELECT state FROM series_checkpoints WHERE consumer_group = $1 AND topic = $2 AND partition = $3', id);
    return { offset: stored.offset, series: rows.map((r) => r.state) };
  }

  /** True once any partition checkpoint of `consumerGroup` exists (an earlier build's document is then ignored). */
  async hasPartitions(consumerGroup: string): Promise<boolean> {
    const rows = await this.sql.query('SELECT 1 FROM partition_checkpoints WHERE consumer_group = $1 LIMIT 1', [consumerGroup]);
    return rows.length > 0;
  }

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
