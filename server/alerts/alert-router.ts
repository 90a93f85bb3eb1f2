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
 * reconciliation of the stored incident against what its row says was last told, read under the
 * row's lock (`SELECT … FOR UPDATE`): after a crash the router resumes without paging twice or
 * losing a page, and several instances on one PostgreSQL share the decisions — whichever takes an
 * incident's lock first pages, the others then read that it was paged. Each instance also re-reads
 * the incidents in progress every few seconds, so one that died waiting out an incident's
 * groupWait or flap window leaves the wait to the others.
 */
import type { Alert } from '../../contract/alert.ts';
import type { Incident } from '../../contract/incident.ts';
import { isFromFleet, type Emission, type EmissionSink } from '../emission.ts';
import { createError } from '../errors.ts';
import { errorSummary, isClientError, type Logger } from '../log.ts';
import type { Repositories, Store } from '../store/store.ts';
import { IncidentMemory } from './incident-memory.ts';
import { flapSettled, withResolution } from './notify-state.ts';
import type { NotifierConfig } from './notifiers/config.ts';
import type { IncidentsConfig, MaintenanceWindow } from './stages/config.ts';
import { dedupStage, type EmissionStep } from './stages/dedup.ts';
import { groupStage, type GroupedStep } from './stages/group.ts';
import { muteStage, type SilenceBook } from './stages/mute.ts';
import { dueNotification, notifyStage, type IncidentStep } from './stages/notify.ts';
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

/**
 * Default interval between re-reads of the incidents in progress. Another instance's incident (it
 * died, or it routed an alert this one now owns) is picked up within this: 5 s keeps a page whose
 * owner died well inside the 30 s a killed instance's partitions take to move, at one small query.
 */
export const SYNC_EVERY_MS = 5_000;

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
  /** How often the incidents in progress are re-read from the store (default {@link SYNC_EVERY_MS}; real time, not `now`). */
  syncEveryMs?: number;
}

/** Routes alert emissions into incidents and notifications; owns the incident lifecycle. */
export class AlertRouter implements EmissionSink {
  /** Names this sink in logs. */
  readonly name = 'alert-router';
  private readonly memory: IncidentMemory;
  /** What happens to one alert emission. */
  private readonly routeEmission: Stage<EmissionStep, GroupedStep>;
  /** What happens to an incident on a timer tick (written only when something was told). */
  private readonly notifyIncident: Stage<IncidentStep>;
  /** What happens to an incident a person acknowledged or resolved (always written). */
  private readonly decideByPerson: Stage<IncidentStep>;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Alert emissions not routed yet, oldest first (see `routeWaiting`). */
  private readonly waiting: Alert[] = [];
  private routingQueued = false;
  /** `performance.now()` of the last re-read of the incidents in progress. */
  private syncedAt = 0;

  private constructor(private readonly options: AlertRouterOptions) {
    this.memory = new IncidentMemory(options.incidents.flapWindowMs);
    this.now = options.now ?? Date.now;
    const mutes = { silences: options.silences, maintenance: options.maintenance };
    const target = { notify: options.notify, publicUrl: options.publicUrl, incidents: options.incidents };
    this.routeEmission = chain(dedupStage(), groupStage(this.memory, options.incidents), muteStage<GroupedStep>(mutes), notifyStage<GroupedStep>(target), persistStage<GroupedStep>());
    this.notifyIncident = chain(muteStage<IncidentStep>(mutes), notifyStage<IncidentStep>(target), persistStage<IncidentStep>({ skipUnchanged: true }));
    this.decideByPerson = chain(muteStage<IncidentStep>(mutes), notifyStage<IncidentStep>(target), persistStage<IncidentStep>());
  }

  /** Loads the incidents still in progress and starts the timers; register it as a sink of the core to feed it. */
  static async start(options: AlertRouterOptions): Promise<AlertRouter> {
    const router = new AlertRouter(options);
    await router.sync();
    if (router.memory.tracked.size > 0) options.log.info({ incidents: router.memory.tracked.size }, 'resumed incidents in progress');
    router.timer = setInterval(() => void router.run(() => router.tick()).catch(() => {}), options.tickMs ?? 1_000);
    router.timer.unref();
    return router;
  }

  /** The sink: alert emissions are queued for routing, changes stored. Incidents it emitted itself, and other instances' emissions, are ignored. */
  accept(emission: Emission): void {
    // Another instance's emissions were routed by that instance (the decisions are shared through the store).
    if (isFromFleet(emission)) return;
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

  /**
   * Re-reads the incidents in progress from the store, which is the authority: the open ones and the
   * resolved ones whose resolve is not written yet, whichever instance routed them. Incidents a
   * person acknowledged (here or on another instance) are told to the core, so their alerts' next
   * emissions say so.
   */
  private async sync(): Promise<void> {
    const { store, ports } = this.options;
    const now = this.now();
    this.syncedAt = performance.now();
    const inProgress = new Set<string>();
    const resolvedSince = new Date(now - RESUME_RESOLVED_WITHIN_MS).toISOString();
    for (const stored of await store.incidents.listInProgress(resolvedSince, now - this.options.incidents.flapWindowMs + 1)) {
      const { incident } = stored;
      const state = await this.memory.notifyStateOf(store, stored, now);
      if (this.memory.isDone(incident, state, now)) continue;
      inProgress.add(incident.id);
      const known = this.memory.tracked.get(incident.id);
      this.memory.track(incident, state);
      if (incident.status === 'acknowledged' && known?.incident.status !== 'acknowledged') ports.acknowledge(incident.alertIds);
    }
    for (const { incident } of [...this.memory.tracked.values()]) if (!inProgress.has(incident.id)) this.memory.untrack(incident);
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
      await this.sync();
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
      // A person acknowledged the incident (perhaps on another instance): the alert's next emissions say so.
      if (incident.status === 'acknowledged' && alert.status === 'firing') this.options.ports.acknowledge([alert.id]);
      this.options.onRouted?.(alert, incident);
      if (isNew || changedVisibly(previous, incident)) this.options.ports.publishIncident(incident);
    };
  }

