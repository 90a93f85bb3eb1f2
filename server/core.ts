/**
 * The service core: one place that takes validated records from any edge (Kafka, HTTP), runs the
 * pipeline, keeps the latest alerts and counters, and tells subscribers (socket gateway, alert
 * stages) what happened. Edges only decode and encode; everything they share lives here.
 */
import { EventEmitter } from 'node:events';
import type { ChangeEvent } from '../contract/events.ts';
import type { Alert, ServerStats } from '../contract/alert.ts';
import type { Incident } from '../contract/incident.ts';
import type { ReplayRecord } from './wire/schemas.ts';
import { createError, type ChangewatchError } from './errors.ts';
import { AlertBook } from './alerts/alert-book.ts';
import type { IngestResult, Pipeline } from './pipeline/pipeline.ts';

/** Where a refused event came from, so it can be dead-lettered and traced back. */
export interface DeadLetter {
  error: ChangewatchError;
  /** The exact bytes that were refused (for an array item: that item's JSON). */
  original: Buffer | string;
  source: { kind: 'kafka'; topic: string; partition: number; offset: string; key?: string; index?: number } | { kind: 'http'; index: number };
}

/** Events the core publishes. */
export interface CoreEvents {
  alert: [Alert];
  change: [ChangeEvent];
  /** An incident was opened, grew, changed status or was acknowledged/resolved by a person. */
  incident: [Incident];
  deadletter: [DeadLetter];
}

/** The changewatch core around one pipeline. */
export class Changewatch extends EventEmitter<CoreEvents> {
  /** Latest version of recent alerts. */
  readonly alerts = new AlertBook();
  /** Alerts a person acknowledged (through their incident); the pipeline knows only firing and resolved. */
  private readonly acknowledged = new Set<string>();
  private eventsProcessed = 0;
  private deadLettered = 0;

  constructor(readonly pipeline: Pipeline) {
    super();
    for (const alert of pipeline.openAlerts()) this.alerts.upsert(alert);
  }

  /**
   * Runs one valid record through the pipeline and publishes what it produced. A bug that throws on
   * one record must not stall the stream (the consumer would retry it forever): it comes back as a
   * CW_INTERNAL rejection, to be dead-lettered with the record.
   */
  handle(record: ReplayRecord): IngestResult {
    let result: IngestResult;
    try {
      result = this.pipeline.ingest(record);
    } catch (err) {
      return { alerts: [], rejected: createError('CW_INTERNAL', `internal error while processing this event: ${(err as Error).message}`, undefined, { cause: err }) };
    }
    this.eventsProcessed++;
    if ('change' in record) this.emit('change', record.change);
    for (const emitted of result.alerts) {
      const alert = this.withAcknowledgement(emitted);
      this.alerts.upsert(alert);
      this.emit('alert', alert);
    }
    return result;
  }

  /** Marks alerts acknowledged: their open emissions from now on say `acknowledged`, and each is re-published once now. */
  acknowledge(alertIds: readonly string[]): void {
    for (const id of alertIds) {
      this.acknowledged.add(id);
      const alert = this.alerts.get(id);
      if (alert?.status === 'firing') {
        const acknowledged = { ...alert, status: 'acknowledged' as const };
        this.alerts.upsert(acknowledged);
        this.emit('alert', acknowledged);
      }
    }
  }

  /** Publishes an incident change to subscribers (the socket gateway). */
  publishIncident(incident: Incident): void {
    this.emit('incident', incident);
  }

  private withAcknowledgement(alert: Alert): Alert {
    if (alert.status === 'resolved') {
      this.acknowledged.delete(alert.id);
      return alert;
    }
    return this.acknowledged.has(alert.id) ? { ...alert, status: 'acknowledged' } : alert;
  }

  /** Counts and publishes an event that could not be used. */
  reject(deadLetter: DeadLetter): void {
    this.deadLettered++;
    this.emit('deadletter', deadLetter);
  }

  /** Recent changes, newest first. */
  recentChanges(limit = 100): ChangeEvent[] {
    return this.pipeline.recentChanges(limit);
  }

  /** Counters for dashboards and /readyz. */
  stats(kafkaConnected: boolean): ServerStats {
    return { eventsProcessed: this.eventsProcessed, deadLettered: this.deadLettered, alertsFiring: this.alerts.countOpen(), kafkaConnected };
  }
}
