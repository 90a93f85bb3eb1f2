/**
 * The Kafka edge: consumes changes, telemetry and catalog entries in one consumer group, hands valid
 * records to the core, dead-letters the rest, produces alerts, and commits offsets only after the
 * state that absorbed them is checkpointed (at-least-once, no lost events).
 *
 * Two threads: the fetch thread (`fetch-worker.ts`) runs the kafkajs consumer and decodes and
 * validates what it fetches; this class, on the main thread, runs the decoded batches through the
 * core in order, produces alerts and dead letters, checkpoints, and tells the fetch thread to commit.
 */
import { Kafka, logLevel, Partitioners, type LogEntry, type Message, type Producer } from 'kafkajs';
import type { ChangeEvent, ServiceEntry, TelemetryPoint } from '../../contract/events.ts';
import type { Config } from '../config.ts';
import type { ReplayRecord } from '../wire/schemas.ts';
import type { ChangewatchError } from '../errors.ts';
import type { Changewatch } from '../core.ts';
import type { DeadLetter, Emission, EmissionSink } from '../emission.ts';
import type { Logger } from '../log.ts';
import { RateLimitedLog } from '../log.ts';
import type { EventKind } from '../wire/decode.ts';
import { partitionKey, partitionOffsets, type CheckpointStore } from './checkpoint.ts';
import { rejectError, SeriesTable, type FetchedBatch } from './fetched-batch.ts';
import { FetchThread } from './fetch-thread.ts';
import { PublishQueue } from './publish-queue.ts';

/** How often a pending POST /api/v1/events send checks that the service is still in touch with Kafka. */
const READY_WATCH_MS = 250;

/**
 * How many fetched messages may wait for processing before the fetch thread stops fetching. One
 * fetch brings up to 1 MB per partition (several thousand small events each), so this is about a
 * fetch or two of small events: with 10,000 the fetch thread waited for the pipeline within every
 * fetch. Waiting batches are columns of numbers, about 50 bytes per point.
 */
const MAX_QUEUED_MESSAGES = 40_000;

/**
 * How many produced alerts and dead letters may wait for the broker's acknowledgement before
 * processing waits too: a broker that stops acknowledging holds the pipeline here instead of
 * letting the queue grow without bound.
 */
const MAX_UNACKNOWLEDGED_MESSAGES = 10_000;

/** Largest dead-letter payload kept whole; larger originals are truncated (and flagged) so the DLQ write itself cannot fail on size. */
const MAX_DEAD_LETTER_BYTES = 900_000;

/** Where a refused record came from within its batch. */
interface RefusedAt {
  topic: string;
  partition: number;
  offset: number;
  key: Uint8Array | null;
  /** Index within an array message, or -1. */
  index: number;
}

/** Consumes the input topics and produces alerts and dead letters. */
export class KafkaIngest implements EmissionSink {
  /** Names this sink in logs. */
  readonly name = 'kafka';
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly publisher: PublishQueue;
  private readonly fetcher: FetchThread;
  private readonly kindByTopic: Map<string, EventKind>;
  private readonly badInputLog: RateLimitedLog;
  private readonly series = new SeriesTable();
  /**
   * Next offset to process per partition, as absorbed by the pipeline state. Records below it are
   * skipped: they are in the state already (restored from a checkpoint whose offsets Kafka's
   * committed ones may lag, or fetched again after the fetch thread restarted).
   */
  private readonly positions = new Map<string, number>();
  /** Fetched batches not processed yet, oldest first; one loop (`drain`) processes them in order. */
  private readonly queue: FetchedBatch[] = [];
  private draining: Promise<void> | undefined;
  /** Generation of the fetch thread whose batches are queued (see `enqueue`). */
  private fetchGeneration = 0;
  private stopping = false;
  private lastCheckpointAt = 0;
  private dirty = false;
  /** The checkpoint being written and committed, while processing goes on (see `checkpoint`). */
  private saving: Promise<void> | undefined;
  private producerConnected = false;
  /** Where the point being handled was read (reused for every point of a batch). */
  private readonly pointAt: RefusedAt = { topic: '', partition: 0, offset: 0, key: null, index: -1 };
  private pointBeingHandled: TelemetryPoint | undefined;

