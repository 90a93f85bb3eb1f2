/**
 * The Kafka edge: consumes changes, telemetry and catalog entries in one consumer group, decodes
 * them, hands valid records to the core, dead-letters the rest, produces alerts, and commits offsets
 * only after the state that absorbed them is checkpointed (at-least-once, no lost events).
 */
import { Kafka, logLevel, Partitioners, type Consumer, type EachBatchPayload, type KafkaMessage, type LogEntry, type Message, type Producer } from 'kafkajs';
import type { ChangeEvent, ServiceEntry, TelemetryPoint } from '../../detectors/events.ts';
import type { Config } from '../config.ts';
import type { ReplayRecord } from '../contract/wire.ts';
import type { ChangewatchError } from '../errors.ts';
import type { Changewatch, DeadLetter } from '../core.ts';
import type { Logger } from '../log.ts';
import { RateLimitedLog } from '../log.ts';
import { decodeMany, type EventKind } from './decode.ts';
import { checkFutureSkew } from './skew.ts';
import { partitionKey, type CheckpointStore } from './checkpoint.ts';

/**
 * How many fetched messages may wait for processing before the consumer stops accepting batches
 * (and so stops fetching): about two fetches' worth, enough to fetch the next while this one runs.
 */
const MAX_QUEUED_MESSAGES = 10_000;

/** A fetched batch waiting for the pipeline, with the kafkajs callbacks of the run that fetched it. */
interface QueuedBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  heartbeat: () => Promise<void>;
  isRunning: () => boolean;
}

/** Largest dead-letter payload kept whole; larger originals are truncated (and flagged) so the DLQ write itself cannot fail on size. */
const MAX_DEAD_LETTER_BYTES = 900_000;

/** Consumes the input topics and produces alerts and dead letters. */
export class KafkaIngest {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly kindByTopic: Map<string, EventKind>;
  private readonly badInputLog: RateLimitedLog;
  /** Next offset to process per partition, as absorbed by the pipeline state. */
  private readonly positions = new Map<string, string>();
  /** Offsets restored from the checkpoint: messages below them are already in the state. */
  private readonly skipBelow = new Map<string, bigint>();
  /** Fetched batches not processed yet, oldest first; one loop (`drain`) processes them in order. */
  private readonly queue: QueuedBatch[] = [];
  private queuedMessages = 0;
  private draining: Promise<void> | undefined;
  private readonly roomWaiters: Array<() => void> = [];
  /** An error of the processing loop, rethrown to kafkajs from the next batch it hands over. */
  private failure: unknown;
  private lastCheckpointAt = 0;
  private dirty = false;
  private joined = false;
  private producerConnected = false;

