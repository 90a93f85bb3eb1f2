/**
 * The alert router: the one place where the alert stages are wired, Alertmanager-style:
 *
 *   alert emission → dedup → group (+ hysteresis) → mute → notify (outbox) → persist
 *   timer tick, person's acknowledge/resolve   →   mute → notify (outbox)
 *   outbox → DeliveryWorker (the retry stage: backoff, circuit breaker)
 *
 * The router is a sink of the core's emissions (server/emission.ts) and talks back through two
 * narrow ports (acknowledge alerts, publish an incident), never to the core itself. Emissions,
 * timer ticks and people's actions are handled one at a time on a queue. An emission's store
 * writes (alert, incident, outbox rows or suppression record) commit in one transaction, together
 * with those of the emissions that waited with it (up to 50). The notification decision is a
 * reconciliation of the stored incident against the last notification written for it, so after a
 * crash the router resumes without paging twice or losing a page.
 */
import type { Alert } from '../../contract/alert.ts';
import type { Incident } from '../../contract/incident.ts';
import type { Emission, EmissionSink } from '../emission.ts';
import { createError } from '../errors.ts';
import { errorSummary, isClientError, type Logger } from '../log.ts';
import type { Repositories, Store } from '../store/store.ts';
import { IncidentMemory } from './incident-memory.ts';
import type { NotifierConfig } from './notifiers/config.ts';
import type { IncidentsConfig, MaintenanceWindow } from './stages/config.ts';
import { dedupStage, type EmissionStep } from './stages/dedup.ts';
import { groupStage, type GroupedStep } from './stages/group.ts';
import { muteStage, type SilenceBook } from './stages/mute.ts';
import { dueNotification, hasPaged, notifyStage, type IncidentStep } from './stages/notify.ts';
import { persistChange, persistStage } from './stages/persist.ts';
import { chain, type Stage } from './stages/stage.ts';

/** Most alert emissions committed in one transaction. */
const MAX_GROUP = 50;

/**
 * How far back a resolved incident may still have a resolve to send when the router starts: a
 * process down for longer than a day comes back to pagers whose own incidents were long closed by
 * hand, so a resolve older than that would only add noise; within it, the pager still shows the page.
 */
const RESUME_RESOLVED_WITHIN_MS = 24 * 3_600_000;

/** What the router tells the rest of the service (the core implements both). */
export interface RouterPorts {
  /** A person acknowledged these alerts' incident: their emissions say `acknowledged` from now on. */
  acknowledge(alertIds: readonly string[]): void;
  /** An incident was opened or changed visibly: dashboards and any feed should hear of it. */
  publishIncident(incident: Incident): void;
}

/** The parts of the store the router uses. */
export type RouterStore = Pick<Store, 'transaction' | 'incidents' | 'alerts' | 'outbox' | 'changes'>;

/** What the router needs. */
export interface AlertRouterOptions {
  store: RouterStore;
  ports: RouterPorts;
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

/** Routes alert emissions into incidents and notifications; owns the incident lifecycle. */
export class AlertRouter implements EmissionSink {
  /** Names this sink in logs. */
  readonly name = 'alert-router';
  private readonly memory: IncidentMemory;
  /** What happens to one alert emission. */
  private readonly routeEmission: Stage<EmissionStep, GroupedStep>;
  /** What happens to an incident on a timer tick or a person's action. */
  private readonly notifyIncident: Stage<IncidentStep>;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Alert emissions not routed yet, oldest first (see `routeWaiting`). */
  private readonly waiting: Alert[] = [];
  private routingQueued = false;

  private constructor(private readonly options: AlertRouterOptions) {
    this.memory = new IncidentMemory(options.incidents.flapWindowMs);
    this.now = options.now ?? Date.now;
    const mutes = { silences: options.silences, maintenance: options.maintenance };
    const target = { notify: options.notify, publicUrl: options.publicUrl, incidents: options.incidents };
    this.routeEmission = chain(dedupStage(this.memory), groupStage(this.memory, options.incidents), muteStage<GroupedStep>(mutes), notifyStage<GroupedStep>(target), persistStage<GroupedStep>());
    this.notifyIncident = chain(muteStage<IncidentStep>(mutes), notifyStage<IncidentStep>(target));
  }

  /** Loads the incidents still in progress and starts the timers; register it as a sink of the core to feed it. */
  static async start(options: AlertRouterOptions): Promise<AlertRouter> {
    const router = new AlertRouter(options);
    await router.load();
    router.timer = setInterval(() => void router.run(() => router.tick()).catch(() => {}), options.tickMs ?? 1_000);
    router.timer.unref();
    return router;
  }

  /** The sink: alert emissions are queued for routing, changes stored. Incidents it emitted itself are ignored. */
  accept(emission: Emission): void {
    for (const change of emission.changes) void this.run(() => persistChange(this.options.store, change)).catch(() => {});
    if (emission.alerts.length === 0) return;
    this.waiting.push(...emission.alerts);
    this.queueRouting();
  }

  /** Stops the timers and waits for queued work (remove it from the core's sinks first). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
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

  /**
   * Runs work after everything queued before it; a failure is logged and returned to the caller only.
   * A client error (an acknowledge of an unknown incident, a resolve of a resolved one) is the
   * caller's to report: it is logged at info with its code and message, without a stack.
   */
  private run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch((err: unknown) => {
      if (isClientError(err)) this.options.log.info(errorSummary(err), 'alert router refused a request');
      else this.options.log.error({ err }, 'alert router step failed');
    });
    return result;
  }

