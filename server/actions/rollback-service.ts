/**
 * The rollback service: runs the policy (rollback-policy.ts) against persisted state and records
 * every decision as an action plus an audit entry (with the reasons and the evidence snapshot).
 * Its two other jobs have their own parts: `approvals` (rollback-approval.ts) takes the human
 * decisions and expires stale proposals, and `delivery` (rollback-delivery.ts) is the source the
 * delivery worker sends approved rollbacks from.
 *
 * Status flow of a rollback action:
 *   pending ─approve→ approved ─sent (2xx)→ executed
 *      │                 └─final failure→ failed; kill switch before sending → suppressed
 *      ├─deny→ denied
 *      └─ttl passes→ expired
 * `automatic` decisions start at `approved` (by `policy`); `dry-run` and `suppressed` are final.
 */
import { randomUUID } from 'node:crypto';
import type { Suspect } from '../../contract/events.ts';
import type { ServiceMetrics } from '../metrics.ts';
import type { ActionStatus, RollbackDetails, RollbackRecord } from '../store/repositories/actions.ts';
import type { Repositories, Store } from '../store/store.ts';
import { readKillSwitch, type KillSwitch } from './kill-switch.ts';
import { RollbackApprovals } from './rollback-approval.ts';
import { RollbackDelivery } from './rollback-delivery.ts';
import {
  AUDIT_VERB_OF_OUTCOME,
  decideRollback,
  RATE_LIMIT_WINDOW_MS,
  standingDecision,
  STATUS_OF_OUTCOME,
  TAKEN_STATUSES,
  topSuspect,
  type PolicyState,
  type RollbackCandidate,
  type RollbackConfig,
  type RollbackDecision,
} from './rollback-policy.ts';
import { rollbackEvidence } from './rollback-view.ts';
import type { RollbackSender } from './rollback-webhook.ts';
import { findAction } from './transition.ts';

/** The logging methods the service uses (a pino logger fits). */
export interface RollbackLogger {
  info(fields: object, message: string): void;
}

/** Dependencies and tuning; everything but store, config and killSwitch has a default. */
export interface RollbackServiceOptions {
  store: Store;
  config: RollbackConfig;
  killSwitch: KillSwitch;
  /** Epoch-ms clock (default `Date.now`). */
  now?: () => number;
  newId?: () => string;
  /** Sends one rollback request (default: the signed webhook POST). */
  send?: RollbackSender;
  logger?: RollbackLogger;
  /** Attempts before an approved rollback is marked failed (default 10). */
  maxAttempts?: number;
  /** An approved rollback not delivered within this age is marked failed instead of sent late (default 30 min). */
  maxDeliveryAgeMs?: number;
  /** Counts every decision recorded, the policy's and people's (`changewatch_rollback_decisions_total`). */
  metrics?: ServiceMetrics;
}

/** Records rollback decisions, and holds the approval flow and the delivery source. */
export class RollbackService {
  /** Human approvals, denials and expiry of proposals. */
  readonly approvals: RollbackApprovals;
  /** The delivery worker's source of approved rollbacks. */
  readonly delivery: RollbackDelivery;
  private readonly store: Store;
  private readonly config: RollbackConfig;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly logger: RollbackLogger | undefined;
  private readonly metrics: ServiceMetrics | undefined;

