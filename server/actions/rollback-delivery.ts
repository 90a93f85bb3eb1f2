/**
 * Approved rollbacks as a source of the delivery worker, which sends them to the CD system with
 * the same leases, backoff and circuit breaker as notifications. The `approved` status is the
 * durable queue: it is committed before any attempt, leased so that one worker sends it at a time,
 * and re-sent after a crash with the same `webhook-id`.
 *
 *   approved ─2xx→ executed
 *      ├─refused, out of attempts, too late, or no webhook→ failed
 *      └─kill switch on before sending→ suppressed (cancelled)
 *
 * Before every attempt the kill switch is checked: while it is on, an undelivered rollback is
 * cancelled rather than held, so turning it off later cannot release a stale rollback; one approved
 * more than `maxDeliveryAgeMs` ago fails instead of being sent late.
 *
 * Rollbacks do not go through the notification outbox: its rows are incident notifications, ordered
 * per incident and read back by the alert router, while a rollback is a command that must stay
 * stoppable until the moment it is sent.
 */
import type { DeliveryOutcome } from '../alerts/notifiers/types.ts';
import type { DeliveryClaim, DeliveryJob, DeliverySource, FinalFailure, SettledBeforeSending } from '../alerts/delivery/source.ts';
import type { RollbackDetails, RollbackRecord } from '../store/repositories/actions.ts';
import type { Store } from '../store/store.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { RollbackConfig } from './rollback-policy.ts';
import { rollbackEvidence } from './rollback-view.ts';
import { approvalTime, rollbackWebhookBody, sendRollbackWebhook, type RollbackSender } from './rollback-webhook.ts';
import { transitionWithAudit } from './transition.ts';

/**
 * The worker's name for this source: its circuit breaker and status key. Endpoint names cannot
 * contain `:`, so it never clashes with a notifier's.
 */
export const ROLLBACK_SOURCE_NAME = 'rollback:webhook';

/** One leased approved rollback; its age counts from the approval. */
export interface RollbackJob extends DeliveryJob {
  rollback: RollbackRecord;
}

/** What delivery needs; `send`, `now` and the limits have defaults. */
export interface RollbackDeliveryOptions {
  store: Store;
  config: RollbackConfig;
  killSwitch: KillSwitch;
  /** Sends one request (default: the signed webhook POST). */
  send?: RollbackSender;
  /** Epoch-ms clock stamping signatures (default `Date.now`); bookkeeping uses the worker's clock. */
  now?: () => number;
  /** Attempts before an approved rollback is marked failed (default 10). */
  maxAttempts?: number;
  /** An approved rollback not delivered within this age is marked failed instead of sent late (default 30 min). */
  maxDeliveryAgeMs?: number;
}

/** How a rollback's delivery ended, as one audited transition out of `approved`. */
interface Settlement {
  to: 'executed' | 'failed' | 'suppressed';
  reason: string;
  auditAction: string;
  details?: Partial<RollbackDetails>;
}

/** Approved rollbacks, delivered by the delivery worker. */
export class RollbackDelivery implements DeliverySource<RollbackJob> {
  readonly name = ROLLBACK_SOURCE_NAME;
  readonly subject = 'rollback';
  readonly maxAttempts: number;
  private readonly store: Store;
  private readonly config: RollbackConfig;
  private readonly killSwitch: KillSwitch;
  private readonly sendWebhook: RollbackSender;
  private readonly maxDeliveryAgeMs: number;
  private readonly listeners = new Set<(rollback: RollbackRecord) => void>();

  constructor(options: RollbackDeliveryOptions) {
    this.store = options.store;
    this.config = options.config;
    this.killSwitch = options.killSwitch;
    const now = options.now ?? Date.now;
    this.sendWebhook = options.send ?? ((target, body, signal) => sendRollbackWebhook(target, body, signal, now));
    this.maxAttempts = options.maxAttempts ?? 10;
    this.maxDeliveryAgeMs = options.maxDeliveryAgeMs ?? 30 * 60_000;
  }

