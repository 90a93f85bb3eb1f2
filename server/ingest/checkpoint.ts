/**
 * Checkpoints tie the pipeline's state to the Kafka offsets it has absorbed, one telemetry partition
 * at a time: each partition's checkpoint holds the series whose points arrive on it (one row each)
 * and the next offset not reflected in them. A save writes only the series that changed, together
 * with the partition's new offset, atomically; the offset is committed to Kafka only afterwards, and
 * every message below a restored checkpoint's offset is skipped even if Kafka's committed offset lags
 * (a crash between saving and committing). An instance that is assigned a partition restores it from
 * here before it processes its first message (docs/scaling.md).
 */
import type { PipelineSnapshot } from '../pipeline/pipeline.ts';

/** One partition's saved state. */
export interface PartitionState {
  /** Next offset not yet reflected in `series`. */
  offset: string;
  /** The partition's series, one JSON text each (`Pipeline.importShard`). */
  series: string[];
}

/** What one save writes for one partition: changed series, forgotten series, and the new offset. */
export interface PartitionSave {
  topic: string;
  partition: number;
  offset: string;
  upserts: Array<{ key: string; state: string }>;
  deletes: string[];
  /**
   * Saved even if the stored offset is further: that offset was found past the end of the partition
   * (the topic was recreated), so offsets start again below it.
   */
  restart?: boolean;
}

/** What an earlier build wrote: the whole state as one document, with the offsets it covers. */
export interface LegacyCheckpoint {
  state: PipelineSnapshot;
  offsets: Record<string, string>;
}

/** Durable storage for the partition checkpoints of one consumer group. */
export interface CheckpointStore {
  /** The partition's checkpoint, or undefined when none was saved. */
  loadPartition(topic: string, partition: number): Promise<PartitionState | undefined>;
  /**
   * Saves each partition's changes with its offset, atomically per partition. A partition whose
   * stored offset is already past the given one (another instance owns it now and has gone further)
   * is left as it is and listed in `behind`. Must take everything it needs before its first `await`:
   * the caller goes on changing the pipeline while the write is in progress.
   */
  save(partitions: PartitionSave[]): Promise<{ behind: string[] }>;
  /**
   * The whole-state checkpoint an earlier build wrote, only while no partition checkpoint exists
   * (an upgrade restores it once; its series move to their partitions as their points arrive).
   */
  loadLegacy(): Promise<LegacyCheckpoint | undefined>;
}

/** Key of a topic partition in offset maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** A `partitionKey` split back into topic and partition. */
export function parsePartitionKey(key: string): { topic: string; partition: number } {
  // Kafka topic names cannot contain ':', so the last one separates the partition.
  const cut = key.lastIndexOf(':');
  return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)) };
}

/** An offset map as a list of topic, partition and offset. */
export function partitionOffsets(offsets: Record<string, string>): Array<{ topic: string; partition: number; offset: string }> {
  return Object.entries(offsets).map(([key, offset]) => ({ ...parsePartitionKey(key), offset }));
}
