/**
 * Wires the running service together in one place: checkpoint → pipeline → core → Kafka edge,
 * HTTP edge and socket gateway. `npm start`, the demo, the tests and the benchmarks all start
 * changewatch through `startService`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.ts';
import { Changewatch } from './core.ts';
import { createHttpApp } from './http/app.ts';
import { attachSocketGateway } from './http/socket-gateway.ts';
import type { CheckpointStore } from './ingest/checkpoint.ts';
import { FileCheckpointStore } from './ingest/file-checkpoint.ts';
import { KafkaIngest } from './ingest/kafka-ingest.ts';
import type { Logger } from './log.ts';
import { createPipeline } from './pipeline/create.ts';

/** The built dashboard, next to the sources. */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

/** A running changewatch instance. */
export interface RunningService {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:8080. */
  url: string;
  core: Changewatch;
  ingest: KafkaIngest;
  http: Server;
  /** Stops consuming, checkpoints, and closes every connection. */
  stop(): Promise<void>;
}

/** Starts changewatch with a validated config. */
export async function startService(config: Config, log: Logger, checkpoints: CheckpointStore = new FileCheckpointStore(config.dataDir, config.kafka.groupId)): Promise<RunningService> {
  const checkpoint = await checkpoints.load();
  const pipeline = createPipeline(config.pipeline, config.services, checkpoint?.state);
  if (checkpoint) log.info({ series: pipeline.seriesCount, offsets: checkpoint.offsets }, 'restored pipeline state from checkpoint');
  const core = new Changewatch(pipeline);
  const ingest = new KafkaIngest(config, core, checkpoints, log);

  const app = createHttpApp({
    core,
    publisher: ingest,
    log,
    maxBodyBytes: config.kafka.maxMessageBytes * 4,
    maxFutureSkewMs: config.kafka.maxFutureSkewMs,
    dashboardDir: DASHBOARD_DIR,
  });
  const http = createServer(app);
  const gateway = attachSocketGateway(http, core, () => core.stats(ingest.ready));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  log.info({ url }, 'HTTP server listening');

  await ingest.start(checkpoint?.offsets);
  log.info({ brokers: config.kafka.brokers, group: config.kafka.groupId }, 'consuming from Kafka');

  let stopping: Promise<void> | undefined;
  return {
    url,
    core,
    ingest,
    http,
    stop: () =>
      (stopping ??= (async () => {
        await ingest.stop().catch((err: unknown) => log.error({ err }, 'error while stopping Kafka ingest'));
        await gateway.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })()),
  };
}
