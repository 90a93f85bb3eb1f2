/**
 * The service's Prometheus metrics (`GET /metrics`, docs/operations.md), one registry per service
 * instance so several services in one process (tests, benchmarks) never share or collide.
 *
 * Two kinds: counters, incremented where the event happens (the components get this object through
 * their options and call it), and gauges of current state, computed at scrape time by `collect()`
 * callbacks that read the state the service already keeps (`readFrom`), so nothing has to push them.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Severity } from '../contract/alert.ts';
import { isFromFleet, type Emission, type EmissionSink } from './emission.ts';
import type { ErrorCode } from './errors.ts';

/** Messages between a partition's end and the next offset this instance processes. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * What the scrape-time gauges read, each a narrow view of a part the service already has (the
 * core, the store, the Kafka edge), so this module imports none of them.
 */
export interface MetricsSources {
  core: { readonly seriesCount: number };
  store: {
    incidents: { countOpen(): Promise<Array<{ status: string; count: number }>> };
    outbox: {
      countByStatus(): Promise<Array<{ endpoint: string; status: string; count: number }>>;
      list(filter: { status: Array<'pending'>; limit: number }): Promise<Array<{ createdAt: number }>>;
    };
  };
  ingest: { consumerLag(): Promise<PartitionLag[]> };
}

/** Options of `ServiceMetrics`. */
export interface ServiceMetricsOptions {
  /** Where a gauge that could not be computed at a scrape says so (it is left out of that scrape). */
  log?: { warn(fields: object, message: string): void };
  /** Whether prom-client's default process and Node.js metrics (CPU, memory, GC, event-loop lag) are collected (default true). */
  defaultMetrics?: boolean;
  /** Wall clock, epoch ms, for the oldest pending outbox row's age (default `Date.now`). */
  now?: () => number;
}

/** Every alert severity, so each counter series exists (at 0) before its first alert. */
const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** The codes a dead letter can carry (README, "Dead letters"), pre-created at 0 for the same reason. */
export const DEAD_LETTER_CODES: readonly ErrorCode[] = ['CW_EVENT_INVALID_JSON', 'CW_EVENT_SCHEMA', 'CW_EVENT_TOO_LARGE', 'CW_EVENT_TIMESTAMP', 'CW_EVENT_LATE', 'CW_SERIES_LIMIT', 'CW_INTERNAL'];

/** What becomes of a rollback decision: the policy's four outcomes, then a person's approval or denial, or its expiry. */
export type RollbackDecisionOutcome = 'proposed' | 'executed' | 'dry-run' | 'suppressed' | 'approved' | 'denied' | 'expired';

/** Every rollback decision outcome, pre-created at 0. */
const ROLLBACK_OUTCOMES: readonly RollbackDecisionOutcome[] = ['proposed', 'executed', 'dry-run', 'suppressed', 'approved', 'denied', 'expired'];

/** The fates of one delivery attempt (the delivery worker's `DeliveryReport` keys). */
export const DELIVERY_OUTCOMES = ['delivered', 'retried', 'dead', 'released', 'cancelled'] as const;

/** Checkpoint durations, seconds: a few ms for a small incremental save up to tens of seconds for 100k series in full (docs/scaling.md). */
const CHECKPOINT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The metrics of one service instance, in their own registry. */
export class ServiceMetrics {
  /** The registry `GET /metrics` renders; private to this instance (never prom-client's global one). */
  readonly registry = new Registry();
  /** Records read from each input topic and handed to the core (a telemetry message holding an array counts each point), including refused ones. */
  readonly recordsIn: Counter<'topic'>;
  /** Records refused and dead-lettered, from either edge, by error code. */
  readonly deadLetters: Counter<'code'>;
  /** Alert emissions handed to the sinks (each open, update, heartbeat, acknowledgement and resolve), by severity. */
  readonly alertsEmitted: Counter<'severity'>;
  /** Delivery attempts of notifications and rollbacks, by endpoint (delivery source) and outcome. */
  readonly deliveries: Counter<'endpoint' | 'outcome'>;
  /** Rollback decisions recorded, by outcome. */
  readonly rollbackDecisions: Counter<'outcome'>;
  /** Time from taking a checkpoint's changes from the pipeline to the store confirming the write, seconds. */
  readonly checkpointDuration: Histogram;
  /** Bytes of series state the last checkpoint wrote (its JSON's length: exact for ASCII names). */
  readonly checkpointSize: Gauge;
  /** The sink that counts alert emissions and dead letters; register it with `core.addSink`. */
  readonly sink: EmissionSink;
  private sources: MetricsSources | undefined;

