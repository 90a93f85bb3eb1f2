/**
 * The fetch thread: runs the kafkajs consumers off the pipeline's thread, so that Kafka protocol
 * decoding, JSON parsing and validation overlap with detection instead of taking turns with it.
 *
 * Two consumers, joining at the same time. The broadcast consumer reads the changes and the catalog
 * in full, from the beginning, in a group of its own that it never commits to: every instance needs
 * every change, whichever instance owns the telemetry of the changed service. The group consumer
 * shares the telemetry partitions with the other instances; it hands on no batch before the
 * broadcast one has caught up with the end those topics had at start, so attribution knows the
 * changes before the first point.
 * It never commits on its own: offsets are committed only when the pipeline thread asks, after the
 * state that absorbed them is checkpointed.
 *
 * Started by `FetchThread` through `fetch-worker-boot.mjs`; talks only through `fetch-protocol.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel, type EachBatchPayload, type LogEntry } from 'kafkajs';
import { partitionKey } from './checkpoint.ts';
import { BatchEncoder } from './fetched-batch.ts';
import type { FetchWorkerSettings, FromFetchThread, ToFetchThread } from './fetch-protocol.ts';
import { encodeOtlpBatch } from './otlp-batch.ts';

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
const broadcast = kafka.consumer({
  groupId: `${settings.groupId}.broadcast.${settings.instanceId}`,
  maxWaitTimeInMs: settings.maxWaitTimeMs,
  sessionTimeout: 10_000,
  heartbeatInterval: HEARTBEAT_INTERVAL_MS,
});
const encoder = new BatchEncoder(settings);
/**
 * How long the group consumer waits for the broadcast one to catch up before it starts anyway (with a
 * warning): a very long changes topic must not keep the service from detecting at all.
 */
const CATCH_UP_LIMIT_MS = 120_000;

/** Messages handed over and not yet processed by the pipeline thread. */
let outstanding = 0;
let stopping = false;
let wakeFetcher: (() => void) | undefined;

consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => post({ type: 'joined', joined: true, assignment: payload.memberAssignment }));
for (const [which, member] of [['group', consumer], ['broadcast', broadcast]] as const) {
  member.on(member.events.CRASH, ({ payload }) => {
    if (member === consumer) post({ type: 'joined', joined: false });
    post({ type: 'log', level: 'error', message: `Kafka ${which} consumer crashed${payload.restart ? '; kafkajs restarts it' : ''}`, fields: { err: String(payload.error?.message ?? payload.error) } });
    // kafkajs gives up on errors it deems not retriable; a consumer that stays stopped would stall the
    // service, so the thread ends and FetchThread starts a new one.
    if (!payload.restart) setTimeout(() => process.exit(1), 100);
  });
}
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
const heard = () => {
  lastAnswerAt = Date.now();
  if (inTouch) return;
  inTouch = true;
  post({ type: 'contact', inTouch });
};
consumer.on(consumer.events.REQUEST, heard);
broadcast.on(broadcast.events.REQUEST, heard);
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
    Promise.all([consumer.disconnect(), broadcast.disconnect()]).then(
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
  while (!isCaughtUp && !settings.broadcastTopics.includes(batch.topic) && !stopping) {
    await Promise.race([broadcastCaughtUp, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    await heartbeat().catch(() => undefined);
  }
  if (stopping) return;
  const otlpEncoding = settings.otlpTopics?.[batch.topic];
  const fetched = otlpEncoding
    ? encodeOtlpBatch(batch.topic, batch.partition, otlpEncoding, batch.messages, Date.now(), settings)
    : encoder.encode(batch.topic, batch.partition, settings.topics[batch.topic]!, batch.messages, Date.now());
  outstanding += fetched.messageCount;
  post({ type: 'batch', batch: fetched }, BatchEncoder.transferList(fetched));
  const last = batch.messages[batch.messages.length - 1]!.offset;
  resolveOffset(last);
  caughtUpTo(batch.topic, batch.partition, Number(last) + 1);
  while (outstanding > settings.maxQueuedMessages && !stopping) {
    await new Promise<void>((resolve) => {
      wakeFetcher = resolve;
      setTimeout(resolve, 1_000);
    });
    await heartbeat().catch(() => undefined);
  }
}

/** Broadcast partitions not yet read up to the end they had at start (`topic:partition` → that end). */
const behind = new Map<string, number>();
let isCaughtUp = false;
let caughtUp: () => void = () => undefined;
const broadcastCaughtUp = new Promise<void>((resolve) => (caughtUp = resolve)).then(() => {
  isCaughtUp = true;
});

/** Notes that `topic`'s `partition` was fetched up to `next`; resolves `broadcastCaughtUp` once every broadcast partition is. */
function caughtUpTo(topic: string, partition: number, next: number): void {
  const key = partitionKey(topic, partition);
  const end = behind.get(key);
  if (end === undefined || next < end) return;
  behind.delete(key);
  if (behind.size === 0) caughtUp();
}

/** The end offset of every broadcast partition that holds messages now (an unknown topic holds none). */
async function broadcastEnds(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of settings.broadcastTopics) {
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      for (const { partition, high, low } of offsets) if (Number(high) > Number(low)) behind.set(partitionKey(topic, partition), Number(high));
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

await broadcastEnds();
if (behind.size === 0) caughtUp();
const startedAt = Date.now();
setTimeout(() => {
  if (behind.size === 0) return;
  post({ type: 'log', level: 'warn', message: `changes and catalog not read to their end after ${Date.now() - startedAt} ms; consuming telemetry anyway`, fields: { behind: Object.fromEntries(behind) } });
  caughtUp();
}, CATCH_UP_LIMIT_MS).unref();
const groupTopics = [...Object.keys(settings.topics), ...Object.keys(settings.otlpTopics ?? {})].filter((topic) => !settings.broadcastTopics.includes(topic));
await Promise.all([broadcast.connect(), consumer.connect()]);
await Promise.all([broadcast.subscribe({ topics: settings.broadcastTopics, fromBeginning: true }), consumer.subscribe({ topics: groupTopics, fromBeginning: true })]);
await Promise.all([
  broadcast.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: onBatch }),
  consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: onBatch }),
]);
