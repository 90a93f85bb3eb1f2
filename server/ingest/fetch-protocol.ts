/**
 * Messages between the pipeline thread and the fetch thread (`fetch-worker.ts`). The fetch thread
 * owns the kafkajs consumer: it joins the group, fetches, decodes and validates, and hands over
 * `FetchedBatch`es; the pipeline thread processes them and says when offsets may be committed.
 */
import type { EventKind } from '../wire/decode.ts';
import type { FetchedBatch } from './fetched-batch.ts';
import type { OtlpEncoding } from '../otlp/proto.ts';

/** What the fetch thread starts with (`workerData`). */
export interface FetchWorkerSettings {
  clientId: string;
  brokers: string[];
  groupId: string;
  maxWaitTimeMs: number;
  maxMessageBytes: number;
  maxFutureSkewMs: number;
  /** Input topic → the kind of event it carries. */
  topics: Record<string, EventKind>;
  /**
   * The topics every instance reads in full (changes and the catalog), outside the group, from the
   * beginning; the rest (telemetry) is shared out by the group.
   */
  broadcastTopics: string[];
  /** Names the broadcast consumer's own group (never committed to, so it vanishes when the consumer leaves). */
  instanceId: string;
  /** Fetched messages the pipeline may have waiting before the fetch thread stops fetching. */
  maxQueuedMessages: number;
  /** OTLP metrics topics (shared out by the group like telemetry) → their messages' encoding (otlp-batch.ts). */
  otlpTopics?: Record<string, OtlpEncoding>;
}

/** A topic partition's next offset to consume. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** Pipeline thread → fetch thread. */
export type ToFetchThread =
  /** The pipeline absorbed (or dropped) this many fetched messages: room for more. */
  | { type: 'processed'; messages: number }
  | { type: 'commit'; id: number; offsets: PartitionOffset[] }
  /** Leave the group and disconnect; replies when done. */
  | { type: 'stop'; id: number };

/** Fetch thread → pipeline thread. */
export type FromFetchThread =
  | { type: 'batch'; batch: FetchedBatch }
  /**
   * The group consumer joined its group (true; with the partitions assigned to it, by topic) or left
   * it, crashed or disconnected (false). Posted after every batch fetched before it.
   */
  | { type: 'joined'; joined: boolean; assignment?: Record<string, number[]> }
  /** No broker answered any request for `silentMs` (false), or one answers again (true). */
  | { type: 'contact'; inTouch: boolean; silentMs?: number }
  | { type: 'log'; level: 'error' | 'warn' | 'debug'; message: string; fields: Record<string, unknown> }
  | { type: 'reply'; id: number; error?: string };
