/**
 * The fetch thread: runs the kafkajs consumer off the pipeline's thread, so that Kafka protocol
 * decoding, JSON parsing and validation overlap with detection instead of taking turns with it.
 * It never commits on its own: offsets are committed only when the pipeline thread asks, after the
 * state that absorbed them is checkpointed.
 *
 * Started by `FetchThread` through `fetch-worker-boot.mjs`; talks only through `fetch-protocol.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel, type EachBatchPayload, type LogEntry } from 'kafkajs';
import { BatchEncoder } from './fetched-batch.ts';
import type { FetchWorkerSettings, FromFetchThread, ToFetchThread } from './fetch-protocol.ts';

const settings = workerData as FetchWorkerSettings;
const port = parentPort!;
const post = (message: FromFetchThread, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);

const kafka = new Kafka({
  clientId: settings.clientId,
  brokers: settings.brokers,
  logLevel: logLevel.WARN,
  logCreator:
    () =>
    ({ level, log: { message, ...fields } }: LogEntry) =>
      post({ type: 'log', level: level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug', message, fields: { kafka: fields } }),
});
const HEARTBEAT_INTERVAL_MS = 1_000;
const consumer = kafka.consumer({ groupId: settings.groupId, maxWaitTimeInMs: settings.maxWaitTimeMs, sessionTimeout: 10_000, heartbeatInterval: HEARTBEAT_INTERVAL_MS });
const encoder = new BatchEncoder(settings);

/** Messages handed over and not yet processed by the pipeline thread. */
let outstanding = 0;
let stopping = false;
let wakeFetcher: (() => void) | undefined;

consumer.on(consumer.events.GROUP_JOIN, () => post({ type: 'joined', joined: true }));
consumer.on(consumer.events.CRASH, ({ payload }) => {
  post({ type: 'joined', joined: false });
  post({ type: 'log', level: 'error', message: `Kafka consumer crashed${payload.restart ? '; kafkajs restarts it' : ''}`, fields: { err: String(payload.error?.message ?? payload.error) } });
  // kafkajs gives up on errors it deems not retriable; a consumer that stays stopped would stall the
  // service, so the thread ends and FetchThread starts a new one.
  if (!payload.restart) setTimeout(() => process.exit(1), 100);
});
consumer.on(consumer.events.DISCONNECT, () => post({ type: 'joined', joined: false }));

/**
 * Longest silence of every broker before the thread reports it lost touch. A member of a group
 * sends a fetch that a healthy broker answers within `maxWaitTimeMs`, or, while the pipeline is
 * full, a heartbeat every second that it answers at once; a second beyond the longer of the two
 * means no broker is answering. kafkajs itself only gives up after its retries (up to ~15 s), which
 * is how long readiness used to stay green with the broker gone. A JoinGroup that waits for slow
 * members of a rebalance is also silence: readiness drops while the group rebalances for longer.
 */
const CONTACT_TIMEOUT_MS = Math.max(settings.maxWaitTimeMs, HEARTBEAT_INTERVAL_MS) + 1_000;
/** How often the silence is checked: a small fraction of the timeout, so the report comes at most a quarter second late. */
const CONTACT_CHECK_MS = 250;
let lastAnswerAt = Date.now();
let inTouch = true;
consumer.on(consumer.events.REQUEST, () => {
  lastAnswerAt = Date.now();
  if (inTouch) return;
  inTouch = true;
  post({ type: 'contact', inTouch });
});
setInterval(() => {
  if (!inTouch || Date.now() - lastAnswerAt <= CONTACT_TIMEOUT_MS) return;
  inTouch = false;
  post({ type: 'contact', inTouch, silentMs: Date.now() - lastAnswerAt });
}, CONTACT_CHECK_MS).unref();

port.on('message', (message: ToFetchThread) => {
  if (message.type === 'processed') {
    outstanding -= message.messages;
    wakeFetcher?.();
  } else if (message.type === 'commit') {
    consumer.commitOffsets(message.offsets).then(
      () => post({ type: 'reply', id: message.id }),
      (err: unknown) => post({ type: 'reply', id: message.id, error: String((err as Error)?.message ?? err) }),
    );
  } else {
    stopping = true;
    wakeFetcher?.();
    consumer.disconnect().then(
      () => post({ type: 'reply', id: message.id }),
      (err: unknown) => post({ type: 'reply', id: message.id, error: String((err as Error)?.message ?? err) }),
    );
  }
});

/**
 * Decodes the batch, hands it over and returns, so kafkajs fetches the next while the pipeline
 * works; once too much waits for the pipeline, it holds here (heartbeating) until there is room.
 * Resolving offsets only moves kafkajs's fetch position; nothing is committed here.
 */
async function onBatch({ batch, resolveOffset, heartbeat, isStale }: EachBatchPayload): Promise<void> {
  // Only `consumer.seek`, which is never called, makes a batch stale.
  if (stopping || isStale() || batch.messages.length === 0) return;
  const fetched = encoder.encode(batch.topic, batch.partition, settings.topics[batch.topic]!, batch.messages, Date.now());
  outstanding += fetched.messageCount;
  post({ type: 'batch', batch: fetched }, BatchEncoder.transferList(fetched));
  resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  while (outstanding > settings.maxQueuedMessages && !stopping) {
    await new Promise<void>((resolve) => {
      wakeFetcher = resolve;
      setTimeout(resolve, 1_000);
    });
    await heartbeat().catch(() => undefined);
  }
}

await consumer.connect();
await consumer.subscribe({ topics: Object.keys(settings.topics), fromBeginning: true });
await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: onBatch });