  constructor(options: RollbackServiceOptions) {
    this.store = options.store;
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => `rb-${randomUUID()}`);
    this.logger = options.logger;
    this.metrics = options.metrics;
    const { store, config, killSwitch } = options;
    this.approvals = new RollbackApprovals({ store, config, killSwitch, now: this.now, ...(options.metrics ? { metrics: options.metrics } : {}) });
    this.delivery = new RollbackDelivery({
      store,
      config,
      killSwitch,
      now: this.now,
      ...(options.send === undefined ? {} : { send: options.send }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.maxDeliveryAgeMs === undefined ? {} : { maxDeliveryAgeMs: options.maxDeliveryAgeMs }),
    });
  }

  /**
   * Decides about an alert's top suspect and records the decision, once per change: later updates
   * of the same alert return the existing record instead of piling up duplicates. Returns
   * `undefined` when mode is off or there are no suspects. An automatic decision is recorded
   * `approved`: wake the delivery worker afterwards to send it right away.
   */
  async evaluate(candidate: RollbackCandidate): Promise<RollbackRecord | undefined> {
    if (this.config.mode === 'off' || candidate.suspects.length === 0) return undefined;
    const now = this.now();
    // Counted once the transaction committed: a failed one recorded nothing.
    let recorded: RollbackDecision['outcome'] | undefined;
    // One transaction holding the decisions lock: the limits read and the insert see the same state,
    // even with several changewatch processes on one PostgreSQL.
    const action = await this.store.transaction(async (tx) => {
      await tx.actions.lockDecisions();
      const decision = decideRollback(candidate, this.config, await this.policyState(tx, candidate, now));
      const suspect = decision.suspect;
      if (!suspect) return undefined;
      const standing = standingDecision(await tx.actions.listAll({ kind: 'rollback', changeId: suspect.changeId }), candidate, decision);
      if (standing) return standing;

      const id = this.newId();
      const at = new Date(now).toISOString();
      const action: RollbackRecord = {
        id,
        kind: 'rollback',
        status: STATUS_OF_OUTCOME[decision.outcome],
        service: suspect.change.service,
        changeId: suspect.changeId,
        ...(candidate.incidentId === undefined ? {} : { incidentId: candidate.incidentId }),
        requestedBy: 'policy',
        ...(decision.outcome === 'executed' ? { decidedBy: 'policy' } : {}),
        reason: decision.reasons.join('; '),
        details: detailsOf(candidate, decision, suspect, at),
        createdAt: at,
        updatedAt: at,
        ...(decision.outcome === 'proposed' ? { expiresAt: new Date(now + this.config.approvalTtlMinutes * 60_000).toISOString() } : {}),
      };
      await tx.actions.insert(action);
      await tx.audit.append({
        actor: 'policy',
        action: `rollback.${AUDIT_VERB_OF_OUTCOME[decision.outcome]}`,
        target: `rollback:${id}`,
        reason: action.reason,
        evidence: rollbackEvidence(action),
        at,
      });
      this.logger?.info({ rollbackId: id, outcome: decision.outcome, changeId: suspect.changeId, service: action.service }, 'rollback decision');
      recorded = decision.outcome;
      return action;
    });
    if (recorded) this.metrics?.rollbackDecisions.inc({ outcome: recorded });
    return action;
  }

  /**
   * Whether the candidate's incident is still open (true without one). A decision retaken without an
   * emission checks it first: the router stops routing an alert whose incident a person resolved
   * while it fired, and a timer must not act on it behind their back.
   */
  async incidentOpen(candidate: RollbackCandidate): Promise<boolean> {
    if (candidate.incidentId === undefined) return true;
    const incident = await this.store.incidents.get(candidate.incidentId);
    return incident !== undefined && incident.status !== 'resolved';
  }

  /** Rollbacks, newest first, optionally only some statuses or one service. */
  list(filter: { status?: readonly ActionStatus[]; service?: string; limit?: number } = {}): Promise<RollbackRecord[]> {
    return this.store.actions.list({ kind: 'rollback', ...filter });
  }

  /** Every rollback awaiting a human or the CD system (pending, approved), newest first, without a limit. */
  listOpen(): Promise<RollbackRecord[]> {
    return this.store.actions.listAll({ kind: 'rollback', status: ['pending', 'approved'] });
  }

  /** One rollback; throws `CW_NOT_FOUND`. */
  getRollback(id: string): Promise<RollbackRecord> {
    return findAction(this.store.actions, 'rollback', id);
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
}

/** The details stored with a new decision about `suspect`. */
function detailsOf(candidate: RollbackCandidate, decision: RollbackDecision, suspect: Suspect, at: string): RollbackDetails {
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
    ...(suspect.change.links === undefined ? {} : { links: suspect.change.links }),
    evidence: suspect.evidence,
    ...(suspect.evidenceAgainst === undefined ? {} : { evidenceAgainst: suspect.evidenceAgainst }),
    evidenceKinds: decision.evidenceKinds,
    reasons: decision.reasons,
    ...(decision.outcome === 'executed' ? { approvedAt: at, attempts: 0 } : {}),
  };
}
