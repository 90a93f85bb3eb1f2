/**
 * Wires the running service together in one place: store → checkpoint → pipeline → core, whose
 * emissions go to three sinks (the Kafka producer, the alert router, the socket gateway); the
 * router → delivery worker and guarded automation (freezes, rollbacks, kill switch); the HTTP edge.
 * `npm start`, the demo, the tests and the benchmarks all start changewatch through `startService`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Automation } from './actions/automation.ts';
import { FreezeService } from './actions/freeze.ts';
import { CanaryGates } from './actions/gates.ts';
import { KillSwitch } from './actions/kill-switch.ts';
import { RollbackService } from './actions/rollback-service.ts';
import { AlertRouter } from './alerts/alert-router.ts';
import { ChangeEventSink, changeEventSources } from './alerts/change-events.ts';
import { DeliveryWorker } from './alerts/delivery/worker.ts';
import { createChangeSenders, createNotifiers } from './alerts/notifiers/index.ts';
import { SilenceBook } from './alerts/stages/mute.ts';
import type { Config } from './config.ts';
import { Changewatch } from './core.ts';
import { createActionsRouter } from './http/actions-routes.ts';
import { createHttpApp } from './http/app.ts';
import { createGatesRouter } from './http/gates-routes.ts';
import { Authenticator, readAccess, requireRole, socketReadAccess } from './http/auth.ts';
import { createIncidentsRouter } from './http/incidents-routes.ts';
import { attachSocketGateway } from './http/socket-gateway.ts';
import { FleetFeed, newInstanceId } from './fleet-feed.ts';
import { partitionKey, type CheckpointStore } from './ingest/checkpoint.ts';
import { FileCheckpointStore } from './ingest/file-checkpoint.ts';
import { KafkaIngest } from './ingest/kafka-ingest.ts';
import type { Logger } from './log.ts';
import { ServiceMetrics } from './metrics.ts';
import { createPipeline } from './pipeline/create.ts';
import type { PipelineSnapshot } from './pipeline/pipeline.ts';
import { Store } from './store/store.ts';

/** The built dashboard, next to the sources. */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

/** A running changewatch instance. */
export interface RunningService {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:8080. */
  url: string;
  core: Changewatch;
  ingest: KafkaIngest;
  http: Server;
  store: Store;
  alertRouter: AlertRouter;
  delivery: DeliveryWorker;
  automation: Automation;
  /** This instance's metrics (`GET /metrics`), in a registry of its own. */
  metrics: ServiceMetrics;
  /** Stops consuming, checkpoints, and closes every connection. */
  stop(): Promise<void>;
}

/**
 * Starts changewatch with a validated config: the durable store is PostgreSQL when `databaseUrl`
 * is set, else embedded PGlite under `dataDir`.
 */
