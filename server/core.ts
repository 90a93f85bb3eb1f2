/**
 * The service core: one place that takes validated records from any edge (Kafka, HTTP), runs the
 * pipeline, keeps the latest alerts and counters, and hands every result to the registered sinks
 * as one `Emission` (server/emission.ts). Edges only decode and encode; everything they share
 * lives here. People's actions (an acknowledgement, an incident change) leave by the same path, so
 * the alerts topic, the dashboards and the router all see the same statuses.
 */
import type { Alert, ServerStats } from '../contract/alert.ts';
import type { AutomationSnapshot } from '../contract/automation.ts';
import type { ChangeEvent } from '../contract/events.ts';
import type { Incident } from '../contract/incident.ts';
import { AlertBook } from './alert-book.ts';
import { EMPTY_EMISSION, isEmpty, type DeadLetter, type Emission, type EmissionSink } from './emission.ts';
import { createError, type ChangewatchError } from './errors.ts';
import type { Logger } from './log.ts';
import type { IngestResult, Pipeline, ShardChanges } from './pipeline/pipeline.ts';
import type { SeriesHistory } from './pipeline/series-history.ts';
import type { ReplayRecord } from './wire/schemas.ts';

export type { DeadLetter } from './emission.ts';

/**
 * Builds the dead letter of a record the pipeline refused, from where the edge read it. The edge
 * passes one per record; the core calls it only on refusal.
 */
export type DeadLetterOf = (error: ChangewatchError) => DeadLetter;

