/**
 * Human decisions about proposed rollbacks, and their deadline: a `pending` rollback is approved
 * (→ `approved`, queued for delivery) or denied (→ `denied`) by a person, or expires (→ `expired`)
 * when nobody decided within `approvalTtlMinutes`. Each change is one audited compare-and-set
 * transition, so of two concurrent decisions exactly one wins.
 */
import { createError } from '../errors.ts';
import type { ServiceMetrics } from '../metrics.ts';
import type { RollbackRecord } from '../store/repositories/actions.ts';
import type { Store } from '../store/store.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { RollbackConfig } from './rollback-policy.ts';
import { rollbackEvidence } from './rollback-view.ts';
import { findAction, transitionWithAudit } from './transition.ts';

/** What approvals need. */
export interface RollbackApprovalsOptions {
  store: Store;
  config: RollbackConfig;
  killSwitch: KillSwitch;
  /** Epoch-ms clock. */
  now: () => number;
  /** Counts approvals, denials and expiries (`changewatch_rollback_decisions_total`). */
  metrics?: ServiceMetrics;
}

/** Approves, denies and expires pending rollbacks. */
export class RollbackApprovals {
  private readonly store: Store;
  private readonly config: RollbackConfig;
  private readonly killSwitch: KillSwitch;
  private readonly now: () => number;
  private readonly metrics: ServiceMetrics | undefined;

  constructor(options: RollbackApprovalsOptions) {
    this.store = options.store;
    this.config = options.config;
    this.killSwitch = options.killSwitch;
    this.now = options.now;
    this.metrics = options.metrics;
  }

  /**
   * A human approves a pending rollback. Throws `CW_NOT_FOUND`, `CW_ROLLBACK_EXPIRED` (its window
   * passed; it is marked expired), `CW_ROLLBACK_NO_WEBHOOK`, `CW_KILL_SWITCH_ENGAGED`, or
   * `CW_ROLLBACK_NOT_PENDING` (someone decided first). Wake the delivery worker afterwards.
   */
  async approve(id: string, actor: string, comment?: string): Promise<RollbackRecord> {
    const current = await findAction(this.store.actions, 'rollback', id);
    const now = this.now();
    if (current.status === 'pending' && current.expiresAt !== undefined && Date.parse(current.expiresAt) <= now) {
      await this.expire(current, now);
      throw createError('CW_ROLLBACK_EXPIRED', `rollback ${id} expired at ${current.expiresAt}; it can no longer be approved`);
    }
    if (current.status === 'expired') throw createError('CW_ROLLBACK_EXPIRED', `rollback ${id} expired at ${current.expiresAt ?? current.updatedAt}`);
    if (current.status === 'pending' && this.config.webhook === undefined) {
      throw createError(
        'CW_ROLLBACK_NO_WEBHOOK',
        `rollback ${id} cannot be sent: rollback.webhook is not configured; roll ${current.service} back in your CD system by hand, then deny this proposal saying so`,
      );
    }
    const killSwitch = await this.killSwitch.state();
    if (killSwitch.engaged) {
      throw createError('CW_KILL_SWITCH_ENGAGED', `the kill switch is on (by ${killSwitch.by ?? 'unknown'}); turn it off before approving rollbacks`);
    }
    const at = new Date(now).toISOString();
    const reason = comment ? `approved by ${actor}: ${comment}` : `approved by ${actor}`;
    const approved = await transitionWithAudit(this.store, 'rollback', id, {
      from: ['pending'],
      to: 'approved',
      reason,
      decidedBy: actor,
      at,
      details: { approvedAt: at },
      actor,
      auditAction: 'rollback.approve',
      evidence: rollbackEvidence,
    });
    if (!approved) throw notPending(id);
    this.metrics?.rollbackDecisions.inc({ outcome: 'approved' });
    return approved;
  }

  /** A human denies a pending rollback; throws like `approve` (except for the kill switch, which never blocks saying no). */
  async deny(id: string, actor: string, reason: string): Promise<RollbackRecord> {
    await findAction(this.store.actions, 'rollback', id);
    const text = `denied by ${actor}: ${reason}`;
    const denied = await transitionWithAudit(this.store, 'rollback', id, {
      from: ['pending'],
      to: 'denied',
      reason: text,
      decidedBy: actor,
      at: new Date(this.now()).toISOString(),
      actor,
      auditAction: 'rollback.deny',
      evidence: rollbackEvidence,
    });
    if (!denied) throw notPending(id);
    this.metrics?.rollbackDecisions.inc({ outcome: 'denied' });
    return denied;
  }

  /** Marks every pending rollback whose window has passed as expired (call on a timer); returns how many. */
  async expireDue(): Promise<number> {
    const now = this.now();
    const pending = await this.store.actions.listAll({ kind: 'rollback', status: ['pending'] });
    let expired = 0;
    for (const action of pending) {
      if (action.expiresAt !== undefined && Date.parse(action.expiresAt) <= now && (await this.expire(action, now))) expired += 1;
    }
    return expired;
  }

  /** Marks one pending rollback expired; false when someone decided it first. */
  private async expire(action: RollbackRecord, now: number): Promise<boolean> {
    const expired = await transitionWithAudit(this.store, 'rollback', action.id, {
      from: ['pending'],
      to: 'expired',
      reason: `nobody approved or denied it within ${this.config.approvalTtlMinutes} min`,
      at: new Date(now).toISOString(),
      actor: 'policy',
      auditAction: 'rollback.expire',
      evidence: rollbackEvidence,
    });
    if (expired) this.metrics?.rollbackDecisions.inc({ outcome: 'expired' });
    return expired !== undefined;
  }
}

/** The conflict error for a rollback someone else already decided. */
function notPending(id: string): Error {
  return createError('CW_ROLLBACK_NOT_PENDING', `rollback ${id} is no longer pending; someone else decided it first`);
}
