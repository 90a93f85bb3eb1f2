/**
 * Checkpoints tie the pipeline's state to the Kafka offsets it has absorbed, so a restart resumes
 * exactly: state from the checkpoint, and every message below the checkpoint's offsets is skipped
 * even if Kafka's committed offsets lag behind (a crash between saving and committing).
 */
import type { PipelineSnapshot } from '../pipeline/pipeline.ts';

/** Pipeline state plus, per `topic:partition`, the next offset not yet reflected in that state. */
export interface Checkpoint {
  state: PipelineSnapshot;
  offsets: Record<string, string>;
}

/** Durable storage for the latest checkpoint of one consumer group. */
export interface CheckpointStore {
  load(): Promise<Checkpoint | undefined>;
  /**
   * Stores `checkpoint`, replacing the previous one. Must serialize it before its first `await`:
   * the caller goes on changing the pipeline state while the write is in progress.
   */
  save(checkpoint: Checkpoint): Promise<void>;
}

/** Key of a topic partition in `Checkpoint.offsets`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** `Checkpoint.offsets` as a list of topic, partition and offset (the inverse of `partitionKey`). */
export function partitionOffsets(offsets: Record<string, string>): Array<{ topic: string; partition: number; offset: string }> {
  return Object.entries(offsets).map(([key, offset]) => {
    // Kafka topic names cannot contain ':', so the last one separates the partition.
    const cut = key.lastIndexOf(':');
    return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), offset };
  });
}