  /** Calls `listener` with every rollback whose delivery ended (executed, failed or cancelled); returns the unsubscribe function. */
  onSettled(listener: (rollback: RollbackRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Leases due approved rollbacks, oldest first. */
  async claimDue(claim: DeliveryClaim): Promise<RollbackJob[]> {
    const rollbacks = await this.store.actions.claimApproved({ kind: 'rollback', ...claim });
    return rollbacks.map((rollback) => ({ id: rollback.id, attempts: rollback.details.attempts ?? 0, createdAt: Date.parse(approvalTime(rollback)), rollback }));
  }

  /** Cancels the rollback while the kill switch is on, and fails it when there is no webhook or it is too late to send. */
  async settleBeforeSending(job: RollbackJob, now: number): Promise<SettledBeforeSending | undefined> {
    const killSwitch = await this.killSwitch.state();
    if (killSwitch.engaged) {
      await this.settle(job, now, {
        to: 'suppressed',
        reason: `cancelled before it was sent: the kill switch is on (by ${killSwitch.by ?? 'unknown'})`,
        auditAction: 'rollback.cancelled',
        details: { cancelledByKillSwitch: true },
      });
      return 'cancelled';
    }
    if (!this.config.webhook) {
      await this.settle(job, now, { to: 'failed', reason: 'rollback.webhook is not configured', auditAction: 'rollback.failed' });
      return 'dead';
    }
    if (now - job.createdAt > this.maxDeliveryAgeMs) {
      const reason = `not delivered within ${Math.round(this.maxDeliveryAgeMs / 60_000)} min of approval (last error: ${job.rollback.details.lastError ?? 'none'}); not sending it late`;
      await this.settle(job, now, { to: 'failed', reason, auditAction: 'rollback.failed' });
      return 'dead';
    }
    return undefined;
  }

  /** Posts the signed rollback request to the CD system. */
  send(job: RollbackJob, signal: AbortSignal): Promise<DeliveryOutcome> {
    // settleBeforeSending failed the rollback if there is no webhook.
    return this.sendWebhook(this.config.webhook!, rollbackWebhookBody(job.rollback), signal);
  }

  /** The CD system accepted it: `executed`. */
  async markDelivered(job: RollbackJob, delivery: { status: number; attempts: number; at: number }): Promise<void> {
    await this.settle(job, delivery.at, {
      to: 'executed',
      reason: `sent to the CD system (HTTP ${delivery.status}) after ${delivery.attempts} attempt(s)`,
      auditAction: 'rollback.executed',
      details: { attempts: delivery.attempts },
    });
  }

  /** Records the failed attempt; it stays `approved` until the retry. */
  async scheduleRetry(job: RollbackJob, retry: { reason: string; attempts: number; nextAttemptAt: number; at: number }): Promise<void> {
    await this.store.actions.scheduleRetry(job.id, 'rollback', {
      at: new Date(retry.at).toISOString(),
      nextAttemptAt: retry.nextAttemptAt,
      details: { attempts: retry.attempts, lastError: retry.reason },
    });
  }

  /** The CD system refused it for good, or it ran out of attempts: `failed`. */
  async markDead(job: RollbackJob, failure: FinalFailure): Promise<void> {
    await this.settle(job, failure.at, {
      to: 'failed',
      reason: `the CD system did not accept it after ${failure.attempts} attempt(s): ${failure.reason}`,
      auditAction: 'rollback.failed',
      details: { attempts: failure.attempts, lastError: failure.reason },
    });
  }

  /** Ends the lease without counting an attempt. */
  releaseLease(job: RollbackJob): Promise<void> {
    return this.store.actions.releaseLease(job.id);
  }

  /** The rollback's id, service and change. */
  describe(job: RollbackJob): object {
    return { rollbackId: job.id, service: job.rollback.service, changeId: job.rollback.changeId };
  }

  /** Moves the rollback out of `approved` with its audit entry and tells the listeners. */
  private async settle(job: RollbackJob, at: number, settlement: Settlement): Promise<void> {
    const settled = await transitionWithAudit(this.store, 'rollback', job.id, {
      from: ['approved'],
      ...settlement,
      at: new Date(at).toISOString(),
      actor: settlement.to === 'suppressed' ? 'killswitch' : 'delivery',
      evidence: rollbackEvidence,
    });
    if (settled) for (const listener of this.listeners) listener(settled);
  }
}