export async function startService(config: Config, log: Logger): Promise<RunningService> {
  const store = await Store.open(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl } : { dataDir: path.join(config.dataDir, 'db') });
  const { authenticator, generatedToken } = Authenticator.fromConfig(config.auth);
  if (generatedToken !== undefined) {
    // Printed once, to stdout and not the structured log, so it does not end up in log storage.
    process.stdout.write(`changewatch: no API token configured; generated admin token (shown once): ${generatedToken}\n`);
  }
  // PGlite computes on this thread: saving a multi-megabyte checkpoint in it stalls detection for
  // hundreds of milliseconds, so the embedded setup keeps checkpoints in an fsync'd file beside it.
  // With PostgreSQL the write is I/O the event loop does not wait on, and checkpoints go there.
  const checkpoints =
    config.databaseUrl !== undefined ? storeCheckpoints(store, config.kafka.groupId) : new FileCheckpointStore(path.join(config.dataDir, 'checkpoints'), config.kafka.groupId);
  // Partitions are restored as the group assigns them (KafkaIngest); an earlier build's whole-state
  // checkpoint is read once, at the upgrade.
  const legacy = await checkpoints.loadLegacy();
  const pipeline = createPipeline(config.pipeline, config.services, legacy?.state);
  if (legacy) log.info({ series: pipeline.seriesCount, offsets: legacy.offsets }, 'restored pipeline state from an earlier build\'s checkpoint');
  const core = new Changewatch(pipeline, log.child({ component: 'core' }));
  const metrics = new ServiceMetrics({ log: log.child({ component: 'metrics' }) });
  const ingest = new KafkaIngest(config, core, checkpoints, log, metrics);
  // The one output path: every sink hears every emission (server/emission.ts).
  const sinks = [core.addSink(ingest)];
  // Alert emissions and dead letters are counted as they leave the core, whichever edge they came from.
  sinks.push(core.addSink(metrics.sink));
  metrics.readFrom({ core, store, ingest });

  const silences = await SilenceBook.load(store.audit);
  const killSwitch = new KillSwitch(store.audit);
  const rollbacks = new RollbackService({ store, config: config.rollback, killSwitch, logger: log.child({ component: 'rollback' }), metrics });
  // Approved rollbacks are sent by the same worker as notifications (backoff, circuit breaker).
  // Changes announced to PagerDuty Change Events and Grafana go through it too (server/alerts/change-events.ts).
  const deliveryLog = log.child({ component: 'delivery' });
  const changeSources = changeEventSources(store, createChangeSenders(config.notify), deliveryLog);
  const delivery = new DeliveryWorker({ store, notifiers: createNotifiers(config.notify), sources: [rollbacks.delivery, ...changeSources], logger: deliveryLog, metrics });
  const freezes = new FreezeService({ store, config: config.freeze });
  const automation = new Automation({
    rollbacks,
    delivery,
    freezes,
    killSwitch,
    rollbackConfig: config.rollback,
    log: log.child({ component: 'automation' }),
    onChange: (snapshot) => core.publishAutomation(snapshot),
    // Re-ranked suspects the pipeline has not emitted (too small a change) still reach a pending decision.
    openAlerts: () => core.openAlerts(),
  });
  if (config.rollback.mode !== 'off' && config.rollback.webhook === undefined) {
    log.warn({ mode: config.rollback.mode }, 'rollback.webhook is not configured: rollbacks are proposed on the dashboard but approving one is refused; roll back by hand');
  }
  const alertRouter = await AlertRouter.start({
    store,
    ports: core,
    incidents: config.incidents,
    notify: config.notify,
    maintenance: config.maintenance,
    silences,
    publicUrl: config.publicUrl,
    log: log.child({ component: 'alert-router' }),
    onEnqueued: () => delivery.wake(),
    onRouted: (alert, incident) => automation.consider(alert, incident),
  });
  sinks.push(core.addSink(alertRouter));
  const changeEvents = new ChangeEventSink({ store, notify: config.notify, publicUrl: config.publicUrl, log: deliveryLog, onEnqueued: () => delivery.wake() });
  if (changeSources.length > 0) sinks.push(core.addSink(changeEvents));
  // Several instances on one PostgreSQL: each one's dashboards show what all produce (server/fleet-feed.ts).
  const fleet = store.notifications
    ? await FleetFeed.start({ notifications: store.notifications, core, store, automation: () => automation.snapshot(), instanceId: newInstanceId(), log: log.child({ component: 'fleet-feed' }) })
    : undefined;
  if (fleet) {
    sinks.push(core.addSink(fleet));
    // What the deployment holds open (another instance's alerts, or alerts from before this start) is on the dashboards from the start.
    core.absorbFleet({ alerts: await store.alerts.list({ status: ['firing', 'acknowledged'], limit: 1_000 }) });
  }
  delivery.start();
  automation.start();

  const app = createHttpApp({
    core,
    publisher: ingest,
    log,
    authenticator,
    maxBodyBytes: config.kafka.maxMessageBytes * 4,
    maxFutureSkewMs: config.kafka.maxFutureSkewMs,
    dashboardDir: DASHBOARD_DIR,
    metrics,
    otlpPublisher: ingest,
    routers: [
      createIncidentsRouter({ store, alertRouter, silences, read: readAccess(authenticator), requireRole: (role) => requireRole(authenticator, role) }),
      createActionsRouter({
        authenticator,
        rollbacks,
        freezes,
        killSwitch,
        audit: store.audit,
        onChanged: () => automation.changed(),
        snapshot: () => automation.snapshot(),
      }),
      // Canary controllers (Argo Rollouts, Flagger) ask whether a service or version is implicated (docs/actions.md).
      createGatesRouter({ authenticator, gates: new CanaryGates({ store, freezes, killSwitch, rollbackConfig: config.rollback }) }),
    ],
  });
  const http = createServer(app);
  // Dashboards read through the socket: the same read rule as the GET routes (anonymous unless auth.anonymousRead is false).
  const gateway = attachSocketGateway(http, core, () => core.stats(ingest.ready), {
    authorize: socketReadAccess(authenticator),
    automation: () => automation.snapshot(),
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  log.info({ url }, 'HTTP server listening');

  await ingest.start(legacy?.offsets);
  log.info({ brokers: config.kafka.brokers, group: config.kafka.groupId }, 'consuming from Kafka');

  let stopping: Promise<void> | undefined;
  return {
    url,
    core,
    ingest,
    http,
    store,
    alertRouter,
    delivery,
    automation,
    metrics,
    stop: () =>
      (stopping ??= (async () => {
        await ingest.stop().catch((err: unknown) => log.error({ err }, 'error while stopping Kafka ingest'));
        for (const removeSink of sinks) removeSink();
        await fleet?.stop();
        await alertRouter.stop();
        await changeEvents.idle();
        await automation.stop();
        await delivery.stop();
        await gateway.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await store.close();
      })()),
  };
}

/**
 * Partition checkpoints in the store: each save is one transaction (server/store/repositories/checkpoints.ts).
 * The series arrive as JSON text and stay text: PostgreSQL's jsonb refuses the `\u0000` they contain.
 */
export function storeCheckpoints(store: Store, consumerGroup: string): CheckpointStore {
  return {
    loadPartition: (topic, partition) => store.checkpoints.loadPartition(consumerGroup, topic, partition),
    async save(partitions) {
      // The saves are plain data already (strings), so nothing the caller changes later reaches them.
      return { behind: await store.checkpoints.savePartitions(consumerGroup, partitions) };
    },
    async loadLegacy() {
      if (await store.checkpoints.hasPartitions(consumerGroup)) return undefined;
      const saved = await store.checkpoints.load(consumerGroup);
      if (saved === undefined) return undefined;
      const offsets = Object.fromEntries(saved.offsets.map(({ topic, partition, offset }) => [partitionKey(topic, partition), offset]));
      return { state: JSON.parse(saved.state as string) as PipelineSnapshot, offsets };
    },
  };
}
