/**
 * `npm run bench:pipeline`: on a real (mock) Kafka broker, in one run,
 *  (a) a plain kafkajs consumer that only parses each message's JSON,
 *  (b) the full changewatch service (decode, validation, detection, attribution, alerting) on the same topic,
 *  (c) the event → socket.io alert latency while events arrive at a steady 5k/s.
 * Ends with `{"pipeline":{"events":N,"eventsPerSec":..,"rawEventsPerSec":..,"ratio":..,"latencyP50Ms":..,"latencyP99Ms":..}}`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { io } from 'socket.io-client';
import { median, quantile } from 'simple-statistics';
import type { TelemetryPoint } from '../contract/events.ts';
import type { Alert } from '../contract/alert.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract/socket.ts';
import type { Socket } from 'socket.io-client';
import { loadConfig } from '../server/config.ts';
import { startMockKafka } from '../tooling/dev/mock-kafka.ts';
import { createLogger } from '../server/log.ts';
import { startService } from '../server/service.ts';
import { startServiceProcess, stopServiceProcess } from '../tooling/dev/service-process.ts';

/** The store to measure with: PostgreSQL when DATABASE_URL is set, else the embedded PGlite (the default setup). */
function storeEnv(): Record<string, string> {
  return process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {};
}

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    // The producer sends one request per tick, like a client with that linger time.
    'tick-ms': { type: 'string', default: '50' },
    rounds: { type: 'string', default: '5' },
  },
});
const EVENTS = Number(values.events);
const RATE = Number(values.rate);
const STEADY_SECONDS = Number(values.seconds);
const SERIES = 500;
const ROUNDS = Number(values.rounds);

// Consumer groups of this run only: with DATABASE_URL the checkpoints of earlier runs stay in the
// database, and a group's checkpoint would make the service skip offsets a fresh broker reuses.
const RUN = Date.now().toString(36);
const broker = await startMockKafka();
const kafka = new Kafka({ brokers: [broker.brokers], clientId: 'bench', logLevel: logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();

/** A deterministic noisy point of series `i` at step `step` (no anomalies unless `spike`). */
function point(i: number, step: number, timestamp: number, spike = false): TelemetryPoint {
  const noise = Math.sin(step * 12.9898 + i * 78.233) * 0.05;
  return { service: `svc-${i % 50}`, metric: `latency_p99_${Math.floor(i / 50)}`, value: (100 + i) * (1 + noise) * (spike ? 8 : 1), timestamp };
}

async function produceAll(topic: string, points: TelemetryPoint[]): Promise<void> {
  for (let i = 0; i < points.length; i += 5_000) {
    await producer.send({ topic, messages: points.slice(i, i + 5_000).map((p) => ({ key: p.service, value: JSON.stringify(p) })) });
  }
}

// ---- (a) + (b): the same fixed stream, consumed raw and by the full pipeline ----------------------
const throughputTopic = 'bench.throughput.telemetry';
const start = Date.now() - 3_600_000;
const fixed: TelemetryPoint[] = [];
for (let step = 0; fixed.length < EVENTS; step++) {
  for (let i = 0; i < SERIES && fixed.length < EVENTS; i++) fixed.push(point(i, step, start + step * 1_000, step > 100 && (step + i) % 97 === 0));
}
await produceAll(throughputTopic, fixed);

async function rawConsume(round: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${round}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: throughputTopic, fromBeginning: true });
  let seen = 0;
  let sink = 0;
  // Timed from the first batch: group join and the first fetch are start-up, not throughput.
  let began = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (!began) began = performance.now();
        for (const m of batch.messages) sink += (JSON.parse(m.value!.toString()) as TelemetryPoint).value > 0 ? 1 : 0;
        seen += batch.messages.length;
        if (seen >= EVENTS) resolve(performance.now());
      },
    });
  });
  const end = await done;
  await consumer.disconnect();
  if (sink < 0) console.log(sink);
  return EVENTS / ((end - began) / 1000);
}

async function pipelineConsume(round: number): Promise<number> {
  const config = loadConfig({
    env: { KAFKA_BROKERS: broker.brokers, PORT: '0', KAFKA_GROUP_ID: `bench-pipeline-${RUN}-${round}`, CHANGEWATCH_TOPIC_TELEMETRY: throughputTopic, CHANGEWATCH_TOPIC_CHANGES: 'bench.throughput.changes', CHANGEWATCH_TOPIC_ALERTS: 'bench.throughput.alerts', CHANGEWATCH_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'cw-bench-')), ...storeEnv() },
  });
  const service = await startService(config, createLogger('silent'));
  while (service.core.stats(true).eventsProcessed === 0) await new Promise((r) => setTimeout(r, 1));
  const t0 = performance.now();
  while (service.core.stats(true).eventsProcessed < EVENTS) await new Promise((r) => setTimeout(r, 5));
  const elapsed = performance.now() - t0;
  await service.stop();
  return EVENTS / (elapsed / 1000);
}

