/**
 * Guarded automation, wired: every committed alert emission that names suspects is offered to the
 * freeze service and the rollback policy (one at a time, off the detection path), the delivery
 * worker is woken when a rollback is approved, stale approvals are expired on a timer, and whoever
 * watches (the dashboards) is told when the picture changed.
 *
 * A decision not taken yet (a suppressed rollback, no freeze warranted) is looked at again on a
 * wall-clock timer while its alert is open, so it does not wait for the alert's next emission, which
 * an idle stream never brings: when attribution has re-ranked the alert since its last emission (a
 * change too small to emit, such as a confidence crossing minConfidence), when a suppression can lift
 * with time alone (kill switch, rate limits, cooldown), or when the last evaluation failed. Nothing is
 * re-evaluated for an incident that resolved, or that a person resolved while its alerts fired.
 *
 * Silences and maintenance windows mute notifications only: a rollback still needs its guardrails
 * and (unless `automatic`) a human, and the kill switch is the one control that stops it.
 */
import type { Alert } from '../../contract/alert.ts';
import type { AutomationSnapshot, RollbackView } from '../../contract/automation.ts';
import type { Incident } from '../../contract/incident.ts';
import type { DeliveryWorker } from '../alerts/delivery/worker.ts';
import type { Logger } from '../log.ts';
import type { RollbackRecord } from '../store/repositories/actions.ts';
import type { FreezeService } from './freeze.ts';
import type { KillSwitch } from './kill-switch.ts';
import { decideRollback, topSuspect, type RollbackCandidate, type RollbackConfig } from './rollback-policy.ts';
import type { RollbackService } from './rollback-service.ts';
import { toRollbackView } from './rollback-view.ts';

/** What the automation stage needs. */
export interface AutomationOptions {
  rollbacks: RollbackService;
  /** The worker that sends approved rollbacks (from `rollbacks.delivery`); woken after each approval. */
  delivery: Pick<DeliveryWorker, 'wake'>;
  freezes: FreezeService;
  killSwitch: KillSwitch;
  rollbackConfig: RollbackConfig;
  log: Logger;
  /** Called with a fresh snapshot whenever rollbacks, freezes or the kill switch changed. */
  onChange?: (snapshot: AutomationSnapshot) => void;
  /** How often pending rollbacks past their deadline are expired (default 15 s). */
  expireEveryMs?: number;
  /** How often decisions not taken yet are looked at again (default {@link REEVALUATE_EVERY_MS}). */
  reevaluateEveryMs?: number;
  /**
   * The alerts the pipeline holds open now, suspects as attribution last ranked them: newer than their
   * last emission when a re-ranking was too small to emit. Without it, only emitted suspects are used.
   */
  openAlerts?: () => Iterable<Alert>;
}

/** How many decided rollbacks the snapshot carries besides the open ones. */
const RECENT_DECIDED = 20;

/**
 * Default wall-clock interval between looks at decisions not taken yet. A rollback must reach the CD
 * system within 30 s of its evidence: waiting at most 5 s keeps that bound with room for a slow
 * transaction and a retried delivery attempt, and a look at an unchanged alert is an in-memory
 * comparison, so looking this often costs nothing while nothing changed.
 */
export const REEVALUATE_EVERY_MS = 5_000;

/** An alert routed to automation, and which of its decisions to (re)take. */
interface Offer {
  candidate: RollbackCandidate;
  freeze: boolean;
  rollback: boolean;
  /** Offered by the timer rather than an emission: only while its incident is open. */
  timed: boolean;
}

/** An open alert with a decision not taken yet, as it was last evaluated. */
interface Watch {
  /** The alert and incident of its latest routed emission. */
  candidate: RollbackCandidate;
  /** `evidenceOf` the suspects last evaluated; empty after a failed evaluation, so the next look retries. */
  evaluated: string;
  /** No freeze was warranted. */
  freezeOpen: boolean;
  /** The rollback decision was a suppression. */
  rollbackOpen: boolean;
  /** That suppression would lift with time alone (kill switch, rate limits or cooldown): look again on every tick. */
  lifts: boolean;
}

/** Runs freezes and rollbacks for routed alerts, wakes their delivery and expires stale proposals. */
export class Automation {
  private readonly options: AutomationOptions;
  /** The latest offer per alert not yet evaluated: a burst of updates collapses into one evaluation. */
  private readonly waiting = new Map<string, Offer>();
  /** Open alerts whose freeze or rollback decision is not taken yet, by alert id. */
  private readonly watching = new Map<string, Watch>();
  private draining: Promise<void> | undefined;
  private expireTimer: NodeJS.Timeout | undefined;
  private reevaluateTimer: NodeJS.Timeout | undefined;
  private readonly stopListening: () => void;
  private lastPublished = '';
  /** The publish in progress: publishes run one after another, so an older snapshot never lands after a newer one. */
  private publishing: Promise<void> = Promise.resolve();
  /** Set by `stop()`: no new candidates. */
  private closing = false;
  /** Set once `stop()` finished: nothing more is published or logged. */
  private stopped = false;