/** The changewatch core around one pipeline. */
export class Changewatch {
  /** Latest version of recent alerts. */
  readonly alerts = new AlertBook();
  /** Alerts a person acknowledged (through their incident); the pipeline knows only firing and resolved. */
  private readonly acknowledged = new Set<string>();
  private readonly sinks: EmissionSink[] = [];
  private eventsProcessed = 0;
  private deadLettered = 0;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly log?: Logger,
  ) {
    for (const alert of pipeline.openAlerts()) this.alerts.upsert(alert);
  }

  /** Registers a sink for every emission from now on; returns the function that removes it. */
  addSink(sink: EmissionSink): () => void {
    this.sinks.push(sink);
    return () => {
      const at = this.sinks.indexOf(sink);
      if (at >= 0) this.sinks.splice(at, 1);
    };
  }

  /**
   * Runs one valid record through the pipeline; returns what it produced, which every sink has
   * received by then. A record the pipeline refuses becomes a dead letter (built by `deadLetterOf`).
   * A bug that throws on one record must not stall the stream (the consumer would retry it
   * forever): it is refused as CW_INTERNAL and dead-lettered with the record.
   */
  handle(record: ReplayRecord, deadLetterOf: DeadLetterOf, shard = ''): Emission {
    let result: IngestResult;
    try {
      result = this.pipeline.ingest(record, shard);
    } catch (err) {
      return this.reject(deadLetterOf(createError('CW_INTERNAL', `internal error while processing this event: ${(err as Error).message}`, undefined, { cause: err })));
    }
    // A record the pipeline looked at and refused (too late, over maxSeries) counts as processed too.
    this.eventsProcessed++;
    if (result.rejected) return this.reject(deadLetterOf(result.rejected));
    const produced = result.alerts;
    // A change read again (the changes topic is re-read from its start by every new consumer) is not news.
    const changes = 'change' in record && !result.repeated ? [record.change] : [];
    if (produced.length === 0 && changes.length === 0) return EMPTY_EMISSION;
    const alerts = produced.map((emitted) => this.withAcknowledgement(emitted));
    for (const alert of alerts) this.alerts.upsert(alert);
    return this.dispatch({ alerts, changes, incidents: [], deadLetters: [] });
  }

  /** Counts and emits a record that could not be used (refused by an edge's decoding or by the pipeline). */
  reject(deadLetter: DeadLetter): Emission {
    this.deadLettered++;
    return this.dispatch({ alerts: [], changes: [], incidents: [], deadLetters: [deadLetter] });
  }

  /** Marks alerts acknowledged: their open emissions from now on say `acknowledged`, and each is emitted once now. */
  acknowledge(alertIds: readonly string[]): void {
    const alerts: Alert[] = [];
    for (const id of alertIds) {
      this.acknowledged.add(id);
      const alert = this.alerts.get(id);
      if (alert?.status === 'firing') {
        const acknowledged = { ...alert, status: 'acknowledged' as const };
        this.alerts.upsert(acknowledged);
        alerts.push(acknowledged);
      }
    }
    this.dispatch({ alerts, changes: [], incidents: [], deadLetters: [] });
  }

  /** Emits an incident that was opened or changed (by the router, or by a person through it). */
  publishIncident(incident: Incident): void {
    this.dispatch({ alerts: [], changes: [], incidents: [incident], deadLetters: [] });
  }

  /**
   * What another instance of the deployment produced (alerts, incidents, the automation panel's
   * state), heard through the fleet feed: its alerts join the latest alerts (the newest version of
   * each wins), and it is emitted marked `origin: 'fleet'`, for dashboards only.
   */
  absorbFleet(part: { alerts?: readonly Alert[]; incidents?: readonly Incident[]; automation?: AutomationSnapshot }): void {
    const alerts = (part.alerts ?? []).map((alert) => this.withAcknowledgement(alert));
    for (const alert of alerts) this.alerts.upsert(alert);
    this.dispatch({ alerts, changes: [], incidents: part.incidents ?? [], deadLetters: [], ...(part.automation ? { automation: part.automation } : {}), origin: 'fleet' });
  }

  /** Emits the automation panel's new state (rollbacks, freezes, kill switch). */
  publishAutomation(automation: AutomationSnapshot): void {
    this.dispatch({ alerts: [], changes: [], incidents: [], deadLetters: [], automation });
  }

  /** What changed in one shard (a Kafka partition) since its last save, for its checkpoint (`Pipeline.shardChanges`). */
  shardChanges(shard: string, all = false): ShardChanges {
    return this.pipeline.shardChanges(shard, all);
  }

  /** Marks again what could not be saved (`Pipeline.unsaved`). */
  unsaved(shard: string, changes: ShardChanges): void {
    this.pipeline.unsaved(shard, changes);
  }

  /** Restores a shard assigned to this instance; its open alerts join the latest alerts (not emitted: nothing changed). */
  importShard(shard: string, states: Iterable<string>): number {
    const restored = this.pipeline.importShard(shard, states);
    for (const alert of this.pipeline.openAlerts()) if (!this.alerts.get(alert.id)) this.alerts.upsert(this.withAcknowledgement(alert));
    return restored;
  }

  /** Forgets a shard another instance took over (`Pipeline.dropShard`); its alerts stay in the latest alerts. */
  dropShard(shard: string): void {
    this.pipeline.dropShard(shard);
  }

  /** The alerts the pipeline holds open, with suspects as attribution last ranked them (possibly newer than their last emission). */
  openAlerts(): Alert[] {
    return this.pipeline.openAlerts();
  }

  /** How many series the pipeline tracks. */
  get seriesCount(): number {
    return this.pipeline.seriesCount;
  }

  /** The pipeline's recent downsampled history of every series, read by the charts' route. */
  get seriesHistory(): SeriesHistory {
    return this.pipeline.history;
  }

  /** Recent changes, newest first. */
  recentChanges(limit = 100): ChangeEvent[] {
    return this.pipeline.recentChanges(limit);
  }

  /** Counters for dashboards and /readyz. */
  stats(kafkaConnected: boolean): ServerStats {
    const open = this.alerts.countOpen();
    return { eventsProcessed: this.eventsProcessed, deadLettered: this.deadLettered, alertsFiring: open.firing, alertsAcknowledged: open.acknowledged, kafkaConnected };
  }

  private withAcknowledgement(alert: Alert): Alert {
    if (alert.status === 'resolved') {
      this.acknowledged.delete(alert.id);
      return alert;
    }
    return this.acknowledged.has(alert.id) ? { ...alert, status: 'acknowledged' } : alert;
  }

  /** Hands the emission to every sink; one that throws is logged and does not keep it from the others. */
  private dispatch(emission: Emission): Emission {
    if (isEmpty(emission)) return emission;
    for (const sink of this.sinks) {
      try {
        sink.accept(emission);
      } catch (err) {
        this.log?.error({ err, sink: sink.name }, 'an emission sink threw; the other sinks still got the emission');
      }
    }
    return emission;
  }
}