  constructor(
    private readonly config: Config,
    private readonly core: Changewatch,
    private readonly checkpoints: CheckpointStore,
    private readonly log: Logger,
  ) {
    const { kafka: k } = config;
    this.kafka = new Kafka({ clientId: k.clientId, brokers: [...k.brokers], logLevel: logLevel.WARN, logCreator: kafkaLogCreator(log) });
    this.producer = this.kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
    this.publisher = new PublishQueue(this.producer, log);
    this.kindByTopic = new Map<string, EventKind>([
      [k.topics.changes, 'change'],
      [k.topics.telemetry, 'metric'],
      [k.topics.services, 'service'],
    ]);
    this.badInputLog = new RateLimitedLog(log);
    this.fetcher = new FetchThread(
      {
        clientId: k.clientId,
        brokers: [...k.brokers],
        groupId: k.groupId,
        maxWaitTimeMs: k.maxWaitTimeMs,
        maxMessageBytes: k.maxMessageBytes,
        maxFutureSkewMs: k.maxFutureSkewMs,
        topics: Object.fromEntries(this.kindByTopic),
        maxQueuedMessages: MAX_QUEUED_MESSAGES,
      },
      (batch, generation) => this.enqueue(batch, generation),
      log,
    );
    this.producer.on(this.producer.events.CONNECT, () => (this.producerConnected = true));
    this.producer.on(this.producer.events.DISCONNECT, () => (this.producerConnected = false));
  }

  /**
   * True once the consumer is in its group, a broker answered it within the last second or two, and
   * the producer is connected. (The producer's own state is no signal of a broker gone: kafkajs
   * reports it disconnected only after an explicit disconnect.)
   */
  get ready(): boolean {
    return this.fetcher.joined && this.fetcher.inTouch && this.producerConnected;
  }

  /** Next offset to process per `topic:partition`, as absorbed by the pipeline. */
  consumedOffsets(): Record<string, string> {
    const offsets: Record<string, string> = {};
    for (const [key, offset] of this.positions) offsets[key] = String(offset);
    return offsets;
  }

  /** Connects the producer and starts the fetch thread; resumes from `offsets` of the checkpoint the core was restored from. */
  async start(restoredOffsets: Record<string, string> = {}): Promise<void> {
    for (const [key, offset] of Object.entries(restoredOffsets)) this.positions.set(key, Number(offset));
    // The first checkpoint is due one interval after start, not on the first batch.
    this.lastCheckpointAt = Date.now();
    await this.producer.connect();
    await this.forgetPositionsPastTheEnd();
    this.fetcher.start();
  }

