/**
 * Changes as outbound events: the emission sink that writes each change the core emits to the
 * outbox of every endpoint announcing changes (PagerDuty Change Events, Grafana annotations), and
 * the delivery sources that send them. The delivery worker (the retry stage) does the sending, with
 * the same backoff, leases and circuit breaker as notifications.
 *
 * Once per change id per endpoint, across instances and restarts: every instance re-reads the
 * changes topic from its start and emits each change it has not seen (server/pipeline marks the
 * repeats it has), so several instances on one PostgreSQL all write the same row; its id derives
 * from (endpoint, change id) and the insert ignores a row that exists. Finished rows are pruned
 * after the worker's retention (7 days); so that a re-read never announces a change again after
 * that, changes older than `maxAgeMs` (24 h) by the wall clock are not announced at all.
 */
import type { ChangeEvent } from '../../contract/events.ts';
import { isFromFleet, type Emission, type EmissionSink } from '../emission.ts';
import type { Store } from '../store/store.ts';
import { ChangeEventSource } from './delivery/change-source.ts';
import type { DeliveryLogger } from './delivery/source.ts';
import { changeEndpointsFor, changeNotificationId, type ChangeSender } from './notifiers/changes.ts';
import type { NotifierConfig } from './notifiers/config.ts';

/** Changes older than this (wall clock minus event time) are not announced: well inside the outbox's 7-day retention. */
export const CHANGE_EVENT_MAX_AGE_MS = 24 * 60 * 60_000;

/** What the sink needs. */
export interface ChangeEventsOptions {
  store: Pick<Store, 'changeOutbox'>;
  notify: readonly NotifierConfig[];
  /** Base URL of the dashboard, linked from every announcement. */
  publicUrl: string;
  log: DeliveryLogger;
  /** Called after rows were written (wake the delivery worker). */
  onEnqueued?: () => void;
  /** Wall clock, epoch ms (default `Date.now`). */
  now?: () => number;
  /** Default `CHANGE_EVENT_MAX_AGE_MS`. */
  maxAgeMs?: number;
}

/** The sink writing emitted changes to the outbox of the endpoints that announce them. */
export class ChangeEventSink implements EmissionSink {
  readonly name = 'change-events';
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly maxAgeMs: number;

  constructor(private readonly options: ChangeEventsOptions) {
    this.now = options.now ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? CHANGE_EVENT_MAX_AGE_MS;
  }

  /** Queues the emission's changes; another instance's emissions are that instance's to announce. */
  accept(emission: Emission): void {
    if (isFromFleet(emission) || emission.changes.length === 0) return;
    const changes = [...emission.changes];
    this.queue = this.queue.then(() => this.enqueue(changes));
  }

  /** Resolves once everything accepted so far is written (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Writes the rows; a store failure is logged: other instances, or the next re-read, write them. */
  private async enqueue(changes: readonly ChangeEvent[]): Promise<void> {
    const now = this.now();
    const publicUrl = this.options.publicUrl.replace(/\/$/, '');
    const entries = changes
      .filter((change) => now - change.timestamp <= this.maxAgeMs)
      .flatMap((change) =>
        changeEndpointsFor(this.options.notify, change).map((endpoint) => ({
          endpoint,
          notification: { id: changeNotificationId(endpoint, change.id), change, dashboardUrl: `${publicUrl}/` },
          createdAt: now,
        })),
      );
    if (entries.length === 0) return;
    try {
      if ((await this.options.store.changeOutbox.enqueueOnce(entries)) > 0) this.options.onEnqueued?.();
    } catch (error) {
      this.options.log.error(
        { err: { message: error instanceof Error ? error.message : String(error) }, changes: changes.map((change) => change.id) },
        'could not write change events to the outbox; another instance, or this one after a restart, writes them when it reads the changes again',
      );
    }
  }
}

/** A delivery source per change sender, for the delivery worker's `sources`. */
export function changeEventSources(store: Store, senders: ReadonlyMap<string, ChangeSender>, logger: DeliveryLogger): ChangeEventSource[] {
  return [...senders.values()].map((sender) => new ChangeEventSource(store, sender, logger));
}
