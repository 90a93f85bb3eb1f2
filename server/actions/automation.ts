/**
 * Guarded automation, wired: every committed alert emission that names suspects is offered to the
 * freeze service and the rollback policy (one at a time, off the detection path), the delivery
 * worker is woken when a rollback is approved, stale approvals are expired on a timer, and whoever
 * watches (the dashboards) is told when the picture changed.
 *
 * Silences and maintenance windows mute notifications only: a rollback still needs its guardrails
 * and (unless `automatic`) a human, and the kill switch is the one control that stops it.
 */
import type { Alert } from '../../contract/alert.ts';
import type { AutomationSnapshot, RollbackView } from '../../contract/automation.ts';
import type { Incident } from '../../contract/incident.ts';
import type { DeliveryWorker } from '../alerts/delivery/worker.ts';
import type { Logger } from '../log.ts';
import type { FreezeService } from './freeze.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { RollbackCandidate, RollbackConfig } from './rollback-policy.ts';
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
}

/** How many decided rollbacks the snapshot carries besides the open ones. */
const RECENT_DECIDED = 20;

/** Runs freezes and rollbacks for routed alerts, wakes their delivery and expires stale proposals. */
export class Automation {
  private readonly options: AutomationOptions;
  /** The latest candidate per alert not yet evaluated: a burst of updates collapses into one evaluation. */
  private readonly waiting = new Map<string, RollbackCandidate>();
  private draining: Promise<void> | undefined;
  private expireTimer: NodeJS.Timeout | undefined;
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

  /** Starts the expiry timer. */
  start(): void {
    this.expireTimer = setInterval(() => void this.guard('expire', () => this.expire()), this.options.expireEveryMs ?? 15_000);
    this.expireTimer.unref();
  }

  /** Offers a committed alert emission to the freeze and rollback policies (asynchronously, in order). */
  consider(alert: Alert, incident: Incident): void {
    if (this.closing || alert.status !== 'firing' || alert.suspects.length === 0) return;
    this.waiting.set(alert.id, {
      alertId: alert.id,
      incidentId: incident.id,
      service: alert.service,
      environment: alert.environment,
      suspects: alert.suspects,
    });
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
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

  /** Stops the timer, refuses new candidates, and finishes evaluating the ones already waiting. */
  async stop(): Promise<void> {
    this.closing = true;
    clearInterval(this.expireTimer);
    this.stopListening();
    await this.draining;
    this.stopped = true;
  }

  /** Evaluates waiting candidates one at a time, oldest alert first. */
  private async drain(): Promise<void> {
    for (let next = this.waiting.entries().next(); !next.done; next = this.waiting.entries().next()) {
      const [alertId, candidate] = next.value;
      this.waiting.delete(alertId);
      await this.guard('evaluate', async () => {
        await this.options.freezes.considerIncident(candidate);
        const decision = await this.options.rollbacks.evaluate(candidate);
        if (decision?.status === 'approved') this.options.delivery.wake();
      });
    }
    await this.guard('publish', () => this.publish());
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

  /** Runs a step; a failure (say, the store is briefly unavailable) is logged and retried by the next emission or tick, never thrown. */
  private async guard(step: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      if (!this.stopped) this.options.log.error({ err, step }, 'guarded automation step failed; will retry on the next alert or tick');
    }
  }
}

/** Sort key: pending ones by their deadline, approved ones (no deadline) first. */
function deadline(view: RollbackView): string {
  return view.expiresAt ?? '';
}
