/**
 * What the alert router remembers between emissions: the incidents it still has business with and
 * what has been told about each, which incident each alert belongs to, the newest emission of their
 * alerts (so routing does not read an incident's alerts back from the store on every emission),
 * alerts a person detached by resolving their incident, and the flap window. The stages read and
 * update it; the router drops it whenever a transaction fails and reloads it from the store.
 */
import type { Alert } from '../../contract/alert.ts';
import type { Incident } from '../../contract/incident.ts';
import type { Repositories } from '../store/store.ts';
import { FlapWindow } from './stages/hysteresis.ts';
import { hasPaged, notifyStateFromLatest, type NotifyState } from './stages/notify.ts';

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
  /** Incidents resolved recently enough to re-open, by group key. */
  readonly flap: FlapWindow;
  private readonly incidentOfAlert = new Map<string, string>();
  private readonly latest = new Map<string, Alert>();
  /** Alerts still firing in an incident a person resolved: recorded, never routed, until they resolve. */
  private readonly detached = new Set<string>();

  constructor(flapWindowMs: number) {
    this.flap = new FlapWindow(flapWindowMs);
  }

  /** The tracked incident an alert belongs to, by id, if any. */
  incidentIdOf(alertId: string): string | undefined {
    return this.incidentOfAlert.get(alertId);
  }

  /** Notes an alert's newest routed emission. */
  remember(alert: Alert): void {
    this.latest.set(alert.id, alert);
  }

  /** Replaces a cached emission with a newer one, without caching alerts it does not hold. */
  refresh(alert: Alert): void {
    if (this.latest.has(alert.id)) this.latest.set(alert.id, alert);
  }

  /** True while an alert is detached (see `detach`). */
  isDetached(alertId: string): boolean {
    return this.detached.has(alertId);
  }

  /** A person resolved the alert's incident while it still fired: its emissions are recorded but not routed. */
  detach(alertId: string): void {
    this.detached.add(alertId);
  }

  /** The detached alert resolved: it may open a new incident the next time it fires. */
  reattach(alertId: string): void {
    this.detached.delete(alertId);
  }

  /** The newest emission of each of `ids` (in that order), from memory or else the store. */
  async alertsOf(tx: MemoryRepositories, ids: readonly string[]): Promise<Alert[]> {
    const missing = ids.filter((id) => !this.latest.has(id));
    if (missing.length) for (const alert of await tx.alerts.getMany(missing)) this.latest.set(alert.id, alert);
    return ids.flatMap((id) => this.latest.get(id) ?? []);
  }

  /** What has been told about an incident: from memory, or rebuilt from the last notification written for it. */
  async notifyStateOf(tx: MemoryRepositories, incidentId: string, now: number): Promise<NotifyState> {
    return this.tracked.get(incidentId)?.state ?? notifyStateFromLatest(await tx.outbox.latestFor(incidentId), now);
  }

  /** Keeps tracking an incident, or lets it go once its resolve is written (or was never needed). */
  settle(incident: Incident, state: NotifyState, now: number): void {
    if (this.isDone(incident, state, now)) this.untrack(incident);
    else this.track(incident, state);
  }

  /** True when a resolved incident needs nothing more: its flap window passed and no page is left to resolve. */
  isDone(incident: Incident, state: NotifyState, now: number): boolean {
    return incident.status === 'resolved' && this.flap.settled(incident.groupKey, now) && !hasPaged(state);
  }

  /** Tracks an incident with what has been told about it. */
  track(incident: Incident, state: NotifyState): void {
    this.tracked.set(incident.id, { incident, state });
    for (const alertId of incident.alertIds) this.incidentOfAlert.set(alertId, incident.id);
  }

  /** Forgets an incident and its alerts. */
  untrack(incident: Incident): void {
    this.tracked.delete(incident.id);
    this.flap.forget(incident.groupKey);
    for (const alertId of incident.alertIds) {
      this.incidentOfAlert.delete(alertId);
      this.latest.delete(alertId);
    }
  }

  /** Forgets everything (after a failed transaction, before reloading from the store). */
  clear(): void {
    this.tracked.clear();
    this.incidentOfAlert.clear();
    this.latest.clear();
    this.detached.clear();
  }

  /** Drops the cached emissions only (they may be ahead of a rolled-back transaction). */
  forgetEmissions(): void {
    this.latest.clear();
  }
}
