/**
 * The rollback service: runs the policy against persisted state, records every decision as an
 * action plus an audit entry (with the reasons and the evidence snapshot), runs the approval flow,
 * and delivers approved rollbacks to the CD system at least once.
 *
 * Status flow of a rollback action:
 *   pending ─approve→ approved ─sent (2xx)→ executed
 *      │                 └─final failure→ failed; kill switch before sending → suppressed
 *      ├─deny→ denied
 *      └─ttl passes→ expired
 * `automatic` decisions start at `approved` (by `policy`); `dry-run` and `suppressed` are final.
 *
 * Delivery does not use the notification outbox: outbox rows are incident notifications ordered per
 * incident, while a rollback is a command that must still be stoppable by the kill switch until the
 * moment it is sent. The `approved` status is therefore the durable queue: it is committed before
 * any attempt, re-sent after a crash (same `webhook-id`), and checked against the kill switch
 * before every attempt.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeAuthor, EvidenceKind } from '../../contract/events.ts';
import type { DeliveryOutcome } from '../alerts/notifiers/types.ts';
import type { RollbackStatus, RollbackView } from '../../contract/automation.ts';
import { fullJitterDelay, type BackoffPolicy, type RandomSource } from '../alerts/delivery/backoff.ts';
import { createError } from '../errors.ts';
import type { ActionRecord, ActionStatus } from '../store/repositories/actions.ts';
import type { Repositories, Store } from '../store/store.ts';
import { readKillSwitch, type KillSwitch } from './kill-switch.ts';
import {
  decideRollback,
  RATE_LIMIT_WINDOW_MS,
  type RollbackCandidate,
  type RollbackConfig,
  type PolicyState,
  type RollbackDecision,
  type RollbackOutcome,
  topSuspect,
} from './rollback-policy.ts';
import { sendRollbackWebhook, type RollbackWebhookBody, type RollbackWebhookTarget } from './rollback-webhook.ts';

/** Statuses that count as a rollback taken, for rate limits, cooldown and deduplication. */
const TAKEN_STATUSES: readonly ActionStatus[] = ['pending', 'approved', 'executed', 'failed', 'dry_run'];

/** Action status each policy outcome is stored as. */
const STATUS_OF_OUTCOME: Record<RollbackOutcome, ActionStatus> = {
  proposed: 'pending',
  executed: 'approved',
  'dry-run': 'dry_run',
  suppressed: 'suppressed',
};

/** The logging methods the service uses (a pino logger fits). */
export interface RollbackLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Sends one rollback request; injectable for tests of failure handling. */
export type RollbackSender = (target: RollbackWebhookTarget, body: RollbackWebhookBody) => Promise<DeliveryOutcome>;

/** Dependencies and tuning; everything but store, config and killSwitch has a default. */
export interface RollbackServiceOptions {
  store: Store;
  config: RollbackConfig;
  killSwitch: KillSwitch;
  /** Epoch-ms clock (default `Date.now`). */
  now?: () => number;
  newId?: () => string;
  send?: RollbackSender;
  logger?: RollbackLogger;
  /** Retry backoff for the CD webhook (default 1 s base, 5 min cap). */
  backoff?: BackoffPolicy;
  random?: RandomSource;
  /** Attempts before an approved rollback is marked failed (default 10). */
  maxAttempts?: number;
  /** An approved rollback not delivered within this age is marked failed instead of sent late (default 30 min). */
  maxDeliveryAgeMs?: number;
}

/** Kind-specific data stored in a rollback action's `details`. */
export interface RollbackDetails {
  alertId: string;
  environment: string;
  /** The incident's service, where the anomaly was seen (the action's `service` is the change's). */
  anomalyService: string;
  fromVersion?: string;
  toVersion?: string;
  confidence?: number;
  changeType?: string;
  author?: unknown;
  /** The policy's one-sentence account of the change and its evidence. */
  summary: string;
  /** Evidence snapshot at decision time. */
  evidence: string[];
  evidenceKinds: string[];
  reasons: string[];
  /** Delivery bookkeeping while `approved`. */
  attempts?: number;
  nextAttemptAt?: number;
  lastError?: string;
  approvedAt?: string;
  /** Set when the kill switch cancelled it after approval; such a change is not proposed again. */
  cancelledByKillSwitch?: boolean;
}

/** What one `deliverDue` call did. */
export interface RollbackDeliveryReport {
  executed: number;
  retried: number;
  failed: number;
  cancelled: number;
}

