/**
 * The alert router: the one place where the alert stages are wired, Alertmanager-style:
 *
 *   core `alert` → persist → group (+ hysteresis) → mute → notify (outbox) → DeliveryWorker (retry)
 *
 * Alert emissions, timer ticks and people's actions are handled one at a time on a queue. An
 * emission's store writes (alert, incident, outbox rows or suppression record) commit in one
 * transaction, together with those of the emissions that waited with it (up to 50). The
 * notification decision is a reconciliation of the stored incident against what its outbox already
 * holds, so after a crash the router resumes without paging twice or losing a page.
 */
import type { ChangeEvent } from '../../contract/events.ts';
import type { Alert } from '../../contract/alert.ts';
import type { Incident } from '../../contract/incident.ts';
import type { Changewatch } from '../core.ts';
import { createError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Repositories, Store } from '../store/store.ts';
import type { NotifierConfig } from './notifiers/config.ts';
import type { IncidentsConfig, MaintenanceWindow } from './stages/config.ts';
import { groupOf, openIncident, reconcileIncident } from './stages/group.ts';
import { FlapWindow } from './stages/hysteresis.ts';
import { muteReason, type SilenceBook } from './stages/mute.ts';
import { dueNotification, notifyStateFromOutbox, writeNotification, type NotifyState } from './stages/notify.ts';
import { persistAlert, persistChange } from './stages/persist.ts';

/** Most alert emissions committed in one transaction. */
const MAX_GROUP = 50;

/** What the router needs. */
export interface AlertRouterOptions {
  store: Store;
  core: Changewatch;
  incidents: IncidentsConfig;
  notify: readonly NotifierConfig[];
  maintenance: readonly MaintenanceWindow[];
  silences: SilenceBook;
  /** Base URL of the dashboard, for links in notifications. */
  publicUrl: string;
  log: Logger;
  /** Called after notifications were committed to the outbox (wake the delivery worker). */
  onEnqueued: () => void;
  /** Called after an alert emission and its incident were committed (guarded automation looks at it here). */
  onRouted?: (alert: Alert, incident: Incident) => void;
  /** Wall clock, epoch ms (default `Date.now`). */
  now?: () => number;
  /** How often the timers (groupWait, groupInterval, repeatInterval, flap window) are checked (default 1 s). */
  tickMs?: number;
}

/** An incident the router still has business with: open, or resolved with its resolve not yet sent. */
interface TrackedIncident {
  incident: Incident;
  state: NotifyState;
}

/** Routes alert emissions into incidents and notifications; owns the incident lifecycle. */
export class AlertRouter {
  private readonly tracked = new Map<string, TrackedIncident>();
  private readonly incidentOfAlert = new Map<string, string>();
  /**
   * The newest stored emission of alerts of tracked incidents, so that routing an emission does not
   * read all of its incident's alerts back from the store (in a storm that was most of the work).
   * The router is the only writer of alerts; the cache is dropped whenever a transaction fails.
   */
  private readonly latest = new Map<string, Alert>();
  /** Alerts still firing in an incident a person resolved: ignored until they resolve. */
  private readonly detached = new Set<string>();
  private readonly flap: FlapWindow;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Alert emissions not routed yet, oldest first (see `routeWaiting`). */
  private readonly waiting: Alert[] = [];
  private routingQueued = false;
  private readonly onAlert = (alert: Alert): void => {
    this.waiting.push(alert);
    this.queueRouting();
  };
  private readonly onChange = (change: ChangeEvent): void => void this.run(() => persistChange(this.options.store, change)).catch(() => {});

  private constructor(private readonly options: AlertRouterOptions) {
    this.flap = new FlapWindow(options.incidents.flapWindowMs);
    this.now = options.now ?? Date.now;
  }

  /** Loads the incidents still in progress, subscribes to the core and starts the timers. */
  static async start(options: AlertRouterOptions): Promise<AlertRouter> {
    const router = new AlertRouter(options);
    await router.load();
    options.core.on('alert', router.onAlert);
    options.core.on('change', router.onChange);
    router.timer = setInterval(() => void router.run(() => router.tick()).catch(() => {}), options.tickMs ?? 1_000);
    router.timer.unref();
    return router;
  }