  /**
   * A restored position past the end of its partition means the topic was recreated (or this is
   * another cluster): its offsets start again from 0, and every new message would be skipped as
   * already absorbed. Such positions are dropped, with a warning; the state itself is kept.
   */
  private async forgetPositionsPastTheEnd(): Promise<void> {
    if (this.positions.size === 0) return;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      for (const topic of this.kindByTopic.keys()) {
        const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
        for (const { partition, high } of ends) {
          const key = partitionKey(topic, partition);
          const position = this.positions.get(key);
          if (position === undefined || position <= Number(high)) continue;
          this.positions.delete(key);
          this.log.warn({ topic, partition, checkpointOffset: position, endOffset: Number(high) }, 'the checkpoint is past the end of this partition (was the topic recreated?): consuming it from its committed offset or its beginning');
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'could not compare the checkpoint with the end of each partition');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * Produces records to an input topic, as POST /api/v1/events does for systems without Kafka
   * access. Rejects as soon as the service stops being ready while the send waits: kafkajs would
   * otherwise hold the caller through all its retries (10–15 s with the broker gone) before failing.
   * The send itself is not cancelled, so a record may still land after the rejection (the caller is
   * told "some may have been produced").
   */
  async publish(kind: EventKind, messages: Array<{ key: string; value: string }>): Promise<void> {
    const topic = [...this.kindByTopic].find(([, k]) => k === kind)![0];
    const sent = this.producer.send({ topic, messages });
    let watch: NodeJS.Timeout | undefined;
    const lost = new Promise<never>((_, reject) => {
      watch = setInterval(() => {
        if (!this.ready) reject(new Error('the service lost touch with Kafka while the records were being sent'));
      }, READY_WATCH_MS);
    });
    try {
      await Promise.race([sent, lost]);
    } finally {
      clearInterval(watch);
      // A send that fails after the race was lost must not become an unhandled rejection.
      sent.catch(() => undefined);
    }
  }

  /** Finishes the batch in progress, saves a final checkpoint, commits, and disconnects. */
  async stop(): Promise<void> {
    // Queued batches are left unprocessed: their offsets are not in `positions`, so they are
    // fetched again after a restart.
    this.stopping = true;
    this.publisher.stopRetrying();
    await this.draining;
    await this.saving;
    if (this.dirty) {
      // With the broker gone, alerts of the last batches may be unacknowledged: no checkpoint then,
      // and the restart processes those batches again from the last one.
      await this.checkpoint().catch((err: unknown) => this.log.error({ err }, 'final checkpoint skipped: produced messages were not acknowledged'));
      await this.saving;
    }
    await this.fetcher.stop();
    await this.producer.disconnect();
  }

  /** A batch from the fetch thread: queued, and the processing loop started if it is idle. */
  private enqueue(batch: FetchedBatch, generation: number): void {
    if (this.stopping) return;
    if (generation !== this.fetchGeneration) {
      // A new fetch thread (the last one died): batches of the old one still queued are dropped,
      // since their series ids belong to its dictionary; the new one fetches them again.
      this.fetchGeneration = generation;
      this.queue.length = 0;
    }
    this.queue.push(batch);
    this.draining ??= this.drain();
  }

  /** Processes queued batches in order until none is left. */
  private async drain(): Promise<void> {
    while (this.queue.length && !this.stopping) {
      const next = this.queue.shift()!;
      try {
        await this.processBatch(next);
        this.fetcher.processed(next.messageCount);
      } catch (err) {
        // Nothing fetched after the last absorbed offset is lost: the fetch thread is replaced and
        // fetches again from the committed offsets, and `positions` skips what is already absorbed.
        this.log.error({ err, topic: next.topic, partition: next.partition }, 'processing a Kafka batch failed; fetching again from the committed offsets');
        this.queue.length = 0;
        await this.fetcher.restart().catch((restartErr: unknown) => this.log.error({ err: restartErr }, 'restarting the Kafka fetch thread failed'));
      }
      // Between batches the socket, HTTP and timers get their turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.draining = undefined;
  }

  /**
   * Runs one batch through the core. The hot path of the service: points are read from the batch's
   * columns one at a time, with no closures or objects beyond the point itself (`at` and
   * `deadLetterOfPoint` are reused for every point). What the core emits reaches the topics through
   * `accept`, like every other sink's.
   */
  private async processBatch(batch: FetchedBatch): Promise<void> {
    const { topic, partition } = batch;
    const key = partitionKey(topic, partition);
    const from = this.positions.get(key) ?? 0;
    // Even a batch that is all below the position carries series identities later batches refer to.
    this.series.absorb(batch);
    if (batch.nextOffset <= from) return;
    const at = this.pointAt;
    at.topic = topic;
    at.partition = partition;

    const columns = batch.points;
    for (let i = 0; i < columns.length; i++) {
      const offset = columns.offsets[i]!;
      if (offset < from) continue;
      const point = this.series.point(columns, i);
      // The message's own key is not kept for points; by the contract it is the service.
      at.offset = offset;
      at.index = columns.items[i]!;
      this.pointBeingHandled = point;
      this.core.handle({ metric: point }, this.deadLetterOfPoint);
    }
    for (const record of batch.records) {
      if (record.offset < from) continue;
      const refusedAt: RefusedAt = { topic, partition, offset: record.offset, key: record.key, index: record.index };
      this.core.handle(recordOf(batch.kind, record.value), (error) => this.deadLetter(refusedAt, error, JSON.stringify(record.value)));
    }
    for (const reject of batch.rejects) {
      if (reject.offset < from) continue;
      this.core.reject(this.deadLetter({ topic, partition, offset: reject.offset, key: reject.key, index: reject.index }, rejectError(reject), reject.original));
    }

    this.positions.set(key, batch.nextOffset);
    this.dirty = true;
    if (this.publisher.backlog > MAX_UNACKNOWLEDGED_MESSAGES) await this.publisher.flushed();
    if (!this.saving && Date.now() - this.lastCheckpointAt >= this.config.kafka.checkpointIntervalMs) await this.checkpoint();
  }

  /**
   * The Kafka sink: every alert emission goes to the alerts topic (keyed by alert id, so one
   * alert's statuses stay in order on one partition) and every dead letter, from whichever edge,
   * to the dead-letter topic. Produced in the background; a checkpoint waits for the
   * acknowledgement before it records the offsets they came from.
   */
  accept(emission: Emission): void {
    if (emission.alerts.length) this.publisher.add(this.config.kafka.topics.alerts, emission.alerts.map((alert) => ({ key: alert.id, value: JSON.stringify(alert) })));
    if (emission.deadLetters.length) this.publisher.add(this.config.kafka.topics.deadletter, emission.deadLetters.map(toDeadLetterMessage));
  }

  /** The dead letter of the point being handled, at `pointAt`. */
  private readonly deadLetterOfPoint = (error: ChangewatchError): DeadLetter => {
    const point = this.pointBeingHandled!;
    this.pointAt.key = Buffer.from(point.service);
    return this.deadLetter(this.pointAt, error, JSON.stringify(point));
  };

  /** Builds (and logs) the dead letter of one refused record; the core counts and emits it. */
  private deadLetter(at: RefusedAt, error: ChangewatchError, original: Uint8Array | string): DeadLetter {
    const key = at.key ? Buffer.from(at.key.buffer, at.key.byteOffset, at.key.byteLength) : null;
    const source: DeadLetter['source'] = { kind: 'kafka', topic: at.topic, partition: at.partition, offset: String(at.offset), ...(key ? { key: key.toString() } : {}) };
    if (at.index >= 0) source.index = at.index;
    const bytes = typeof original === 'string' ? original : Buffer.from(original.buffer, original.byteOffset, original.byteLength);
    const where = { topic: at.topic, partition: at.partition, offset: String(at.offset), index: at.index >= 0 ? at.index : undefined };
    if (error.code === 'CW_INTERNAL') this.log.error({ ...where, err: error.cause }, error.message);
    else this.badInputLog.warn(error.code, where, error.message);
    return { error, original: bytes, source };
  }

  /**
   * Checkpoints the state with the offsets it absorbed, then commits those offsets. Alerts and dead
   * letters produced from those offsets are acknowledged first (at-least-once for the output too).
   * Returns once the checkpoint is captured: the store serializes it before its `save` yields, so
   * the write (hundreds of ms for a large state in PostgreSQL) and the commit go on in `saving`
   * while the pipeline processes the next batches. A failed write is logged and retried at the next
   * interval; a failed commit is only logged: the checkpoint holds the offsets.
   */
  private async checkpoint(): Promise<void> {
    await this.publisher.flushed();
    const offsets = this.consumedOffsets();
    const written = this.checkpoints.save({ state: this.core.snapshot(), offsets });
    this.lastCheckpointAt = Date.now();
    this.dirty = false;
    this.saving = this.commitOnceWritten(written, offsets).finally(() => (this.saving = undefined));
  }

  /** Waits for a checkpoint's write, then commits its offsets; never rejects. */
  private async commitOnceWritten(written: Promise<void>, offsets: Record<string, string>): Promise<void> {
    try {
      await written;
    } catch (err) {
      this.dirty = true;
      this.log.error({ err }, 'saving a checkpoint failed; trying again at the next interval');
      return;
    }
    await this.fetcher.commit(partitionOffsets(offsets)).catch((err: unknown) => this.log.warn({ err }, 'committing offsets failed; the checkpoint holds them'));
  }
}

/** The core's record for a decoded value of `kind`. */
function recordOf(kind: EventKind, value: ChangeEvent | TelemetryPoint | ServiceEntry): ReplayRecord {
  if (kind === 'metric') return { metric: value as TelemetryPoint };
  if (kind === 'change') return { change: value as ChangeEvent };
  return { service: value as ServiceEntry };
}

/** The dead-letter record: the original bytes as the value, the reason and the source in headers. */
function toDeadLetterMessage(deadLetter: DeadLetter): Message {
  const key = deadLetter.source.kind === 'kafka' && deadLetter.source.key !== undefined ? Buffer.from(deadLetter.source.key) : null;
  const bytes = typeof deadLetter.original === 'string' ? Buffer.from(deadLetter.original) : deadLetter.original;
  const truncated = bytes.length > MAX_DEAD_LETTER_BYTES;
  const { source } = deadLetter;
  const headers: Record<string, string> = {
    'changewatch-error-code': deadLetter.error.code,
    'changewatch-error-message': deadLetter.error.message.slice(0, 2_000),
  };
  if (source.kind === 'kafka') {
    headers['changewatch-source-topic'] = source.topic;
    headers['changewatch-source-partition'] = String(source.partition);
    headers['changewatch-source-offset'] = source.offset;
  }
  if (source.index !== undefined) headers['changewatch-item-index'] = String(source.index);
  if (truncated) headers['changewatch-truncated-from-bytes'] = String(bytes.length);
  return { key, value: truncated ? bytes.subarray(0, MAX_DEAD_LETTER_BYTES) : bytes, headers };
}

/** Routes kafkajs's own log lines into pino. */
function kafkaLogCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      const fields = { kafka: rest };
      if (level <= logLevel.ERROR) log.error(fields, message);
      else if (level === logLevel.WARN) log.warn(fields, message);
      else log.debug(fields, message);
    };
}