/** Runs the rollback policy and its approval and delivery flow. */
export class RollbackService {
  private readonly store: Store;
  private readonly config: RollbackConfig;
  private readonly killSwitch: KillSwitch;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly send: RollbackSender;
  private readonly logger: RollbackLogger | undefined;
  private readonly backoff: BackoffPolicy;
  private readonly random: RandomSource;
  private readonly maxAttempts: number;
  private readonly maxDeliveryAgeMs: number;
  private delivering: Promise<RollbackDeliveryReport> | undefined;

  constructor(options: RollbackServiceOptions) {
    this.store = options.store;
    this.config = options.config;
    this.killSwitch = options.killSwitch;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => `rb-${randomUUID()}`);
    this.send = options.send ?? ((target, body) => sendRollbackWebhook(target, body, this.now));
    this.logger = options.logger;
    this.backoff = options.backoff ?? { baseMs: 1_000, maxMs: 300_000 };
    this.random = options.random ?? Math.random;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.maxDeliveryAgeMs = options.maxDeliveryAgeMs ?? 30 * 60_000;
  }

  /**
   * Decides about an alert's top suspect and records the decision, once per change: later updates
   * of the same alert return the existing record instead of piling up duplicates. Returns
   * `undefined` when mode is off or there are no suspects. Call `deliverDue()` afterwards to send
   * an automatic decision right away.
   */
  async evaluate(candidate: RollbackCandidate): Promise<ActionRecord | undefined> {
    if (this.config.mode === 'off' || candidate.suspects.length === 0) return undefined;
    const now = this.now();
    // One transaction holding the decisions lock: the limits read and the insert see the same state,
    // even with several changewatch processes on one PostgreSQL.
    return this.store.transaction(async (tx) => {
      await tx.actions.lockDecisions();
      const decision = decideRollback(candidate, this.config, await this.policyState(tx, candidate, now));
      const suspect = decision.suspect;
      if (!suspect) return undefined;
      // One decision per change, whichever incident implicates it: once proposed, denied, expired
      // or sent, it is never proposed again (a human can still roll back by hand). Only a
      // suppression is re-evaluated, and recorded again only when its reasons changed.
      const existing = (await tx.actions.list({ kind: 'rollback', changeId: suspect.changeId, limit: 50 })).find(
        (action) =>
          action.status !== 'suppressed' ||
          (action.details as unknown as RollbackDetails).cancelledByKillSwitch === true ||
          (sameOrigin(action, candidate) && sameReasons(action, decision)),
      );
      if (existing) return existing;

      const id = this.newId();
      const at = new Date(now).toISOString();
      const status = STATUS_OF_OUTCOME[decision.outcome];
      const details = detailsOf(candidate, decision, at);
      const action: ActionRecord = {
        id,
        kind: 'rollback',
        status,
        service: suspect.change.service,
        changeId: suspect.changeId,
        ...(candidate.incidentId === undefined ? {} : { incidentId: candidate.incidentId }),
        requestedBy: 'policy',
        ...(decision.outcome === 'executed' ? { decidedBy: 'policy' } : {}),
        reason: decision.reasons.join('; '),
        details: details as unknown as Record<string, unknown>,
        createdAt: at,
        updatedAt: at,
        ...(decision.outcome === 'proposed' ? { expiresAt: new Date(now + this.config.approvalTtlMinutes * 60_000).toISOString() } : {}),
      };
      await tx.actions.insert(action);
      await tx.audit.append({
        actor: 'policy',
        action: `rollback.${auditVerb(decision.outcome)}`,
        target: `rollback:${id}`,
        reason: action.reason,
        evidence: evidenceSnapshot(action),
        at,
      });
      this.logger?.info({ rollbackId: id, outcome: decision.outcome, changeId: suspect.changeId, service: action.service }, 'rollback decision');
      return action;
    });
  }

  /**
   * A human approves a pending rollback. Throws `CW_NOT_FOUND`, `CW_ROLLBACK_EXPIRED` (its window
   * passed; it is marked expired), `CW_KILL_SWITCH_ENGAGED`, or `CW_ROLLBACK_NOT_PENDING` (someone
   * decided first: of two concurrent approvals exactly one wins). Call `deliverDue()` afterwards.
   */
  async approve(id: string, actor: string, comment?: string): Promise<ActionRecord> {
    const current = await this.getRollback(id);
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
    const approved = await this.store.transaction(async (tx) => {
      const updated = await tx.actions.transition(id, { from: ['pending'], to: 'approved', reason, decidedBy: actor, at, details: { approvedAt: at } });
      if (!updated) return undefined;
      await tx.audit.append({ actor, action: 'rollback.approve', target: `rollback:${id}`, reason, evidence: evidenceSnapshot(updated), at });
      return updated;
    });
    if (!approved) throw this.notPending(id);
    return approved;
  }

  /** A human denies a pending rollback; throws like `approve` (except for the kill switch, which never blocks saying no). */
  async deny(id: string, actor: string, reason: string): Promise<ActionRecord> {
    await this.getRollback(id);
    const at = new Date(this.now()).toISOString();
    const text = `denied by ${actor}: ${reason}`;
    const denied = await this.store.transaction(async (tx) => {
      const updated = await tx.actions.transition(id, { from: ['pending'], to: 'denied', reason: text, decidedBy: actor, at });
      if (!updated) return undefined;
      await tx.audit.append({ actor, action: 'rollback.deny', target: `rollback:${id}`, reason: text, evidence: evidenceSnapshot(updated), at });
      return updated;
    });
    if (!denied) throw this.notPending(id);
    return denied;
  }

  /** Marks every pending rollback whose window has passed as expired (call on a timer); returns how many. */
  async expireDue(): Promise<number> {
    const now = this.now();
    const pending = await this.store.actions.list({ kind: 'rollback', status: ['pending'], limit: 1000 });
    let expired = 0;
    for (const action of pending) {
      if (action.expiresAt !== undefined && Date.parse(action.expiresAt) <= now && (await this.expire(action, now))) expired += 1;
    }
    return expired;
  }

  /**
   * Sends every approved rollback that is due (call right after `evaluate`/`approve` and on a
   * timer). Before each attempt the kill switch is checked: while it is on, undelivered rollbacks
   * are cancelled (status `suppressed`) rather than held, so turning it off later cannot release
   * a stale rollback.
   */
  deliverDue(): Promise<RollbackDeliveryReport> {
    // A timer tick and an approval can ask at once; one pass at a time keeps this process from sending twice.
    this.delivering ??= this.deliverPass().finally(() => {
      this.delivering = undefined;
    });
    return this.delivering;
  }

  /** One pass over the approved rollbacks, oldest first. */
  private async deliverPass(): Promise<RollbackDeliveryReport> {
    const report: RollbackDeliveryReport = { executed: 0, retried: 0, failed: 0, cancelled: 0 };
    const approved = await this.store.actions.list({ kind: 'rollback', status: ['approved'], limit: 1000 });
    for (const action of approved.reverse()) {
      const details = action.details as unknown as RollbackDetails;
      if ((details.nextAttemptAt ?? 0) > this.now()) continue;
      report[await this.deliverOne(action, details)] += 1;
    }
    return report;
  }

  /** Rollbacks, newest first, optionally only some statuses or one service. */
  list(filter: { status?: readonly ActionStatus[]; service?: string; limit?: number } = {}): Promise<ActionRecord[]> {
    return this.store.actions.list({ kind: 'rollback', ...filter });
  }

  /** One rollback; throws `CW_NOT_FOUND`. */
  async getRollback(id: string): Promise<ActionRecord> {
    const action = await this.store.actions.get(id);
    if (!action || action.kind !== 'rollback') throw createError('CW_NOT_FOUND', `no rollback ${id}`);
    return action;
  }

  /** One delivery attempt and its bookkeeping. */
  private async deliverOne(action: ActionRecord, details: RollbackDetails): Promise<keyof RollbackDeliveryReport> {
    const killSwitch = await this.killSwitch.state();
    if (killSwitch.engaged) {
      await this.finish(action, 'suppressed', `cancelled before it was sent: the kill switch is on (by ${killSwitch.by ?? 'unknown'})`, 'rollback.cancelled', {
        cancelledByKillSwitch: true,
      });
      return 'cancelled';
    }
    const webhook = this.config.webhook;
    if (!webhook) {
      await this.finish(action, 'failed', 'rollback.webhook is not configured', 'rollback.failed');
      return 'failed';
    }
    const approvedAt = details.approvedAt ?? action.updatedAt;
    if (this.now() - Date.parse(approvedAt) > this.maxDeliveryAgeMs) {
      await this.finish(action, 'failed', `not delivered within ${Math.round(this.maxDeliveryAgeMs / 60_000)} min of approval (last error: ${details.lastError ?? 'none'}); not sending it late`, 'rollback.failed');
      return 'failed';
    }
    const outcome = await this.send(webhook, webhookBody(action, details, approvedAt));
    const attempts = (details.attempts ?? 0) + 1;
    if (outcome.ok) {
      await this.finish(action, 'executed', `sent to the CD system (HTTP ${outcome.status}) after ${attempts} attempt(s)`, 'rollback.executed', { attempts });
      return 'executed';
    }
    if (!outcome.retryable || attempts >= this.maxAttempts) {
      await this.finish(action, 'failed', `the CD system did not accept it after ${attempts} attempt(s): ${outcome.reason}`, 'rollback.failed', { attempts, lastError: outcome.reason });
      return 'failed';
    }
    const delay = Math.max(fullJitterDelay(attempts, this.backoff, this.random), outcome.retryAfterMs ?? 0);
    await this.store.actions.transition(action.id, {
      from: ['approved'],
      to: 'approved',
      reason: action.reason,
      at: new Date(this.now()).toISOString(),
      details: { attempts, nextAttemptAt: this.now() + delay, lastError: outcome.reason },
    });
    this.logger?.warn({ rollbackId: action.id, attempts, retryInMs: delay, reason: outcome.reason }, 'rollback webhook failed; will retry');
    return 'retried';
  }

  /** Moves an approved rollback to a final status and audits it. */
  private async finish(action: ActionRecord, to: ActionStatus, reason: string, auditAction: string, details: Partial<RollbackDetails> = {}): Promise<void> {
    const at = new Date(this.now()).toISOString();
    await this.store.transaction(async (tx) => {
      const updated = await tx.actions.transition(action.id, { from: ['approved'], to, reason, at, details });
      if (!updated) return;
      const actor = to === 'suppressed' ? 'killswitch' : 'delivery';
      await tx.audit.append({ actor, action: auditAction, target: `rollback:${action.id}`, reason, evidence: evidenceSnapshot(updated), at });
    });
  }

  /** Marks one pending rollback expired; false when someone decided it first. */
  private async expire(action: ActionRecord, now: number): Promise<boolean> {
    const at = new Date(now).toISOString();
    const reason = `nobody approved or denied it within ${this.config.approvalTtlMinutes} min`;
    return this.store.transaction(async (tx) => {
      const updated = await tx.actions.transition(action.id, { from: ['pending'], to: 'expired', reason, at });
      if (!updated) return false;
      await tx.audit.append({ actor: 'policy', action: 'rollback.expire', target: `rollback:${action.id}`, reason, evidence: evidenceSnapshot(updated), at });
      return true;
    });
  }

  /** The guardrails' view of persisted state for this candidate's top suspect's service. */
  private async policyState(tx: Repositories, candidate: RollbackCandidate, now: number): Promise<PolicyState> {
    const { actions } = tx;
    const top = topSuspect(candidate.suspects);
    const service = top?.change.service ?? candidate.service;
    const since = new Date(now - RATE_LIMIT_WINDOW_MS).toISOString();
    const [takenFleetLastHour, takenServiceLastHour, [lastForService]] = await Promise.all([
      actions.count({ kind: 'rollback', status: TAKEN_STATUSES, createdSince: since }),
      actions.count({ kind: 'rollback', status: TAKEN_STATUSES, service, createdSince: since }),
      actions.list({ kind: 'rollback', status: TAKEN_STATUSES, service, limit: 1 }),
    ]);
    return {
      now,
      killSwitch: await readKillSwitch(tx.audit),
      takenFleetLastHour,
      takenServiceLastHour,
      ...(lastForService ? { lastTakenForServiceAt: Date.parse(lastForService.createdAt) } : {}),
    };
  }

  /** The conflict error for a rollback someone else already decided. */
  private notPending(id: string): Error {
    return createError('CW_ROLLBACK_NOT_PENDING', `rollback ${id} is no longer pending; someone else decided it first`);
  }
}