  /** Unsubscribes, stops the timers and waits for queued work. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.options.core.off('alert', this.onAlert);
    this.options.core.off('change', this.onChange);
    await this.idle();
  }

  /** Resolves once everything queued so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    // A routing step queues the next one while it runs, so wait until the queue stops growing.
    for (let queue = this.queue; ; queue = this.queue) {
      await queue.catch(() => {});
      if (queue === this.queue && this.waiting.length === 0) return;
    }
  }

  /** A person acknowledges an incident: recorded, audited, told to the pager and the dashboards. */
  acknowledge(incidentId: string, actor: string, reason = ''): Promise<Incident> {
    return this.run(() => this.applyHumanAction(incidentId, actor, reason, 'acknowledge'));
  }

  /** A person resolves an incident now (no flap window): recorded, audited, told to the pager and the dashboards. */
  resolve(incidentId: string, actor: string, reason = ''): Promise<Incident> {
    return this.run(() => this.applyHumanAction(incidentId, actor, reason, 'resolve'));
  }

  /** Runs work after everything queued before it; a failure is logged and returned to the caller only. */
  private run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch((err: unknown) => this.options.log.error({ err }, 'alert router step failed'));
    return result;
  }

  /** Tracks the open incidents and the resolved ones whose resolve has not been written yet, and remembers alerts detached by a person's resolve. */
  private async load(): Promise<void> {
    const { store, core } = this.options;
    const now = this.now();
    const open = await store.incidents.list({ status: ['firing', 'acknowledged'], limit: 1000 });
    const recentlyResolved = await store.incidents.list({ status: ['resolved'], updatedSince: new Date(now - 24 * 3_600_000).toISOString(), limit: 1000 });
    for (const incident of [...open, ...recentlyResolved]) {
      const state = notifyStateFromOutbox(await store.outbox.list({ incidentId: incident.id, limit: 1000 }), now);
      if (incident.status === 'resolved') {
        // A person resolved it while alerts still fired: they stay ignored until they resolve,
        // across restarts too, or the next emission would page again for what someone closed.
        for (const alert of await store.alerts.getMany(incident.alertIds)) if (alert.status !== 'resolved') this.detached.add(alert.id);
        if (state.lastAction !== 'trigger' && state.lastAction !== 'acknowledge') continue;
        // The flap window restarts with the process: its wall-clock start was not stored.
        this.flap.resolved(incident.groupKey, incident.id, now);
      }
      this.track(incident, state);
      if (incident.status === 'acknowledged') core.acknowledge(incident.alertIds);
    }
    if (this.tracked.size > 0) this.options.log.info({ incidents: this.tracked.size }, 'resumed incidents in progress');
  }

  /** Queues one `routeWaiting` step unless one is queued already. */
  private queueRouting(): void {
    if (this.routingQueued) return;
    this.routingQueued = true;
    void this.run(() => this.routeWaiting()).catch(() => {});
  }

  /**
   * Routes the waiting emissions, up to MAX_GROUP of them in one transaction (group commit): in an
   * alert storm every emission is a handful of sequential store round trips, and BEGIN and COMMIT
   * need not be paid for each. One step per group, so acknowledgements and timers interleave.
   */
  private async routeWaiting(): Promise<void> {
    this.routingQueued = false;
    const group = this.waiting.splice(0, MAX_GROUP);
    if (this.waiting.length) this.queueRouting();
    const announcements: Array<() => void> = [];
    try {
      await this.options.store.transaction(async (tx) => {
        for (const alert of group) {
          const announce = await this.route(tx, alert);
          if (announce) announcements.push(announce);
        }
      });
    } catch (err) {
      this.latest.clear();
      if (group.length === 1) throw err;
      // The in-memory incidents ran ahead of what was rolled back: reload them as a restart would,
      // then route the group one emission per transaction, so one bad emission costs only itself.
      this.options.log.warn({ err, emissions: group.length }, 'routing a group of alert emissions failed; routing them one by one');
      this.tracked.clear();
      this.incidentOfAlert.clear();
      this.detached.clear();
      await this.load();
      for (const alert of group) {
        try {
          const announce = await this.options.store.transaction((tx) => this.route(tx, alert));
          announce?.();
        } catch (oneErr) {
          this.options.log.error({ err: oneErr, alertId: alert.id }, 'alert router step failed');
        }
      }
      return;
    }
    for (const announce of announcements) announce();
  }

  /**
   * The persist → group → hysteresis → mute → notify chain for one alert emission, inside the
   * caller's transaction. The router's own view of its incidents is updated at once (the next
   * emission of the group needs it); what tells others (dashboards, delivery, automation) is
   * returned, to be run once the transaction committed.
   */
  private async route(tx: Repositories, alert: Alert): Promise<(() => void) | undefined> {
    if (this.detached.has(alert.id)) {
      if ((await persistAlert(tx, alert)) && this.latest.has(alert.id)) this.latest.set(alert.id, alert);
      if (alert.status === 'resolved') this.detached.delete(alert.id);
      return undefined;
    }
    const now = this.now();
    if (!(await persistAlert(tx, alert))) return undefined; // a replayed, older emission
    const found = await this.incidentFor(tx, alert, now);
    if (found === undefined) return undefined;
    const { incident: previous, isNew } = found;
    this.latest.set(alert.id, alert);
    const alerts = await this.alertsOf(tx, previous.alertIds.includes(alert.id) ? previous.alertIds : [...previous.alertIds, alert.id]);
    const incident = reconcileIncident(previous, alerts, new Date(now).toISOString());
    await tx.incidents.upsert(incident);
    if (incident.status === 'resolved' && previous.status !== 'resolved') this.flap.resolved(incident.groupKey, incident.id, now);
    if (incident.status !== 'resolved') this.flap.forget(incident.groupKey);
    const before = this.tracked.get(incident.id)?.state ?? notifyStateFromOutbox(await tx.outbox.list({ incidentId: incident.id, limit: 1000 }), now);
    const state = await this.notifyIfDue(tx, incident, alerts, before, now);
    this.settle(incident, state, now);
    return () => {
      if (state.lastSentAt !== before.lastSentAt) this.options.onEnqueued();
      this.options.onRouted?.(alert, incident);
      if (isNew || changedVisibly(previous, incident)) this.options.core.publishIncident(incident);
    };
  }

  /** The incident an alert belongs to: its current one, an open one of its group, a re-openable one, or a new one. */
  private async incidentFor(tx: Repositories, alert: Alert, now: number): Promise<{ incident: Incident; isNew: boolean } | undefined> {
    const knownId = this.incidentOfAlert.get(alert.id);
    const known = knownId === undefined ? undefined : (this.tracked.get(knownId)?.incident ?? (await tx.incidents.get(knownId)));
    if (known !== undefined) return { incident: known, isNew: false };
    if (alert.status === 'resolved') return undefined; // resolved before it was ever grouped: nothing to tell anyone
    const group = groupOf(alert, this.options.incidents);
    const open = await tx.incidents.findOpenByGroupKey(group.key);
    if (open !== undefined) return { incident: open, isNew: false };
    const reopenable = this.flap.reopenable(group.key, now);
    const flapping = reopenable === undefined ? undefined : this.tracked.get(reopenable)?.incident;
    if (flapping !== undefined) return { incident: flapping, isNew: false };
    const fresh = openIncident(alert, group, new Date(now).toISOString());
    // After a crash the same input re-creates the same id: continue that incident, do not open another.
    const stored = await tx.incidents.get(fresh.id);
    return stored === undefined ? { incident: fresh, isNew: true } : { incident: stored, isNew: false };
  }

  /** Writes the notification the incident is due, if any; returns the new notify state. */
  private async notifyIfDue(tx: Repositories, incident: Incident, alerts: readonly Alert[], state: NotifyState, now: number): Promise<NotifyState> {
    const action = dueNotification(incident, state, this.flap.settled(incident.groupKey, now), this.options.incidents, now);
    if (action === undefined) return state;
    const muted = muteReason(alerts, this.options.silences.list(), this.options.maintenance, now);
    return writeNotification(tx, this.options, action, incident, alerts, state, muted, now);
  }

  /** The timers: pages whose groupWait, groupInterval or repeatInterval passed; resolves whose flap window passed. */
  private async tick(): Promise<void> {
    const now = this.now();
    let enqueued = false;
    for (const { incident, state } of [...this.tracked.values()]) {
      const settled = this.flap.settled(incident.groupKey, now);
      if (dueNotification(incident, state, settled, this.options.incidents, now) === undefined) {
        if (incident.status === 'resolved' && settled && state.lastAction !== 'trigger' && state.lastAction !== 'acknowledge') this.untrack(incident);
        continue;
      }
      const next = await this.options.store.transaction(async (tx) => this.notifyIfDue(tx, incident, await this.alertsOf(tx, incident.alertIds), state, now));
      enqueued ||= next.lastSentAt !== state.lastSentAt;
      this.settle(incident, next, now);
    }
    if (enqueued) this.options.onEnqueued();
  }

  /** Acknowledge or resolve by a person, with the audit entry and the notification in one transaction. */
  private async applyHumanAction(incidentId: string, actor: string, reason: string, action: 'acknowledge' | 'resolve'): Promise<Incident> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const outcome = await this.options.store.transaction(async (tx) => {
      const previous = this.tracked.get(incidentId)?.incident ?? (await tx.incidents.get(incidentId));
      if (previous === undefined) throw createError('CW_NOT_FOUND', `no incident ${incidentId}`);
      if (previous.status === 'resolved') throw createError('CW_CONFLICT', `incident ${incidentId} is already resolved`);
      if (action === 'acknowledge' && previous.status === 'acknowledged') return { incident: previous, state: undefined };
      const incident: Incident =
        action === 'acknowledge'
          ? { ...previous, status: 'acknowledged', acknowledgedBy: actor, acknowledgedAt: at, updatedAt: at }
          : { ...previous, status: 'resolved', resolvedAt: at, updatedAt: at };
      await tx.incidents.upsert(incident);
      await tx.audit.append({ actor, action: `incident.${action}`, target: `incident:${incident.id}`, reason: reason || `${action}d through the API`, evidence: { incident } });
      const alerts = await this.alertsOf(tx, incident.alertIds);
      const before = this.tracked.get(incident.id)?.state ?? notifyStateFromOutbox(await tx.outbox.list({ incidentId: incident.id, limit: 1000 }), now);
      // A person's decision is final at once: no flap window before a resolve they asked for.
      const paged = before.lastAction === 'trigger' || before.lastAction === 'acknowledge';
      const due = action === 'resolve' ? (paged ? 'resolve' : undefined) : dueNotification(incident, before, true, this.options.incidents, now);
      const state = due === undefined ? before : await writeNotification(tx, this.options, due, incident, alerts, before, muteReason(alerts, this.options.silences.list(), this.options.maintenance, now), now);
      if (action === 'resolve') for (const alert of alerts) if (alert.status !== 'resolved') this.detached.add(alert.id);
      return { incident, state };
    });
    if (outcome.state === undefined) return outcome.incident;
    if (action === 'resolve') this.untrack(outcome.incident);
    else this.track(outcome.incident, outcome.state);
    this.options.onEnqueued();
    if (action === 'acknowledge') this.options.core.acknowledge(outcome.incident.alertIds);
    this.options.core.publishIncident(outcome.incident);
    return outcome.incident;
  }

  /** The newest emission of each of `ids` (in that order), from the cache or else the store. */
  private async alertsOf(tx: Repositories, ids: readonly string[]): Promise<Alert[]> {
    const missing = ids.filter((id) => !this.latest.has(id));
    if (missing.length) for (const alert of await tx.alerts.getMany(missing)) this.latest.set(alert.id, alert);
    return ids.flatMap((id) => this.latest.get(id) ?? []);
  }

  /** Keeps tracking an incident, or lets it go once its resolve is written (or was never needed). */
  private settle(incident: Incident, state: NotifyState, now: number): void {
    const done = incident.status === 'resolved' && this.flap.settled(incident.groupKey, now) && state.lastAction !== 'trigger' && state.lastAction !== 'acknowledge';
    if (done) this.untrack(incident);
    else this.track(incident, state);
  }

  private track(incident: Incident, state: NotifyState): void {
    this.tracked.set(incident.id, { incident, state });
    for (const alertId of incident.alertIds) this.incidentOfAlert.set(alertId, incident.id);
  }

  private untrack(incident: Incident): void {
    this.tracked.delete(incident.id);
    this.flap.forget(incident.groupKey);
    for (const alertId of incident.alertIds) {
      this.incidentOfAlert.delete(alertId);
      this.latest.delete(alertId);
    }
  }
}

/** Whether dashboards should hear about this incident update (not on every re-emission of a child alert). */
function changedVisibly(before: Incident, after: Incident): boolean {
  return before.status !== after.status || before.severity !== after.severity || before.alertIds.length !== after.alertIds.length;
}
