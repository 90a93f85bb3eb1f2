/**
 * `npm run simulate`: produces a simulated fleet to the Kafka cluster in KAFKA_BROKERS (the compose
 * file's `simulator` profile uses it), with the same topics and options as the demo.
 */
import { loadConfig } from '../server/config.ts';
import { startLiveSimulator } from './dev/live-simulator.ts';
import { simulatorArgs } from './dev/simulator-args.ts';
import { createLogger } from '../server/log.ts';

const args = simulatorArgs(process.argv.slice(2));
const config = loadConfig({ env: process.env });
const log = createLogger(config.log.level, 'changewatch-simulator');
const simulator = await startLiveSimulator({ brokers: config.kafka.brokers, topics: config.kafka.topics, log, ...args });
log.info({ brokers: config.kafka.brokers, backfilled: simulator.backfilled }, 'simulating a fleet');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void simulator.stop().finally(() => process.exit(0)));