/** A stored rollback action as the API, the socket and the dashboard show it. */
export function toRollbackView(action: ActionRecord): RollbackView {
  const details = action.details as unknown as RollbackDetails;
  return {
    id: action.id,
    status: action.status as RollbackStatus,
    service: action.service,
    changeId: action.changeId ?? '',
    ...(action.incidentId === undefined ? {} : { incidentId: action.incidentId }),
    alertId: details.alertId,
    anomalyService: details.anomalyService,
    environment: details.environment,
    ...(details.fromVersion === undefined ? {} : { fromVersion: details.fromVersion }),
    ...(details.toVersion === undefined ? {} : { toVersion: details.toVersion }),
    ...(details.confidence === undefined ? {} : { confidence: details.confidence }),
    ...(details.changeType === undefined ? {} : { changeType: details.changeType }),
    ...(details.author === undefined ? {} : { author: details.author as ChangeAuthor }),
    summary: details.summary,
    evidence: details.evidence,
    evidenceKinds: details.evidenceKinds as EvidenceKind[],
    reason: action.reason,
    requestedBy: action.requestedBy,
    ...(action.decidedBy === undefined ? {} : { decidedBy: action.decidedBy }),
    createdAt: action.createdAt,
    updatedAt: action.updatedAt,
    ...(action.expiresAt === undefined ? {} : { expiresAt: action.expiresAt }),
  };
}

