/**
 * What the alert router keeps in memory between emissions: a cache, never the authority. The
 * incidents it has business with (open, or resolved with a resolve still to send) and what has been
 * told about each are on their rows in the shared store; the router keeps a copy to know, on each
 * timer tick, which incidents may be due without a query, and re-reads the row under its lock before
 * it acts. It also caches the newest emission of their alerts, checked against the store's
 * `updatedAt` before use, so routing does not read an incident's alerts back on every emission.
 * The router drops it whenever a transaction fails and reloads it from the store.
 */
import type { Alert } from '../../contract/alert.ts';
import type { Incident } from '../../contract/incident.ts';
import type { StoredIncident } from '../store/repositories/incidents.ts';
import type { Repositories } from '../store/store.ts';
import { isDone, type NotifyState } from './notify-state.ts';
import { notifyStateFromLatest } from './stages/notify.ts';

/** An incident the router still has business with: open, or resolved with its resolve not yet sent. */
export interface TrackedIncident {
  incident: Incident;
  state: NotifyState;
}

/** The store reads the memory falls back on. */
export type MemoryRepositories = Pick<Repositories, 'alerts' | 'outbox'>;

/** The alert router's working memory. */
export class IncidentMemory {
  /** Tracked incidents by id, in the order they were first tracked. */
  readonly tracked = new Map<string, TrackedIncident>();
  private readonly latest = new Map<string, Alert>();

  constructor(readonly flapWindowMs: number) {}

  /** Notes an alert's newest emission (just stored by this router). */
  remember(alert: Alert): void {
    this.latest.set(alert.id, alert);
  }

  /**
   * The newest emission of each of `ids` (in that order): from memory when the store holds no newer
   * one (another instance may have routed one since), else from the store.
   */
  async alertsOf(tx: MemoryRepositories, ids: readonly string[], fresh?: Alert): Promise<Alert[]> {
    if (fresh !== undefined) this.remember(fresh);
    const cached = ids.filter((id) => this.latest.has(id) && id !== fresh?.id);
    if (cached.length) {
      const stored = await tx.alerts.updatedAtOf(cached);
      for (const id of cached) {
        const at = stored.get(id);
        if (at !== undefined && Date.parse(at) > Date.parse(this.latest.get(id)!.updatedAt)) this.latest.delete(id);
      }
    }
    const missing = ids.filter((id) => !this.latest.has(id));
    if (missing.length) for (const alert of await tx.alerts.getMany(missing)) this.latest.set(alert.id, alert);
    return ids.flatMap((id) => this.latest.get(id) ?? []);
  }

  /** What has been told about a stored incident: its row's state, or (rows from before it was stored) rebuilt from its last notification. */
  async notifyStateOf(tx: MemoryRepositories, stored: StoredIncident, now: number): Promise<NotifyState> {
    return stored.notify ?? notifyStateFromLatest(await tx.outbox.latestFor(stored.incident.id), now);
  }

  /** Keeps tracking an incident, or lets it go once its resolve is written (or was never needed). */
  settle(incident: Incident, state: NotifyState, now: number): void {
    if (this.isDone(incident, state, now)) this.untrack(incident);
    else this.track(incident, state);
  }

  /** True when a resolved incident needs nothing more: its flap window passed and no page is left to resolve. */
  isDone(incident: Incident, state: NotifyState, now: number): boolean {
    return isDone(incident.status, state, this.flapWindowMs, now);
  }

  /** Tracks an incident with what has been told about it. */
  track(incident: Incident, state: NotifyState): void {
    this.tracked.set(incident.id, { incident, state });
  }

  /** Forgets an incident and its alerts' cached emissions. */
  untrack(incident: Incident): void {
    this.tracked.delete(incident.id);
    for (const alertId of incident.alertIds) this.latest.delete(alertId);
  }

  /** Forgets everything (after a failed transaction, before reloading from the store). */
  clear(): void {
    this.tracked.clear();
    this.latest.clear();
  }

  /** Drops the cached emissions only (they may be ahead of a rolled-back transaction). */
  forgetEmissions(): void {
    this.latest.clear();
  }
}