  constructor(options: ServiceMetricsOptions = {}) {
    const registers = [this.registry];
    const now = options.now ?? Date.now;
    const log = options.log;
    // A gauge whose source fails is left out of this scrape (and the failure logged); the others still answer.
    const guarded = (name: string, read: (sources: MetricsSources) => Promise<void> | void) => async () => {
      if (!this.sources) return;
      try {
        await read(this.sources);
      } catch (err) {
        log?.warn({ err, metric: name }, 'a metric could not be computed for this scrape; it is left out');
      }
    };

    this.recordsIn = new Counter({ name: 'changewatch_records_in_total', help: 'Records read from each input topic and handed to the core (each point of an array message counts), refused ones included.', labelNames: ['topic'], registers });
    this.deadLetters = new Counter({ name: 'changewatch_dead_letters_total', help: 'Records refused and dead-lettered (read from Kafka or posted to POST /api/v1/events), by error code.', labelNames: ['code'], registers });
    for (const code of DEAD_LETTER_CODES) this.deadLetters.inc({ code }, 0);
    this.alertsEmitted = new Counter({ name: 'changewatch_alerts_emitted_total', help: 'Alert emissions (open, update, heartbeat, acknowledgement, resolve), by severity.', labelNames: ['severity'], registers });
    for (const severity of SEVERITIES) this.alertsEmitted.inc({ severity }, 0);
    this.deliveries = new Counter({ name: 'changewatch_deliveries_total', help: 'Delivery attempts of notifications and approved rollbacks, by endpoint and outcome (delivered, retried, dead, released, cancelled).', labelNames: ['endpoint', 'outcome'], registers });
    this.rollbackDecisions = new Counter({ name: 'changewatch_rollback_decisions_total', help: 'Rollback decisions recorded: by the policy (proposed, executed, dry-run, suppressed), by a person (approved, denied), or expired.', labelNames: ['outcome'], registers });
    for (const outcome of ROLLBACK_OUTCOMES) this.rollbackDecisions.inc({ outcome }, 0);
    this.checkpointDuration = new Histogram({ name: 'changewatch_checkpoint_duration_seconds', help: 'Time from taking a checkpoint\'s changes from the pipeline to the store confirming the write.', buckets: CHECKPOINT_BUCKETS, registers });
    this.checkpointSize = new Gauge({ name: 'changewatch_checkpoint_size_bytes', help: 'Bytes of series state the last checkpoint wrote.', registers });

    const seriesTracked: Gauge = new Gauge({
      name: 'changewatch_series_tracked',
      help: 'Series the pipeline tracks (pipeline.maxSeries is the limit).',
      registers,
      collect: guarded('changewatch_series_tracked', ({ core }) => {
        seriesTracked.set(core.seriesCount);
      }),
    });
    const incidentsOpen: Gauge<'status'> = new Gauge({
      name: 'changewatch_incidents_open',
      help: 'Incidents not resolved, by status (firing, acknowledged).',
      labelNames: ['status'],
      registers,
      collect: guarded('changewatch_incidents_open', async ({ store }) => {
        const counts = await store.incidents.countOpen();
        incidentsOpen.reset();
        for (const status of ['firing', 'acknowledged']) incidentsOpen.set({ status }, 0);
        for (const { status, count } of counts) incidentsOpen.set({ status }, count);
      }),
    });
    const outboxPending: Gauge<'endpoint'> = new Gauge({
      name: 'changewatch_outbox_pending',
      help: 'Notification outbox rows waiting to be delivered, by endpoint.',
      labelNames: ['endpoint'],
      registers,
      collect: guarded('changewatch_outbox_pending', async ({ store }) => {
        const counts = await store.outbox.countByStatus();
        outboxPending.reset();
        for (const { endpoint, status, count } of counts) if (status === 'pending') outboxPending.set({ endpoint }, count);
      }),
    });
    const oldestPending: Gauge = new Gauge({
      name: 'changewatch_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest notification outbox row still pending, seconds (0 when none is).',
      registers,
      collect: guarded('changewatch_outbox_oldest_pending_age_seconds', async ({ store }) => {
        const [oldest] = await store.outbox.list({ status: ['pending'], limit: 1 });
        oldestPending.set(oldest ? Math.max(0, now() - oldest.createdAt) / 1000 : 0);
      }),
    });
    const consumerLag: Gauge<'topic' | 'partition'> = new Gauge({
      name: 'changewatch_consumer_lag_messages',
      help: 'Messages between the end of each partition this instance reads and the next offset it processes (telemetry partitions assigned to it; changes and catalog, which it reads in full).',
      labelNames: ['topic', 'partition'],
      registers,
      collect: guarded('changewatch_consumer_lag_messages', async ({ ingest }) => {
        // Reset first: when Kafka does not answer, the scrape has no lag rather than a stale one.
        consumerLag.reset();
        for (const { topic, partition, lag } of await ingest.consumerLag()) consumerLag.set({ topic, partition: String(partition) }, lag);
      }),
    });

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    const { alertsEmitted, deadLetters } = this;
    this.sink = {
      name: 'metrics',
      accept(emission: Emission): void {
        // Another instance's emissions are counted by that instance's own metrics.
        if (isFromFleet(emission)) return;
        for (const alert of emission.alerts) alertsEmitted.inc({ severity: alert.severity });
        for (const deadLetter of emission.deadLetters) deadLetters.inc({ code: deadLetter.error.code });
      },
    };
  }

  /** Points the scrape-time gauges at the running service's state; until then they report nothing. */
  readFrom(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Creates the delivery counters of an endpoint at 0 for every outcome, so rates start from its first attempt. */
  knowEndpoint(endpoint: string): void {
    for (const outcome of DELIVERY_OUTCOMES) this.deliveries.inc({ endpoint, outcome }, 0);
  }

  /** The exposition text and its content type, for `GET /metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