/** True when an existing action was decided for the same incident (or, without one, the same alert). */
function sameOrigin(action: ActionRecord, candidate: RollbackCandidate): boolean {
  if (candidate.incidentId !== undefined) return action.incidentId === candidate.incidentId;
  return (action.details as unknown as RollbackDetails).alertId === candidate.alertId;
}

/**
 * True when a stored suppression said what this decision says (nothing new to record). Figures are
 * ignored: a confidence moving from 0.12 to 0.06 under the same guardrails is not news, and
 * comparing them would add an audit entry at every re-ranking of a long incident.
 */
function sameReasons(action: ActionRecord, decision: RollbackDecision): boolean {
  const shape = (text: string): string => text.replace(/\d+(\.\d+)?/g, '#');
  return action.status === STATUS_OF_OUTCOME[decision.outcome] && shape(action.reason) === shape(decision.reasons.join('; '));
}

/** The audit verb for a fresh decision. */
function auditVerb(outcome: RollbackOutcome): string {
  return { proposed: 'propose', executed: 'approve', 'dry-run': 'dry_run', suppressed: 'suppress' }[outcome];
}

/** The details stored with a new decision. */
function detailsOf(candidate: RollbackCandidate, decision: RollbackDecision, at: string): RollbackDetails {
  const suspect = decision.suspect!;
  return {
    alertId: candidate.alertId,
    environment: candidate.environment,
    anomalyService: candidate.service,
    ...(decision.fromVersion === undefined ? {} : { fromVersion: decision.fromVersion }),
    ...(decision.toVersion === undefined ? {} : { toVersion: decision.toVersion }),
    summary: decision.summary ?? '',
    confidence: suspect.confidence,
    changeType: suspect.change.type,
    author: suspect.change.author,
    evidence: suspect.evidence,
    evidenceKinds: decision.evidenceKinds,
    reasons: decision.reasons,
    ...(decision.outcome === 'executed' ? { approvedAt: at, attempts: 0 } : {}),
  };
}