  constructor(
    private readonly config: Config,
    private readonly core: Changewatch,
    private readonly checkpoints: CheckpointStore,
    private readonly log: Logger,
  ) {
    const { kafka: k } = config;
    this.kafka = new Kafka({ clientId: k.clientId, brokers: [...k.brokers], logLevel: logLevel.WARN, logCreator: kafkaLogCreator(log) });
    this.consumer = this.kafka.consumer({ groupId: k.groupId, maxWaitTimeInMs: k.maxWaitTimeMs, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    this.producer = this.kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
    this.kindByTopic = new Map<string, EventKind>([
      [k.topics.changes, 'change'],
      [k.topics.telemetry, 'metric'],
      [k.topics.services, 'service'],
    ]);
    this.badInputLog = new RateLimitedLog(log);
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => (this.joined = true));
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.joined = false;
      log.error({ err: e.payload.error }, 'Kafka consumer crashed; kafkajs restarts it');
    });
    this.consumer.on(this.consumer.events.DISCONNECT, () => (this.joined = false));
    this.producer.on(this.producer.events.CONNECT, () => (this.producerConnected = true));
    this.producer.on(this.producer.events.DISCONNECT, () => (this.producerConnected = false));
  }

  /** True once the consumer is in its group and the producer is connected. */
  get ready(): boolean {
    return this.joined && this.producerConnected;
  }

  /** Next offset to process per `topic:partition`, as absorbed by the pipeline. */
  consumedOffsets(): Record<string, string> {
    return Object.fromEntries(this.positions);
  }

  /** Connects, subscribes and starts consuming; resumes from `offsets` of the checkpoint the core was restored from. */
  async start(restoredOffsets: Record<string, string> = {}): Promise<void> {
    for (const [key, offset] of Object.entries(restoredOffsets)) {
      this.skipBelow.set(key, BigInt(offset));
      this.positions.set(key, offset);
    }
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.kindByTopic.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.acceptBatch(payload),
    });
  }

  /** Produces records to an input topic, as POST /api/v1/events does for systems without Kafka access. */
  async publish(kind: EventKind, messages: Array<{ key: string; value: string }>): Promise<void> {
    const topic = [...this.kindByTopic].find(([, k]) => k === kind)![0];
    await this.producer.send({ topic, messages });
  }

  /** Stops consuming, saves a final checkpoint, and disconnects. */
  async stop(): Promise<void> {
    // Once stopped, the run's isRunning() is false: queued batches are left unprocessed (their
    // offsets are not in `positions`, so they are fetched again after a restart).
    await this.consumer.stop();
    await this.draining;
    if (this.dirty) await this.checkpoint(false);
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  /**
   * kafkajs's eachBatch: queues the batch for the processing loop and returns at once, so kafkajs
   * fetches the next batches while this one is processed (its fetch loop waits for eachBatch). The
   * batch's offsets are resolved now, which only moves kafkajs's fetch position: what is committed
   * is `positions`, advanced as the pipeline absorbs messages and committed after a checkpoint.
   */
  private async acceptBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
    // Only `consumer.seek`, which this class never calls, makes a batch stale.
    if (isStale() || batch.messages.length === 0) return;
    this.queue.push({ topic: batch.topic, partition: batch.partition, messages: batch.messages, heartbeat, isRunning });
    this.queuedMessages += batch.messages.length;
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    this.draining ??= this.drain();
    while (this.queuedMessages > MAX_QUEUED_MESSAGES) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Processes queued batches in order until none is left. */
  private async drain(): Promise<void> {
    while (this.queue.length) {
      // Yield first: kafkajs hands over the rest of the fetch and sends the next fetch request, and
      // between batches the socket delivers its response.
      await new Promise((resolve) => setImmediate(resolve));
      const next = this.queue[0]!;
      try {
        await this.processBatch(next);
      } catch (err) {
        // As before this loop existed, kafkajs gets the error (from its next eachBatch) and restarts
        // the consumer; batches of the stopped run then fail isRunning() and are fetched again.
        this.log.error({ err, topic: next.topic, partition: next.partition }, 'processing a Kafka batch failed');
        this.failure ??= err;
      }
      this.queue.shift();
      this.queuedMessages -= next.messages.length;
      for (const wake of this.roomWaiters.splice(0)) wake();
    }
    this.draining = undefined;
  }

  private async processBatch({ topic, partition, messages, heartbeat, isRunning }: QueuedBatch): Promise<void> {
    const key = partitionKey(topic, partition);
    const kind = this.kindByTopic.get(topic)!;
    const skipBelow = this.skipBelow.get(key);
    const alerts: Message[] = [];
    const deadLetters: Message[] = [];
    let last: string | undefined;
    for (const message of messages) {
      if (!isRunning()) break;
      if (skipBelow === undefined || BigInt(message.offset) >= skipBelow) {
        this.handleMessage(kind, topic, partition, message, alerts, deadLetters);
      }
      last = message.offset;
    }
    if (last === undefined) return;
    await this.send(this.config.kafka.topics.alerts, alerts, heartbeat, isRunning);
    await this.send(this.config.kafka.topics.deadletter, deadLetters, heartbeat, isRunning);
    this.positions.set(key, (BigInt(last) + 1n).toString());
    this.dirty = true;
    await heartbeat();
    if (Date.now() - this.lastCheckpointAt >= this.config.kafka.checkpointIntervalMs) await this.checkpoint(true);
  }

  /**
   * Decodes one message and runs its records through the core. The hot path of the service: no
   * closures or per-message objects beyond the record itself; a dead letter's source is built only
   * when something is refused.
   */
  private handleMessage(kind: EventKind, topic: string, partition: number, message: KafkaMessage, alerts: Message[], deadLetters: Message[]): void {
    const original = message.value ?? Buffer.alloc(0);
    const decoded = decodeMany(kind, original, this.config.kafka.maxMessageBytes);
    const { values, rejects } = decoded;
    for (const reject of rejects) {
      this.refuse(message, deadLetters, reject.error, reject.original, topic, partition, reject.index >= 0 ? reject.index : undefined);
    }
    if (!values.length) return;
    const now = Date.now();
    const indexed = values.length > 1 || rejects.length > 0;
    const maxFutureSkewMs = this.config.kafka.maxFutureSkewMs;
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      const skew = checkFutureSkew('timestamp' in value ? value.timestamp : null, now, maxFutureSkewMs);
      if (skew) {
        this.refuse(message, deadLetters, skew, JSON.stringify(value), topic, partition, indexed ? i : undefined);
        continue;
      }
      const result = this.core.handle(recordOf(kind, value));
      if (result.rejected) this.refuse(message, deadLetters, result.rejected, JSON.stringify(value), topic, partition, indexed ? i : undefined);
      for (const alert of result.alerts) alerts.push({ key: alert.id, value: JSON.stringify(alert) });
    }
  }

  /** Counts, dead-letters and logs one refused record (`index` set for an item of an array message). */
  private refuse(message: KafkaMessage, deadLetters: Message[], error: ChangewatchError, original: string | Buffer, topic: string, partition: number, index: number | undefined): void {
    const source: DeadLetter['source'] = { kind: 'kafka', topic, partition, offset: message.offset, ...(message.key ? { key: message.key.toString() } : {}) };
    if (index !== undefined) source.index = index;
    const deadLetter: DeadLetter = { error, original, source };
    this.core.reject(deadLetter);
    deadLetters.push(toDeadLetterMessage(deadLetter, message.key));
    const where = { topic, partition, offset: message.offset, index };
    if (error.code === 'CW_INTERNAL') this.log.error({ ...where, err: error.cause }, error.message);
    else this.badInputLog.warn(error.code, where, error.message);
  }

  /** Produces, retrying through broker outages: alerts must reach the topic before their offsets are committed. */
  private async send(topic: string, messages: Message[], heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<void> {
    if (!messages.length) return;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.producer.send({ topic, messages });
        return;
      } catch (err) {
        if (!isRunning()) throw err;
        this.log.error({ err, topic, attempt }, 'producing failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
        await heartbeat().catch(() => undefined);
      }
    }
  }

  private async checkpoint(commit: boolean): Promise<void> {
    await this.checkpoints.save({ state: this.core.pipeline.snapshot(), offsets: this.consumedOffsets() });
    this.lastCheckpointAt = Date.now();
    this.dirty = false;
    if (commit) {
      await this.consumer.commitOffsets(
        [...this.positions].map(([key, offset]) => {
          const cut = key.lastIndexOf(':');
          return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), offset };
        }),
      );
    }
  }
}

/** The core's record for a decoded value of `kind`. */
function recordOf(kind: EventKind, value: ChangeEvent | TelemetryPoint | ServiceEntry): ReplayRecord {
  if (kind === 'metric') return { metric: value as TelemetryPoint };
  if (kind === 'change') return { change: value as ChangeEvent };
  return { service: value as ServiceEntry };
}

/** The dead-letter record: the original bytes as the value, the reason and the source in headers. */
function toDeadLetterMessage(deadLetter: DeadLetter, key: Buffer | null): Message {
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