  constructor(options: AutomationOptions) {
    this.options = options;
    // A rollback executed, failed or cancelled by the delivery worker changes the picture.
    this.stopListening = options.rollbacks.delivery.onSettled(() => void this.guard('publish', () => this.publish()));
  }

  /** Starts the expiry and re-evaluation timers. */
  start(): void {
    this.expireTimer = setInterval(() => void this.guard('expire', () => this.expire()), this.options.expireEveryMs ?? 15_000);
    this.expireTimer.unref();
    this.reevaluateTimer = setInterval(() => void this.guard('reevaluate', () => this.reevaluate()), this.options.reevaluateEveryMs ?? REEVALUATE_EVERY_MS);
    this.reevaluateTimer.unref();
  }

  /**
   * Offers a committed alert emission to the freeze and rollback policies (asynchronously, in order).
   * An acknowledged alert is offered too: a person looking at it is no reason to stop its guarded
   * rollback (the kill switch is). A resolved one ends the alert's re-evaluation.
   */
  consider(alert: Alert, incident: Incident): void {
    if (this.closing) return;
    if (alert.status === 'resolved' || alert.suspects.length === 0) {
      this.watching.delete(alert.id);
      return;
    }
    const candidate = { alertId: alert.id, incidentId: incident.id, service: alert.service, environment: alert.environment, suspects: alert.suspects };
    this.waiting.set(alert.id, { candidate, freeze: true, rollback: true, timed: false });
    this.schedule();
  }

  /**
   * After a person acted through the API: wakes the delivery worker, which sends what is now
   * approved (or cancels it when the kill switch went on) without waiting for its poll, and
   * publishes a fresh snapshot if anything changed.
   */
  changed(): void {
    this.options.delivery.wake();
    void this.guard('publish', () => this.publish());
  }

  /** Everything the dashboard's automation panel shows. */
  async snapshot(): Promise<AutomationSnapshot> {
    const { rollbacks, freezes, killSwitch, rollbackConfig } = this.options;
    const [open, recent, active, kill] = await Promise.all([
      // Everything someone may have to act on is listed whole; decided ones are a recent window.
      rollbacks.listOpen(),
      rollbacks.list({ status: ['denied', 'expired', 'suppressed', 'dry_run', 'executed', 'failed'], limit: RECENT_DECIDED * 5 }),
      freezes.active(),
      killSwitch.state(),
    ]);
    const byDeadline = open.map(toRollbackView).sort((a, b) => deadline(a).localeCompare(deadline(b)));
    // A suppression of a suspect nobody would roll back anyway (below minConfidence) is in the audit
    // log; the panel shows decisions and near misses, which is what someone on call needs to see.
    const worthShowing = recent.map(toRollbackView).filter((view) => view.status !== 'suppressed' || (view.confidence ?? 0) >= rollbackConfig.when.minConfidence);
    return {
      mode: rollbackConfig.mode,
      canExecute: rollbackConfig.webhook !== undefined,
      killSwitch: kill,
      rollbacks: [...byDeadline, ...worthShowing.slice(0, RECENT_DECIDED)],
      freezes: active,
    };
  }

  /** Resolves once no offer is waiting or being evaluated. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stops the timers, refuses new candidates, and finishes evaluating the ones already waiting. */
  async stop(): Promise<void> {
    this.closing = true;
    clearInterval(this.expireTimer);
    clearInterval(this.reevaluateTimer);
    this.stopListening();
    await this.idle();
    this.stopped = true;
  }