/** What the audit log keeps as the evidence of a rollback decision. */
function evidenceSnapshot(action: ActionRecord): Record<string, unknown> {
  const details = action.details as unknown as RollbackDetails;
  return {
    changeId: action.changeId,
    service: action.service,
    incidentId: action.incidentId,
    alertId: details.alertId,
    fromVersion: details.fromVersion,
    toVersion: details.toVersion,
    confidence: details.confidence,
    author: details.author,
    evidence: details.evidence,
    evidenceKinds: details.evidenceKinds,
    reasons: details.reasons,
  };
}

/** The CD webhook body for an approved rollback. */
function webhookBody(action: ActionRecord, details: RollbackDetails, approvedAt: string): RollbackWebhookBody {
  return {
    type: 'rollback.requested',
    rollbackId: action.id,
    changeId: action.changeId!,
    service: action.service,
    environment: details.environment,
    // The policy never approves without both versions.
    fromVersion: details.fromVersion!,
    toVersion: details.toVersion!,
    ...(action.incidentId === undefined ? {} : { incidentId: action.incidentId }),
    alertId: details.alertId,
    // e.g. "deploy chg-123 (ai_agent kiro) likely caused ... ; approved by alice: confirmed in grafana".
    reason: `${details.summary}; ${action.decidedBy === undefined || action.decidedBy === 'policy' ? 'approved by policy (automatic mode)' : action.reason}`,
    evidence: details.evidence,
    evidenceKinds: details.evidenceKinds as RollbackWebhookBody['evidenceKinds'],
    confidence: details.confidence ?? 0,
    approvedBy: action.decidedBy ?? 'policy',
    approvedAt,
  };
}