  /**
   * The timers: pages whose groupWait, groupInterval or repeatInterval passed; resolves whose flap
   * window passed. What is due is first judged from memory (on most ticks nothing is, and no query
   * runs), then judged again from the row under its lock: another instance may have sent it already,
   * or hold the row right now (then it is skipped this tick).
   */
  private async tick(): Promise<void> {
    if (performance.now() - this.syncedAt >= (this.options.syncEveryMs ?? SYNC_EVERY_MS)) await this.sync();
    const now = this.now();
    const { flapWindowMs } = this.options.incidents;
    let enqueued = false;
    for (const { incident, state } of [...this.memory.tracked.values()]) {
      if (dueNotification(incident, state, flapSettled(state, flapWindowMs, now), this.options.incidents, now) === undefined) {
        if (this.memory.isDone(incident, state, now)) this.memory.untrack(incident);
        continue;
      }
      const step = await this.options.store.transaction(async (tx) => {
        const locked = await tx.incidents.lock(incident.id, { skipLocked: true });
        if (locked === undefined) return undefined;
        const before = await this.memory.notifyStateOf(tx, locked, now);
        const alerts = await this.memory.alertsOf(tx, locked.incident.alertIds);
        return this.notifyIncident.run({ tx, now, incident: locked.incident, alerts, settled: flapSettled(before, flapWindowMs, now), before, state: before });
      });
      if (step === undefined) continue;
      enqueued ||= step.state.lastSentAt !== step.before.lastSentAt;
      this.memory.settle(step.incident, step.state, now);
    }
    if (enqueued) this.options.onEnqueued();
  }

  /** Acknowledge or resolve by a person, with the audit entry and the notification in one transaction. */
  private async applyHumanAction(incidentId: string, actor: string, reason: string, action: 'acknowledge' | 'resolve'): Promise<Incident> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const outcome = await this.options.store.transaction(async (tx) => {
      const stored = await tx.incidents.lock(incidentId);
      if (stored === undefined) throw createError('CW_NOT_FOUND', `no incident ${incidentId}`);
      const previous = stored.incident;
      if (previous.status === 'resolved') {
        // Who resolved it: the person whose audit entry says so, else changewatch (its alerts all resolved).
        const [byPerson] = await tx.audit.list({ action: 'incident.resolve', target: `incident:${incidentId}`, limit: 1 });
        const decidedBy = byPerson?.actor ?? 'changewatch';
        const decidedAt = byPerson?.at ?? previous.resolvedAt ?? previous.updatedAt;
        // Resolving again what you resolved is a retry, answered with the incident as it stands.
        if (action === 'resolve' && byPerson?.actor === actor) return { incident: previous, state: undefined };
        const who = decidedBy === actor ? 'you' : decidedBy === 'changewatch' ? 'changewatch (all its alerts resolved)' : decidedBy;
        throw createError('CW_CONFLICT', `incident ${incidentId} is already resolved: ${who} resolved it at ${decidedAt}`, { decidedBy, decidedAt, decision: 'resolved' });
      }
      if (action === 'acknowledge' && previous.status === 'acknowledged') return { incident: previous, state: undefined };
      const incident: Incident =
        action === 'acknowledge'
          ? { ...previous, status: 'acknowledged', acknowledgedBy: actor, acknowledgedAt: at, updatedAt: at }
          : { ...previous, status: 'resolved', resolvedAt: at, updatedAt: at };
      await tx.audit.append({ actor, action: `incident.${action}`, target: `incident:${incident.id}`, reason: reason || `${action}d through the API`, evidence: { incident } });
      const alerts = await this.memory.alertsOf(tx, incident.alertIds);
      let before = await this.memory.notifyStateOf(tx, stored, now);
      if (action === 'resolve') {
        // Final at once: no flap window (nothing re-opens it), and its alerts that still fire are
        // recorded but not routed until they resolve, on whichever instance emits them.
        const stillFiring = alerts.filter((alert) => alert.status !== 'resolved').map((alert) => alert.id);
        before = { ...withResolution(before, false, now), ...(stillFiring.length ? { detached: stillFiring } : {}) };
      }
      const step = await this.decideByPerson.run({ tx, now, incident, alerts, settled: true, before, state: before, resolvedByPerson: action === 'resolve' });
      return { incident, state: step?.state ?? before };
    });
    if (outcome.state === undefined) return outcome.incident;
    this.memory.settle(outcome.incident, outcome.state, now);
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
