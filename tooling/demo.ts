/**
 * `npm run demo`: one command for a live changewatch. Starts librdkafka's mock Kafka cluster, the
 * service, and the fleet simulator, which backfills two hours of history (so detectors are warm at
 * once) and then produces in real time, injecting an incident every few minutes. Prints the URL,
 * then a one-line scorecard every few minutes (and on exit): each injected incident alerted or missed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config.ts';
import { startMockKafka } from './dev/mock-kafka.ts';
import { startDemoCdSystem } from './dev/demo-cd-system.ts';
import { startDemoScorecard } from './dev/demo-scorecard.ts';
import { startLiveSimulator } from './dev/live-simulator.ts';
import { demoArgs } from './dev/simulator-args.ts';
import { createLogger } from '../server/log.ts';
import { startService } from '../server/service.ts';

const { scorecardEveryMinutes, ...args } = demoArgs(process.argv.slice(2));
const kafka = await startMockKafka();
const dataDir = mkdtempSync(path.join(tmpdir(), 'changewatch-demo-'));
// Rollbacks are proposed on the dashboard; approved ones go to a stand-in CD system that prints them.
const cd = await startDemoCdSystem((line) => process.stdout.write(`${line}\n`));
const configFile = path.join(dataDir, 'changewatch.yaml');
writeFileSync(configFile, 'rollback:\n  mode: require-approval\n  webhook: { url: ${DEMO_CD_URL}, secret: ${DEMO_CD_SECRET} }\n');
const config = loadConfig({
  file: configFile,
  env: { ...process.env, KAFKA_BROKERS: kafka.brokers, CHANGEWATCH_DATA_DIR: dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', DEMO_CD_URL: cd.url, DEMO_CD_SECRET: cd.secret },
});
const log = createLogger(config.log.level);
const service = await startService(config, log);
// Watches alerts as the dashboard does and scores them against what the simulator injected.
const scorecard = startDemoScorecard({ url: service.url, print: (line) => process.stdout.write(`${line}\n`), everyMs: scorecardEveryMinutes * 60_000 });
const simulator = await startLiveSimulator({
  brokers: config.kafka.brokers,
  topics: config.kafka.topics,
  log,
  aiIncidentAfterMs: 60_000,
  onIncident: scorecard.record,
  ...args,
});

const dashboard = `http://localhost:${new URL(service.url).port}`;
process.stdout.write(
  `\nchangewatch demo is running\n  dashboard: ${dashboard}\n  API:       ${dashboard}/api/v1/alerts\n  Kafka:     ${kafka.brokers} (librdkafka mock cluster)\n` +
    `  backfilled ${simulator.backfilled} events (${args.historyMinutes} min of history); an incident about every ${args.incidentEveryMinutes} min from now on\n` +
    `  in about 3 min an AI agent's deploy breaks checkout: watch the alert name it, the rollback proposal and the AI-change freeze appear;\n` +
    `  sign in with the admin token printed above to approve; a stand-in CD system prints what it receives\n` +
    (scorecardEveryMinutes > 0 ? `  every ${scorecardEveryMinutes} min a scorecard line says which injected incidents were alerted, named right, missed or pending\n` : '') +
    `  Ctrl-C to stop\n\n`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // The last scorecard line first, synchronously, so it is printed however the shutdown goes.
    scorecard.stop();
    void (async () => {
      await simulator.stop().catch(() => undefined);
      await service.stop();
      await cd.stop();
      await kafka.stop();
      process.exit(0);
    })();
  });
}