// The mock broker's fetch timing makes single runs noisy: alternate the two consumers and keep medians.
const rawRuns: number[] = [];
const pipelineRuns: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  rawRuns.push(await rawConsume(round));
  pipelineRuns.push(await pipelineConsume(round));
  console.log(`round ${round + 1}: raw kafkajs+JSON.parse ${Math.round(rawRuns[round]!)}/s, full pipeline ${Math.round(pipelineRuns[round]!)}/s`);
}
const rawEventsPerSec = median(rawRuns);
const eventsPerSec = median(pipelineRuns);
console.log(`throughput over ${EVENTS} events (median of ${ROUNDS}): raw ${Math.round(rawEventsPerSec)}/s, full pipeline ${Math.round(eventsPerSec)}/s`);

// ---- (c): event → socket latency at a steady rate --------------------------------------------------
// The service runs in its own process, as in production, so the load generator and the socket client
// here do not share its event loop.
const latencyTopics = { telemetry: 'bench.latency.telemetry', changes: 'bench.latency.changes', alerts: 'bench.latency.alerts' };
const service = await startServiceProcess({
  KAFKA_BROKERS: broker.brokers,
  KAFKA_GROUP_ID: `bench-latency-${RUN}`,
  CHANGEWATCH_TOPIC_TELEMETRY: latencyTopics.telemetry,
  CHANGEWATCH_TOPIC_CHANGES: latencyTopics.changes,
  CHANGEWATCH_TOPIC_ALERTS: latencyTopics.alerts,
  CHANGEWATCH_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'cw-bench-')),
});
const processed = async (): Promise<number> => ((await (await fetch(`${service.url}/api/v1/status`)).json()) as { stats: { eventsProcessed: number } }).stats.eventsProcessed;
const perSeriesStepMs = (SERIES / RATE) * 1000;
// Warm every detector with history (event time in the past) before the measured phase.
const warmSteps = 200;
const liveStart = Date.now();
const warm: TelemetryPoint[] = [];
for (let step = 0; step < warmSteps; step++) for (let i = 0; i < SERIES; i++) warm.push(point(i, step, liveStart - (warmSteps - step) * perSeriesStepMs));
await produceAll(latencyTopics.telemetry, warm);
while ((await processed()) < warm.length) await new Promise((r) => setTimeout(r, 50));

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(service.url, { transports: ['websocket'] });
await new Promise<void>((resolve) => socket.once('snapshot', () => resolve()));
const sentAt = new Map<string, number>();
const latencies: number[] = [];
socket.on('alert', (alert: Alert) => {
  const sent = sentAt.get(`${alert.service}|${alert.metric}|${Date.parse(alert.updatedAt)}`);
  if (sent !== undefined) latencies.push(performance.now() - sent);
});

// Each series spikes once, at a different moment of the steady phase.
const steadySteps = Math.round((STEADY_SECONDS * 1000) / perSeriesStepMs);
const spikeAt = (i: number): number => 5 + ((i * 7919) % (steadySteps - 10));
const tickMs = Number(values['tick-ms']);
const perTick = Math.round((RATE * tickMs) / 1000);
let sentEvents = 0;
const queue: TelemetryPoint[] = [];
for (let step = 0; step < steadySteps; step++) for (let i = 0; i < SERIES; i++) queue.push(point(i, warmSteps + step, 0, step >= spikeAt(i) && step < spikeAt(i) + 3));
const phaseStart = performance.now();
await sendSteady(producer);
console.log(`sent ${sentEvents} events at ${Math.round(sentEvents / ((performance.now() - phaseStart) / 1000))}/s; ${latencies.length} alert emissions measured so far`);
await new Promise((r) => setTimeout(r, 2_000));
socket.close();
await stopServiceProcess(service);
await producer.disconnect();
await broker.stop();

latencies.sort((a, b) => a - b);
const latencyP50Ms = latencies.length ? quantile(latencies, 0.5) : NaN;
const latencyP99Ms = latencies.length ? quantile(latencies, 0.99) : NaN;
console.log(`latency over ${latencies.length} alert emissions: p50 ${latencyP50Ms.toFixed(1)} ms, p99 ${latencyP99Ms.toFixed(1)} ms`);
console.log(
  JSON.stringify({
    pipeline: {
      events: EVENTS,
      eventsPerSec: Math.round(eventsPerSec),
      rawEventsPerSec: Math.round(rawEventsPerSec),
      ratio: Number((eventsPerSec / rawEventsPerSec).toFixed(3)),
      latencyP50Ms: Number(latencyP50Ms.toFixed(1)),
      latencyP99Ms: Number(latencyP99Ms.toFixed(1)),
    },
  }),
);
process.exit(0);

/** Sends the queue at RATE events/s in small ticks, stamping each point with the wall clock as its event time. */
async function sendSteady(p: Producer): Promise<void> {
  let next = performance.now();
  while (queue.length) {
    const batch = queue.splice(0, perTick);
    const now = Date.now();
    const t = performance.now();
    const messages = batch.map((pt) => {
      pt.timestamp = now;
      sentAt.set(`${pt.service}|${pt.metric}|${now}`, t);
      return { key: pt.service, value: JSON.stringify(pt) };
    });
    sentEvents += messages.length;
    void p.send({ topic: latencyTopics.telemetry, messages });
    next += tickMs;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