  /** Starts evaluating the waiting offers unless that is under way. */
  private schedule(): void {
    if (this.draining || this.waiting.size === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // An offer made while the last snapshot was being published found this drain still running:
      // it is evaluated now, not whenever the next emission or tick comes.
      this.schedule();
    });
  }

  /** Evaluates waiting offers one at a time, oldest alert first, then publishes the snapshot. */
  private async drain(): Promise<void> {
    for (let next = this.waiting.entries().next(); !next.done; next = this.waiting.entries().next()) {
      const [alertId, offer] = next.value;
      this.waiting.delete(alertId);
      await this.evaluate(alertId, offer);
    }
    await this.guard('publish', () => this.publish());
  }

  /** Takes the offered decisions and remembers the alert while one of them is not taken. */
  private async evaluate(alertId: string, offer: Offer): Promise<void> {
    const { candidate } = offer;
    const { freezes, rollbacks } = this.options;
    let open = true;
    let frozen = false;
    let decision: RollbackRecord | undefined;
    const evaluated = await this.guard('evaluate', async () => {
      if (offer.timed && !(await rollbacks.incidentOpen(candidate))) {
        open = false;
        return;
      }
      if (offer.freeze) frozen = (await freezes.considerIncident(candidate)) !== undefined;
      if (offer.rollback) {
        decision = await rollbacks.evaluate(candidate);
        if (decision?.status === 'approved') this.options.delivery.wake();
      }
    });
    const previous = this.watching.get(alertId);
    if (!open || this.closing) {
      this.watching.delete(alertId);
      return;
    }
    if (!evaluated) {
      // The store was briefly unavailable, say: both decisions offered are tried again at the next look.
      const freezeOpen = offer.freeze || (previous?.freezeOpen ?? false);
      const rollbackOpen = offer.rollback || (previous?.rollbackOpen ?? false);
      this.watching.set(alertId, { candidate, evaluated: '', freezeOpen, rollbackOpen, lifts: previous?.lifts ?? false });
      return;
    }
    const freezeOpen = offer.freeze ? !frozen : (previous?.freezeOpen ?? false);
    const rollbackOpen = offer.rollback ? undecided(decision) : (previous?.rollbackOpen ?? false);
    if (!freezeOpen && !rollbackOpen) {
      this.watching.delete(alertId);
      return;
    }
    this.watching.set(alertId, { candidate, evaluated: evidenceOf(candidate), freezeOpen, rollbackOpen, lifts: rollbackOpen && this.liftsWithTime(candidate) });
  }

  /**
   * One look at the watched alerts: each whose evidence changed since it was evaluated (with the
   * pipeline's current suspects when they still name the same top change), or whose suppression may
   * have lifted, is offered again; one the pipeline no longer holds open is forgotten.
   */
  private async reevaluate(): Promise<void> {
    if (this.closing || this.watching.size === 0) return;
    const live = this.options.openAlerts && new Map([...this.options.openAlerts()].map((alert) => [alert.id, alert] as const));
    // A suppression that only time can lift is not retried while the kill switch is on: the switch
    // holds it whatever else changed (one read per look, and only when something waits for it).
    const retryLifting = [...this.watching.values()].some((watch) => watch.lifts) && !(await this.options.killSwitch.state()).engaged;
    for (const [alertId, watch] of this.watching) {
      let candidate = watch.candidate;
      if (live) {
        const current = live.get(alertId);
        if (current === undefined || current.status === 'resolved') {
          this.watching.delete(alertId);
          continue;
        }
        if (topSuspect(current.suspects)?.changeId === topSuspect(candidate.suspects)?.changeId) candidate = { ...candidate, suspects: [...current.suspects] };
      }
      const changed = evidenceOf(candidate) !== watch.evaluated;
      const freeze = watch.freezeOpen && changed;
      const rollback = watch.rollbackOpen && (changed || (watch.lifts && retryLifting));
      // An emission's offer already waiting is at least as new as the watch; the next look compares again.
      if ((freeze || rollback) && !this.waiting.has(alertId)) this.waiting.set(alertId, { candidate, freeze, rollback, timed: true });
    }
    this.schedule();
  }

  /** True when the candidate's rollback is suppressed only by state that changes with time (kill switch, rate limits, cooldown). */
  private liftsWithTime(candidate: RollbackCandidate): boolean {
    const unhindered = { now: Date.now(), killSwitch: { engaged: false }, takenFleetLastHour: 0, takenServiceLastHour: 0 };
    return decideRollback(candidate, this.options.rollbackConfig, unhindered).outcome !== 'suppressed';
  }

  /** Expires stale proposals and publishes when there were any. */
  private async expire(): Promise<void> {
    if ((await this.options.rollbacks.approvals.expireDue()) > 0) await this.publish();
  }

  /** Sends a snapshot to `onChange` when it differs from the last one sent, after any publish in progress. */
  private publish(): Promise<void> {
    const next = this.publishing.then(() => this.publishNow());
    this.publishing = next.catch(() => undefined);
    return next;
  }

  /** Takes a snapshot and sends it when it differs from the last one sent. */
  private async publishNow(): Promise<void> {
    if (!this.options.onChange || this.stopped) return;
    const snapshot = await this.snapshot();
    const text = JSON.stringify(snapshot);
    if (text === this.lastPublished) return;
    this.lastPublished = text;
    this.options.onChange(snapshot);
  }

  /** Runs a step; a failure (say, the store is briefly unavailable) is logged and retried by the next emission or tick, never thrown. Resolves whether it succeeded. */
  private async guard(step: string, run: () => Promise<void>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (err) {
      if (!this.stopped) this.options.log.error({ err, step }, 'guarded automation step failed; will retry on the next alert or tick');
      return false;
    }
  }
}

/** True when a rollback evaluation took no decision yet: a suppression that later evidence or time may overturn. */
function undecided(decision: RollbackRecord | undefined): boolean {
  return decision !== undefined && decision.status === 'suppressed' && decision.details.cancelledByKillSwitch !== true;
}

/** What the policies look at in a candidate's suspects: its top suspect's change, confidence and evidence kinds. */
function evidenceOf(candidate: RollbackCandidate): string {
  const top = topSuspect(candidate.suspects);
  return top ? JSON.stringify([top.changeId, top.confidence, [...(top.evidenceKinds ?? [])].sort()]) : '';
}

/** Sort key: pending ones by their deadline, approved ones (no deadline) first. */
function deadline(view: RollbackView): string {
  return view.expiresAt ?? '';
}