  /** Tracks the open incidents and the resolved ones whose resolve has not been written yet, and remembers alerts detached by a person's resolve. */
  private async load(): Promise<void> {
    const { store, ports } = this.options;
    const now = this.now();
    for (const incident of await store.incidents.listInProgress(new Date(now - RESUME_RESOLVED_WITHIN_MS).toISOString())) {
      const state = await this.memory.notifyStateOf(store, incident.id, now);
      if (incident.status === 'resolved') {
        // A person resolved it while alerts still fired: they stay ignored until they resolve,
        // across restarts too, or the next emission would page again for what someone closed.
        for (const alert of await store.alerts.getMany(incident.alertIds)) if (alert.status !== 'resolved') this.memory.detach(alert.id);
        if (!hasPaged(state)) continue;
        // The flap window restarts with the process: its wall-clock start was not stored.
        this.memory.flap.resolved(incident.groupKey, incident.id, now);
      }
      this.memory.track(incident, state);
      if (incident.status === 'acknowledged') ports.acknowledge(incident.alertIds);
    }
    if (this.memory.tracked.size > 0) this.options.log.info({ incidents: this.memory.tracked.size }, 'resumed incidents in progress');
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
      this.memory.forgetEmissions();
      if (group.length === 1) throw err;
      // The in-memory incidents ran ahead of what was rolled back: reload them as a restart would,
      // then route the group one emission per transaction, so one bad emission costs only itself.
      this.options.log.warn({ err, emissions: group.length }, 'routing a group of alert emissions failed; routing them one by one');
      this.memory.clear();
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
   * Runs one alert emission through the stages, inside the caller's transaction. The router's own
   * memory of its incidents is updated at once (the next emission of the group needs it); what
   * tells others (dashboards, delivery, automation) is returned, to be run once the transaction
   * committed.
   */
  private async route(tx: Repositories, alert: Alert): Promise<(() => void) | undefined> {
    const now = this.now();
    const step = await this.routeEmission.run({ tx, now, alert });
    if (step === undefined) return undefined;
    const { incident, previous, isNew, before, state } = step;
    this.memory.settle(incident, state, now);
    return () => {
      if (state.lastSentAt !== before.lastSentAt) this.options.onEnqueued();
      this.options.onRouted?.(alert, incident);
      if (isNew || changedVisibly(previous, incident)) this.options.ports.publishIncident(incident);
    };
  }

  /** The timers: pages whose groupWait, groupInterval or repeatInterval passed; resolves whose flap window passed. */
  private async tick(): Promise<void> {
    const now = this.now();
    let enqueued = false;
    for (const { incident, state } of [...this.memory.tracked.values()]) {
      const settled = this.memory.flap.settled(incident.groupKey, now);
      // Checked before opening a transaction: on most ticks nothing is due.
      if (dueNotification(incident, state, settled, this.options.incidents, now) === undefined) {
        if (this.memory.isDone(incident, state, now)) this.memory.untrack(incident);
        continue;
      }
      const step = await this.options.store.transaction(async (tx) =>
        this.notifyIncident.run({ tx, now, incident, alerts: await this.memory.alertsOf(tx, incident.alertIds), settled, before: state, state }),
      );
      const next = step?.state ?? state;
      enqueued ||= next.lastSentAt !== state.lastSentAt;
      this.memory.settle(incident, next, now);
    }
    if (enqueued) this.options.onEnqueued();
  }

  /** Acknowledge or resolve by a person, with the audit entry and the notification in one transaction. */
  private async applyHumanAction(incidentId: string, actor: string, reason: string, action: 'acknowledge' | 'resolve'): Promise<Incident> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const outcome = await this.options.store.transaction(async (tx) => {
      const previous = this.memory.tracked.get(incidentId)?.incident ?? (await tx.incidents.get(incidentId));
      if (previous === undefined) throw createError('CW_NOT_FOUND', `no incident ${incidentId}`);
      if (previous.status === 'resolved') throw createError('CW_CONFLICT', `incident ${incidentId} is already resolved`);
      if (action === 'acknowledge' && previous.status === 'acknowledged') return { incident: previous, state: undefined };
      const incident: Incident =
        action === 'acknowledge'
          ? { ...previous, status: 'acknowledged', acknowledgedBy: actor, acknowledgedAt: at, updatedAt: at }
          : { ...previous, status: 'resolved', resolvedAt: at, updatedAt: at };
      await tx.incidents.upsert(incident);
      await tx.audit.append({ actor, action: `incident.${action}`, target: `incident:${incident.id}`, reason: reason || `${action}d through the API`, evidence: { incident } });
      const alerts = await this.memory.alertsOf(tx, incident.alertIds);
      const before = await this.memory.notifyStateOf(tx, incident.id, now);
      // A person's decision is final at once: no flap window before a resolve they asked for.
      const step = await this.notifyIncident.run({ tx, now, incident, alerts, settled: true, before, state: before, resolvedByPerson: action === 'resolve' });
      if (action === 'resolve') for (const alert of alerts) if (alert.status !== 'resolved') this.memory.detach(alert.id);
      return { incident, state: step?.state ?? before };
    });
    if (outcome.state === undefined) return outcome.incident;
    if (action === 'resolve') this.memory.untrack(outcome.incident);
    else this.memory.track(outcome.incident, outcome.state);
    this.options.onEnqueued();
    if (action === 'acknowledge') this.options.ports.acknowledge(outcome.incident.alertIds);
    this.options.ports.publishIncident(outcome.incident);
    return outcome.incident;
  }
}

/** Whether dashboards should hear about this incident update (not on every re-emission of a child alert). */
function changedVisibly(before: Incident, after: Incident): boolean {
  return before.status !== after.status || before.severity !== after.severity || before.alertIds.length !== after.alertIds.length;
}
