/**
 * The Kafka edge: consumes telemetry in a consumer group shared with the other instances, and the
 * changes and catalog in full; hands valid records to the core, dead-letters the rest, produces
 * alerts, and commits a partition's offsets only after the state that absorbed them is checkpointed
 * (at-least-once, no lost events).
 *
 * Each telemetry partition's state is owned by the instance the group assigned it to: restored from
 * the checkpoint store before its first message is processed, saved (only what changed) with its
 * offset at every checkpoint, and saved once more, then dropped, when the group moves it elsewhere
 * (docs/scaling.md).
 *
 * Two threads: the fetch thread (`fetch-worker.ts`) runs the kafkajs consumers and decodes and
 * validates what they fetch; this class, on the main thread, runs the decoded batches through the
 * core in order, produces alerts and dead letters, checkpoints, and tells the fetch thread to commit.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners, type Admin, type LogEntry, type Message, type Producer } from 'kafkajs';
import type { ChangeEvent, ServiceEntry, TelemetryPoint } from '../../contract/events.ts';
import type { Config } from '../config.ts';
import type { ReplayRecord } from '../wire/schemas.ts';
import type { ChangewatchError } from '../errors.ts';
import type { Changewatch } from '../core.ts';
import { isFromFleet, type DeadLetter, type Emission, type EmissionSink } from '../emission.ts';
import type { Logger } from '../log.ts';
import { RateLimitedLog } from '../log.ts';
import type { PartitionLag, ServiceMetrics } from '../metrics.ts';
import type { EventKind } from '../wire/decode.ts';
import { parsePartitionKey, partitionKey, type CheckpointStore, type PartitionSave } from './checkpoint.ts';
import { rejectError, SeriesTable, type FetchedBatch } from './fetched-batch.ts';
import { FetchThread, type FetchedItem } from './fetch-thread.ts';
import { PublishQueue } from './publish-queue.ts';
import { OtlpStreams } from '../otlp/streams.ts';

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

/** How long a scrape waits for the brokers' partition ends before it reports no consumer lag. */
const LAG_QUERY_TIMEOUT_MS = 2_000;

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
  /** OTLP cumulative streams' previous points, per owned partition (server/otlp/streams.ts; not checkpointed). */
  private readonly otlp: OtlpStreams;
  /**
   * Next offset to process per telemetry partition owned, as absorbed by the pipeline state. Records
   * below it are skipped: they are in the state already (restored from a checkpoint whose offsets
   * Kafka's committed ones may lag, or fetched again after the fetch thread restarted).
   */
  private readonly positions = new Map<string, number>();
  /** Changes and catalog topics: read in full by every instance, from the start, never committed. */
  private readonly broadcastTopics: Set<string>;
  /** How far the changes and catalog partitions were read (for the status endpoint only). */
  private readonly broadcastPositions = new Map<string, number>();
  /** Telemetry partitions whose state this instance holds (restored, or started empty). */
  private readonly owned = new Set<string>();
  /** Offset of each owned partition's latest durable checkpoint. */
  private readonly saved = new Map<string, number>();
  /** Owned partitions whose checkpoint offset was past the partition's end (a recreated topic): their next save goes back below it. */
  private readonly restarted = new Set<string>();
  /** The partitions the group last assigned to this instance; undefined before the first assignment. */
  private assigned: Set<string> | undefined;
  /** Fetched batches and assignments not processed yet, oldest first; one loop (`drain`) works through them in order. */
  private readonly queue: FetchedItem[] = [];
  private draining: Promise<void> | undefined;
  /** Checks every quarter checkpoint interval whether an idle instance has absorbed data to checkpoint. */
  private idleTimer: NodeJS.Timeout | undefined;
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
  /** The admin client of the consumer-lag query (connected at the first scrape, dropped when it fails). */
  private lagAdmin: Admin | undefined;
  /** The lag query in flight, shared by overlapping scrapes. */
  private lagQuery: Promise<PartitionLag[]> | undefined;

  constructor(
    private readonly config: Config,
    private readonly core: Changewatch,
    private readonly checkpoints: CheckpointStore,
    private readonly log: Logger,
    /** Records in per topic and checkpoint duration and size are counted here. */
    private readonly metrics?: ServiceMetrics,
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
    this.broadcastTopics = new Set([k.topics.changes, k.topics.services]);
    this.otlp = new OtlpStreams({ maxStreams: config.otlp.maxStreams, idleMs: config.otlp.streamIdleMs });
    const otlpTopics = config.otlp.enabled ? { [k.topics.otlpMetrics]: config.otlp.encoding } : {};
    for (const topic of [...this.kindByTopic.keys(), ...Object.keys(otlpTopics)]) metrics?.recordsIn.inc({ topic }, 0);
    this.fetcher = new FetchThread(
      {
        clientId: k.clientId,
        brokers: [...k.brokers],
        groupId: k.groupId,
        maxWaitTimeMs: k.maxWaitTimeMs,
        maxMessageBytes: k.maxMessageBytes,
        maxFutureSkewMs: k.maxFutureSkewMs,
        topics: Object.fromEntries(this.kindByTopic),
        broadcastTopics: [...this.broadcastTopics],
        // Unique per process: its broadcast consumer's group must have it as its only member.
        instanceId: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
        maxQueuedMessages: MAX_QUEUED_MESSAGES,
        otlpTopics,
      },
      (item, generation) => this.enqueue(item, generation),
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

  /** Next offset to process per `topic:partition`: the telemetry partitions owned, and how far changes and catalog were read. */
  consumedOffsets(): Record<string, string> {
    const offsets: Record<string, string> = {};
    for (const [key, offset] of this.broadcastPositions) offsets[key] = String(offset);
    for (const [key, offset] of this.positions) offsets[key] = String(offset);
    return offsets;
  }

  /** The telemetry partitions the group assigned to this instance, as `topic:partition`. */
  assignedPartitions(): string[] {
    return [...(this.assigned ?? [])].sort();
  }

  /**
   * Messages between the end of each partition this instance reads and the next offset it will
   * process: the telemetry partitions assigned to it (one not fetched yet counts from the group's
   * committed offset) and every partition of the changes and catalog topics. Asks the brokers for
   * the ends at each call; rejects when they do not answer within two seconds.
   */
  consumerLag(): Promise<PartitionLag[]> {
    this.lagQuery ??= this.queryLag().finally(() => (this.lagQuery = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Kafka did not answer the consumer-lag query within ${LAG_QUERY_TIMEOUT_MS} ms`)), LAG_QUERY_TIMEOUT_MS);
      timer.unref();
    });
    return Promise.race([this.lagQuery, timeout]).finally(() => clearTimeout(timer));
  }

  private async queryLag(): Promise<PartitionLag[]> {
    const lags: PartitionLag[] = [];
    try {
      if (!this.lagAdmin) {
        this.lagAdmin = this.kafka.admin();
        await this.lagAdmin.connect();
      }
      const admin = this.lagAdmin;
      const assigned = this.assigned;
      // The topics the group splits: telemetry, and OTLP metrics when they are taken in.
      const groupTopics = [this.config.kafka.topics.telemetry, ...(this.config.otlp.enabled ? [this.config.kafka.topics.otlpMetrics] : [])];
      for (const topic of assigned?.size ? groupTopics : []) {
        const ends = await admin.fetchTopicOffsets(topic);
        const committed = new Map<number, number>();
        if (ends.some(({ partition }) => assigned!.has(partitionKey(topic, partition)) && !this.positions.has(partitionKey(topic, partition)))) {
          for (const fetched of await admin.fetchOffsets({ groupId: this.config.kafka.groupId, topics: [topic] })) {
            if (fetched.topic === topic) for (const { partition, offset } of fetched.partitions) if (Number(offset) >= 0) committed.set(partition, Number(offset));
          }
        }
        for (const { partition, high, low } of ends) {
          const key = partitionKey(topic, partition);
          if (!assigned!.has(key)) continue;
          const next = Math.max(this.positions.get(key) ?? committed.get(partition) ?? 0, Number(low));
          lags.push({ topic, partition, lag: Math.max(0, Number(high) - next) });
        }
      }
      for (const topic of this.broadcastTopics) {
        // A topic nobody produced to yet does not exist (nothing to read, no lag).
        const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
        for (const { partition, high, low } of ends) {
          const next = Math.max(this.broadcastPositions.get(partitionKey(topic, partition)) ?? 0, Number(low));
          lags.push({ topic, partition, lag: Math.max(0, Number(high) - next) });
        }
      }
    } catch (err) {
      // A fresh connection at the next scrape.
      const admin = this.lagAdmin;
      this.lagAdmin = undefined;
      await admin?.disconnect().catch(() => undefined);
      throw err;
    }
    return lags;
  }

  /**
   * Connects the producer and starts the fetch thread. `legacyOffsets` are those of an earlier build's
   * whole-state checkpoint the core was restored from (its telemetry positions are kept until the
   * partitions' own checkpoints replace them).
   */
  async start(legacyOffsets: Record<string, string> = {}): Promise<void> {
    for (const [key, offset] of Object.entries(legacyOffsets)) if (!this.broadcastTopics.has(parsePartitionKey(key).topic)) this.positions.set(key, Number(offset));
    // The first checkpoint is due one interval after start, not on the first batch.
    this.lastCheckpointAt = Date.now();
    await this.producer.connect();
    await this.forgetPositionsPastTheEnd();
    this.fetcher.start();
    this.idleTimer = setInterval(() => this.checkpointWhileIdle(), Math.max(50, this.config.kafka.checkpointIntervalMs / 4));
    this.idleTimer.unref();
  }

  /**
   * Checkpoints what was absorbed when no batch has come for a checkpoint interval (checkpoints are
   * otherwise taken between batches): the last data of a burst is saved and committed, so an instance
   * that takes the partition over, or a restart, does not process it again. Runs in the processing
   * loop's place, so no batch is half processed while the changes are taken.
   */
  private checkpointWhileIdle(): void {
    if (this.draining || this.saving || !this.dirty || this.stopping) return;
    if (Date.now() - this.lastCheckpointAt < this.config.kafka.checkpointIntervalMs) return;
    this.draining = (async () => {
      await this.checkpoint().catch((err: unknown) => this.log.warn({ err }, 'checkpoint skipped: produced messages were not acknowledged'));
      this.draining = undefined;
      if (this.queue.length) this.draining = this.drain();
    })();
  }

  /**
   * A restored position past the end of its partition means the topic was recreated (or this is
   * another cluster): its offsets start again from 0, and every new message would be skipped as
   * already absorbed. Such positions are dropped, with a warning; the state itself is kept.
   */
  private async forgetPositionsPastTheEnd(keys: Iterable<string> = this.positions.keys()): Promise<void> {
    const wanted = new Set(keys);
    if (wanted.size === 0) return;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      for (const topic of new Set([...wanted].map((key) => parsePartitionKey(key).topic))) {
        const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
        for (const { partition, high } of ends) {
          const key = partitionKey(topic, partition);
          const position = this.positions.get(key);
          if (!wanted.has(key) || position === undefined || position <= Number(high)) continue;
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
    await this.sendWatched([...this.kindByTopic].find(([, k]) => k === kind)![0], messages);
  }

  /** Whether OTLP metrics are taken in (`otlp.enabled`). */
  get otlpEnabled(): boolean {
    return this.config.otlp.enabled;
  }

  /**
   * Produces OTLP messages (POST /v1/metrics) to the OTLP metrics topic, with the same readiness
   * watch as `publish`.
   */
  async publishOtlp(messages: Array<{ key: string; value: Buffer; headers: Record<string, string> }>): Promise<void> {
    await this.sendWatched(this.config.kafka.topics.otlpMetrics, messages);
  }

  /** Sends to `topic`, rejecting as soon as the service stops being ready (see `publish`). */
  private async sendWatched(topic: string, messages: Message[]): Promise<void> {
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

  /** Finishes the batch in progress, saves a final checkpoint of every partition owned, commits, and disconnects. */
  async stop(): Promise<void> {
    // Queued batches are left unprocessed: their offsets are not in `positions`, so they are
    // fetched again after a restart (here or by the instance the partition moves to).
    this.stopping = true;
    clearInterval(this.idleTimer);
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
    await this.lagQuery?.catch(() => undefined);
    await this.lagAdmin?.disconnect().catch(() => undefined);
  }

  /** A batch or an assignment from the fetch thread: queued, and the processing loop started if it is idle. */
  private enqueue(item: FetchedItem, generation: number): void {
    if (this.stopping) return;
    if (generation !== this.fetchGeneration) {
      // A new fetch thread (the last one died): batches of the old one still queued are dropped,
      // since their series ids belong to its dictionary; the new one fetches them again.
      this.fetchGeneration = generation;
      this.queue.length = 0;
    }
    this.queue.push(item);
    this.draining ??= this.drain();
  }

  /** Works through the queue in order until nothing is left. */
  private async drain(): Promise<void> {
    while (this.queue.length && !this.stopping) {
      const next = this.queue.shift()!;
      try {
        if ('assignment' in next) await this.reassign(next.assignment);
        else {
          await this.processBatch(next.batch);
          this.fetcher.processed(next.batch.messageCount);
        }
      } catch (err) {
        // Nothing fetched after the last absorbed offset is lost: the fetch thread is replaced and
        // fetches again from the committed offsets, and `positions` skips what is already absorbed.
        const where = 'batch' in next ? { topic: next.batch.topic, partition: next.batch.partition } : { assignment: [...next.assignment] };
        this.log.error({ err, ...where }, 'processing a Kafka batch failed; fetching again from the committed offsets');
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
    // Even a batch that is not processed carries series identities later batches refer to.
    this.series.absorb(batch);
    const broadcast = this.broadcastTopics.has(topic);
    // Changes and catalog entries belong to no shard; a point's series belongs to its partition.
    const shard = broadcast ? '' : key;
    if (!broadcast) {
      // Fetched before a rebalance gave the partition to another instance: that one processes it.
      if (this.assigned && !this.assigned.has(key)) return;
      if (!this.owned.has(key)) await this.restorePartition(topic, partition, batch.nextOffset);
    }
    // Changes and catalog are read again from their start by each new fetch thread; the pipeline tells a change seen before.
    const from = broadcast ? 0 : (this.positions.get(key) ?? 0);
    if (batch.nextOffset <= from) return;
    const at = this.pointAt;
    at.topic = topic;
    at.partition = partition;

    const columns = batch.points;
    let recordsIn = 0;
    for (let i = 0; i < columns.length; i++) {
      const offset = columns.offsets[i]!;
      if (offset < from) continue;
      recordsIn++;
      const point = this.series.point(columns, i);
      // The message's own key is not kept for points; by the contract it is the service.
      at.offset = offset;
      at.index = columns.items[i]!;
      this.pointBeingHandled = point;
      this.core.handle({ metric: point }, this.deadLetterOfPoint, shard);
    }
    for (const record of batch.records) {
      if (record.offset < from) continue;
      recordsIn++;
      const refusedAt: RefusedAt = { topic, partition, offset: record.offset, key: record.key, index: record.index };
      this.core.handle(recordOf(batch.kind, record.value), (error) => this.deadLetter(refusedAt, error, JSON.stringify(record.value)), shard);
    }
    for (const reject of batch.rejects) {
      if (reject.offset < from) continue;
      recordsIn++;
      this.core.reject(this.deadLetter({ topic, partition, offset: reject.offset, key: reject.key, index: reject.index }, rejectError(reject), reject.original));
    }
    // OTLP messages: each data point's reading becomes points (rates and histograms need the stream's previous point).
    for (const message of batch.otlp ?? []) {
      if (message.offset < from) continue;
      recordsIn++;
      at.offset = message.offset;
      at.index = -1;
      for (const reading of message.readings) {
        for (const point of this.otlp.convert(reading, shard)) {
          this.pointBeingHandled = point;
          this.core.handle({ metric: point }, this.deadLetterOfPoint, shard);
        }
      }
    }
    if (recordsIn) this.metrics?.recordsIn.inc({ topic }, recordsIn);

    if (broadcast) {
      this.broadcastPositions.set(key, batch.nextOffset);
    } else {
      this.positions.set(key, batch.nextOffset);
      this.dirty = true;
    }
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
    // Another instance's alerts are on the alerts topic already: that instance published them.
    if (isFromFleet(emission)) return;
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
   * Restores a partition newly assigned to this instance from its checkpoint (nothing when it has
   * none yet: it starts empty), before its first message is processed. The checkpoint's offset wins
   * over Kafka's committed one, which may lag it. `fetchedTo` is the next offset after the batch in
   * hand: a checkpoint offset up to it is known to lie within the partition.
   */
  private async restorePartition(topic: string, partition: number, fetchedTo: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const startedAt = Date.now();
    const state = await this.checkpoints.loadPartition(topic, partition);
    if (state) {
      const series = this.core.importShard(key, state.series);
      const offset = Number(state.offset);
      this.positions.set(key, Math.max(offset, this.positions.get(key) ?? 0));
      this.saved.set(key, offset);
      if (offset > fetchedTo) {
        await this.forgetPositionsPastTheEnd([key]);
        if (!this.positions.has(key)) this.restarted.add(key);
      }
      this.log.info({ partition: key, series, offset, ms: Date.now() - startedAt }, 'restored the state of a partition assigned to this instance');
    }
    if (this.config.otlp.enabled && topic === this.config.kafka.topics.otlpMetrics) {
      this.log.info({ partition: key }, 'OTLP cumulative streams are not checkpointed: the first point of each stream on this partition only sets its baseline (docs/otel.md)');
    }
    this.owned.add(key);
  }

  /**
   * The group assigned this instance a new set of partitions. Partitions it lost are checkpointed
   * (when it can: the broker and the store answer) and their state dropped, so the instance that got
   * them restores what this one absorbed; partitions it gained are restored at their first batch.
   * (kafkajs's eager rebalancing gives no moment before the partitions move: the new owner may
   * already have loaded the previous checkpoint, and goes on from there, processing again what this
   * save adds; a checkpoint store never goes back to an earlier offset, so the later of the two wins.)
   */
  private async reassign(assignment: Set<string>): Promise<void> {
    this.assigned = assignment;
    const revoked = [...this.owned].filter((key) => !assignment.has(key));
    if (!revoked.length) return;
    await this.saving;
    try {
      await this.publisher.flushed();
      const startedAt = performance.now();
      const saves = this.partitionSaves(revoked);
      if (saves.length) await this.settle(this.measured(this.checkpoints.save(saves), saves, startedAt), saves, false);
    } catch (err) {
      this.log.warn({ err, revoked }, 'could not checkpoint the partitions that moved away; their new owner goes on from their last checkpoint');
    }
    for (const key of revoked) this.release(key);
    this.log.info({ revoked, assigned: [...assignment] }, 'partitions moved to another instance: checkpointed and dropped');
  }

  /** Forgets an owned partition's state and position (another instance owns it now). */
  private release(key: string): void {
    this.core.dropShard(key);
    this.otlp.dropShard(key);
    this.owned.delete(key);
    this.positions.delete(key);
    this.saved.delete(key);
    this.restarted.delete(key);
  }

  /**
   * What a checkpoint writes for `keys`: each partition with changed series or a new offset. Takes
   * the changes from the pipeline (`settle` gives them back if the write fails).
   */
  private partitionSaves(keys: Iterable<string>): PartitionSave[] {
    const saves: PartitionSave[] = [];
    for (const key of keys) {
      const offset = this.positions.get(key);
      if (offset === undefined) continue;
      const changes = this.core.shardChanges(key);
      if (!changes.upserts.length && !changes.deletes.length && this.saved.get(key) === offset) continue;
      saves.push({ ...parsePartitionKey(key), offset: String(offset), ...changes, ...(this.restarted.has(key) ? { restart: true } : {}) });
    }
    return saves;
  }

  /**
   * Checkpoints every owned partition that changed, with the offset it absorbed, then commits those
   * offsets. Alerts and dead letters produced from those offsets are acknowledged first
   * (at-least-once for the output too). Returns once the changes are taken: the write (hundreds of ms
   * for a large state) and the commit go on in `saving` while the pipeline processes the next
   * batches. A failed write is logged and retried at the next interval; a failed commit is only
   * logged: the checkpoint holds the offsets.
   */
  private async checkpoint(): Promise<void> {
    await this.publisher.flushed();
    const startedAt = performance.now();
    const saves = this.partitionSaves(this.owned);
    this.lastCheckpointAt = Date.now();
    this.dirty = false;
    if (!saves.length) return;
    this.saving = this.settle(this.measured(this.checkpoints.save(saves), saves, startedAt), saves, true).finally(() => (this.saving = undefined));
  }

  /** Records a checkpoint's duration (from taking its changes, at `startedAt`) and size once its write succeeded. */
  private measured<T>(written: Promise<T>, saves: readonly PartitionSave[], startedAt: number): Promise<T> {
    const { metrics } = this;
    if (!metrics) return written;
    return written.then((result) => {
      metrics.checkpointDuration.observe((performance.now() - startedAt) / 1000);
      let bytes = 0;
      for (const save of saves) for (const { key, state } of save.upserts) bytes += key.length + state.length;
      metrics.checkpointSize.set(bytes);
      return result;
    });
  }

  /**
   * Waits for a checkpoint's write; on failure gives its changes back to the pipeline, else records the
   * offsets saved and (with `commit`) commits them. A partition the store refused as behind is owned
   * by another instance that went further: its state is dropped (it is restored again if the group
   * gives the partition back). Never rejects with `commit`.
   */
  private async settle(written: Promise<{ behind: string[] }>, saves: PartitionSave[], commit: boolean): Promise<void> {
    let behind: string[];
    try {
      ({ behind } = await written);
    } catch (err) {
      for (const save of saves) this.core.unsaved(partitionKey(save.topic, save.partition), save);
      this.dirty = true;
      this.log.error({ err }, 'saving a checkpoint failed; trying again at the next interval');
      if (commit) return;
      throw err;
    }
    const done = saves.filter((save) => !behind.includes(partitionKey(save.topic, save.partition)));
    for (const save of done) {
      this.saved.set(partitionKey(save.topic, save.partition), Number(save.offset));
      if (save.restart) this.restarted.delete(partitionKey(save.topic, save.partition));
    }
    for (const key of behind) {
      this.log.warn({ partition: key }, 'another instance checkpointed this partition further: dropping this instance\'s state of it');
      this.release(key);
    }
    const offsets = done.filter((save) => !this.assigned || this.assigned.has(partitionKey(save.topic, save.partition)));
    if (!commit || !offsets.length) return;
    await this.fetcher.commit(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }))).catch((err: unknown) => this.log.warn({ err }, 'committing offsets failed; the checkpoint holds them'));
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
