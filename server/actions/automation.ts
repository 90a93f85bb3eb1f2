/**
 * Guarded automation, wired: every committed alert emission that names suspects is offered to the
 * freeze service and the rollback policy (one at a time, off the detection path), approved
 * rollbacks are delivered and stale approvals expired on timers, and whoever watches (the
 * dashboards) is told when the picture changed.
 *
 * Silences and maintenance windows mute notifications only: a rollback still needs its guardrails
 * and (unless `automatic`) a human, and the kill switch is the one control that stops it.
 */
import type { Alert } from '../../contract/alert.ts';
import type { AutomationSnapshot, RollbackView } from '../../contract/automation.ts';
import type { Incident } from '../../contract/incident.ts';
import type { Logger } from '../log.ts';
import type { FreezeService } from './freeze.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { RollbackCandidate, RollbackConfig } from './rollback-policy.ts';
import { toRollbackView, type RollbackService } from './rollback-service.ts';

/** What the automation stage needs. */
export interface AutomationOptions {
  rollbacks: RollbackService;
  freezes: FreezeService;
  killSwitch: KillSwitch;
  rollbackConfig: RollbackConfig;
  log: Logger;
  /** Called with a fresh snapshot whenever rollbacks, freezes or the kill switch changed. */
  onChange?: (snapshot: AutomationSnapshot) => void;
  /** How often approved rollbacks due for (re)delivery are sent (default 2 s). */
  deliverEveryMs?: number;
  /** How often pending rollbacks past their deadline are expired (default 15 s). */
  expireEveryMs?: number;
}

/** How many decided rollbacks the snapshot carries besides the open ones. */
const RECENT_DECIDED = 20;

/** Runs freezes and rollbacks for routed alerts and keeps their timers. */
export class Automation {
  private readonly options: AutomationOptions;
  /** The latest candidate per alert not yet evaluated: a burst of updates collapses into one evaluation. */
  private readonly waiting = new Map<string, RollbackCandidate>();
  private draining: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastPublished = '';
  /** Set by `stop()`: no new candidates. */
  private closing = false;
  /** Set once `stop()` finished: nothing more is published or logged. */
  private stopped = false;

  constructor(options: AutomationOptions) {
    this.options = options;
  }

  /** Starts the delivery and expiry timers, and delivers what a previous run left approved. */
  start(): void {
    const { deliverEveryMs = 2_000, expireEveryMs = 15_000 } = this.options;
    this.timers = [
      setInterval(() => void this.guard('deliver', () => this.deliver()), deliverEveryMs),
      setInterval(() => void this.guard('expire', () => this.expire()), expireEveryMs),
    ];
    for (const timer of this.timers) timer.unref();
    void this.guard('deliver', () => this.deliver());
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
   * After a person acted through the API: sends what is now approved (or cancels it when the kill
   * switch went on) without waiting for the timer, then publishes a fresh snapshot if anything changed.
   */
  changed(): void {
    void this.guard('deliver', async () => {
      await this.options.rollbacks.deliverDue();
      await this.publish();
    });
  }

  /** Everything the dashboard's automation panel shows. */
  async snapshot(): Promise<AutomationSnapshot> {
    const { rollbacks, freezes, killSwitch, rollbackConfig } = this.options;
    const [open, recent, active, kill] = await Promise.all([
      rollbacks.list({ status: ['pending', 'approved'], limit: 100 }),
      rollbacks.list({ status: ['denied', 'expired', 'suppressed', 'dry_run', 'executed', 'failed'], limit: RECENT_DECIDED * 5 }),
      freezes.list({ includeLifted: false, limit: 100 }),
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

  /** Stops the timers, refuses new candidates, and finishes evaluating the ones already waiting. */
  async stop(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
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
        if (decision?.status === 'approved') await this.options.rollbacks.deliverDue();
      });
    }
    await this.guard('publish', () => this.publish());
  }

  private async deliver(): Promise<void> {
    const report = await this.options.rollbacks.deliverDue();
    if (report.executed + report.failed + report.cancelled + report.retried > 0) await this.publish();
  }

  private async expire(): Promise<void> {
    if ((await this.options.rollbacks.expireDue()) > 0) await this.publish();
  }

  /** Sends a snapshot to `onChange` when it differs from the last one sent. */
  private async publish(): Promise<void> {
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
