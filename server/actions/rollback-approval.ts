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
   * `CW_ROLLBACK_NOT_PENDING` (decided already; its details say by whom, how and when). Approving
   * again what `actor` already approved returns that approval unchanged, so a CD integration that
   * retries a timed-out request gets the same answer. Wake the delivery worker afterwards.
   */
  async approve(id: string, actor: string, comment?: string): Promise<RollbackRecord> {
    const current = await findAction(this.store.actions, 'rollback', id);
    const now = this.now();
    if (current.status === 'pending' && current.expiresAt !== undefined && Date.parse(current.expiresAt) <= now) {
      await this.expire(current, now);
      throw createError('CW_ROLLBACK_EXPIRED', `rollback ${id} expired at ${current.expiresAt}; it can no longer be approved`);
    }
    if (current.status === 'expired') throw createError('CW_ROLLBACK_EXPIRED', `rollback ${id} expired at ${current.expiresAt ?? current.updatedAt}`);
    if (current.status !== 'pending') return alreadyDecided(current, actor, 'approved');
    if (this.config.webhook === undefined) {
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
    if (!approved) return alreadyDecided(await findAction(this.store.actions, 'rollback', id), actor, 'approved');
    this.metrics?.rollbackDecisions.inc({ outcome: 'approved' });
    return approved;
  }

  /**
   * A human denies a pending rollback; throws like `approve` (except for the kill switch, which
   * never blocks saying no). Denying again what `actor` already denied returns that denial unchanged
   * (with its first reason).
   */
  async deny(id: string, actor: string, reason: string): Promise<RollbackRecord> {
    const current = await findAction(this.store.actions, 'rollback', id);
    if (current.status !== 'pending') return alreadyDecided(current, actor, 'denied');
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
    if (!denied) return alreadyDecided(await findAction(this.store.actions, 'rollback', id), actor, 'denied');
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

/** How a rollback that is no longer pending was decided: `approved`, `denied`, `expired` or what a guardrail made of it. */
type DecisionKind = 'approved' | 'denied' | 'expired' | 'suppressed';

/** Who decided a rollback, how and when, as the 409 of a second decision names them. */
interface DecisionRecord {
  /** A token name, `policy` (automatic mode, expiry, guardrails) or `unknown`. */
  decidedBy: string;
  /** ISO-8601 time of the decision. */
  decidedAt: string;
  decision: DecisionKind;
}

/** Who decided `action`, how and when. An approval stays one after delivery (`executed`, `failed`, or cancelled by the kill switch). */
function rollbackDecision(action: RollbackRecord): DecisionRecord {
  const approvedAt = action.details.approvedAt;
  if (approvedAt !== undefined) return { decidedBy: action.decidedBy ?? 'policy', decidedAt: approvedAt, decision: 'approved' };
  if (action.status === 'denied') return { decidedBy: action.decidedBy ?? 'unknown', decidedAt: action.updatedAt, decision: 'denied' };
  if (action.status === 'expired') return { decidedBy: 'policy', decidedAt: action.updatedAt, decision: 'expired' };
  // Suppressed by a guardrail, recorded as a dry run, or sent by the policy in automatic mode.
  return { decidedBy: action.decidedBy ?? 'policy', decidedAt: action.updatedAt, decision: action.status === 'suppressed' ? 'suppressed' : 'approved' };
}

/**
 * The answer to deciding a rollback that is no longer pending: the rollback itself when `actor`
 * already made this very decision (a retry), else `CW_ROLLBACK_NOT_PENDING` naming who decided what and when.
 */
function alreadyDecided(action: RollbackRecord, actor: string, wanted: 'approved' | 'denied'): RollbackRecord {
  const decided = rollbackDecision(action);
  if (decided.decision === wanted && decided.decidedBy === actor) return action;
  const who = decided.decidedBy === actor ? 'you' : decided.decidedBy;
  const what = decided.decision === 'approved' || decided.decision === 'denied' ? `${decided.decision} it` : `marked it ${decided.decision}`;
  throw createError('CW_ROLLBACK_NOT_PENDING', `rollback ${action.id} is no longer pending: ${who} ${what} at ${decided.decidedAt}`, { ...decided, status: action.status });
}
