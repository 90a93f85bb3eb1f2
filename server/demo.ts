/**
 * `npm run demo`: one command for a live changewatch. Starts librdkafka's mock Kafka cluster, the
 * service, and the fleet simulator, which first backfills two hours of history (so detectors are
 * warm at once) and then produces in real time, injecting an incident caused by a specific change
 * every few minutes. Prints the dashboard URL.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import { loadConfig, type Config } from './config.ts';
import { startMockKafka } from './dev/mock-kafka.ts';
import { createLogger } from './log.ts';
import { startService } from './service.ts';
import { FleetSimulator, type FleetRecord } from './sim/fleet.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '42' },
    'history-minutes': { type: 'string', default: '120' },
    'incident-every-minutes': { type: 'string', default: '4' },
  },
});

const kafka = await startMockKafka();
const dataDir = mkdtempSync(path.join(tmpdir(), 'changewatch-demo-'));
const config = loadConfig({ env: { ...process.env, KAFKA_BROKERS: kafka.brokers, CHANGEWATCH_DATA_DIR: dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } });
const log = createLogger(config.log.level);
const service = await startService(config, log);

const producer = new Kafka({ brokers: [kafka.brokers], clientId: 'changewatch-demo-simulator', logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
const now = Date.now();
const fleet = new FleetSimulator({
  seed: Number(values.seed),
  start: now - Number(values['history-minutes']) * 60_000,
  incidentEveryMs: Number(values['incident-every-minutes']) * 60_000,
});
const backfill = fleet.advance(now);
await produce(producer, config, backfill);

const dashboard = `http://localhost:${new URL(service.url).port}`;
process.stdout.write(
  `\nchangewatch demo is running\n  dashboard: ${dashboard}\n  API:       ${dashboard}/api/v1/alerts\n  Kafka:     ${kafka.brokers} (librdkafka mock cluster)\n` +
    `  backfilled ${backfill.length} events (${values['history-minutes']} min of history); an incident every ${values['incident-every-minutes']} min from now on\n  Ctrl-C to stop\n\n`,
);

const timer = setInterval(() => {
  produce(producer, config, fleet.advance(Date.now())).catch((err: unknown) => log.error({ err }, 'simulator failed to produce'));
}, 1_000);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(timer);
    void (async () => {
      await producer.disconnect().catch(() => undefined);
      await service.stop();
      await kafka.stop();
      process.exit(0);
    })();
  });
}

/** Sends simulator records to their topics, keyed by service, in chunks the mock broker takes comfortably. */
async function produce(producer: Producer, config: Config, records: FleetRecord[]): Promise<void> {
  const { topics } = config.kafka;
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    const [topic, key, value] =
      'metric' in record ? [topics.telemetry, record.metric.service, record.metric] : 'change' in record ? [topics.changes, record.change.service, record.change] : [topics.services, record.service.name, record.service];
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push({ key, value: JSON.stringify(value) });
  }
  // Catalog and changes first, so telemetry never arrives before the changes that precede it.
  for (const topic of [topics.services, topics.changes, topics.telemetry]) {
    const messages = byTopic.get(topic) ?? [];
    for (let i = 0; i < messages.length; i += 5_000) await producer.send({ topic, messages: messages.slice(i, i + 5_000) });
  }
}
