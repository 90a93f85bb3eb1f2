/**
 * The brake for AI agents. When an AI agent's change is the likely cause of an incident,
 * changewatch freezes further AI-authored changes to that service (or, with `scope: agent`, from
 * that agent everywhere) until a human lifts the freeze. A CD pipeline asks `gate()` before
 * shipping and gets `{ allow, reason }` in plain words.
 *
 * Freezes are actions of kind `freeze`: status `executed` while in force, `lifted` once a human
 * lifted it; creating and lifting are audited. The kill switch does not affect freezes: it stops
 * changewatch from acting on deploys, and a freeze only ever stops changes.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AUTHOR_TYPES, type AuthorType } from '../../contract/events.ts';
import { createError } from '../errors.ts';
import type { FreezeDetails, FreezeRecord } from '../store/repositories/actions.ts';
import type { Store } from '../store/store.ts';
import type { Freeze } from '../../contract/automation.ts';
import { formatConfidence, topSuspect, type RollbackCandidate } from './rollback-policy.ts';
import { findAction, transitionWithAudit } from './transition.ts';

/** What a freeze covers. */
export const FREEZE_SCOPES = ['service', 'agent'] as const;
/** `service`: AI-authored changes to the implicated service; `agent`: the implicated agent's changes to every service. */
export type FreezeScope = (typeof FREEZE_SCOPES)[number];

/** The `freeze:` block of the YAML config. */
export const freezeConfigSchema = z
  .object({
    /** When false, no new freezes are created (existing ones stay until lifted). */
    enabled: z.boolean().default(true),
    /** The top suspect's confidence at or above which a freeze is created. */
    minConfidence: z.number().min(0).max(1).default(0.8),
    scope: z.enum(FREEZE_SCOPES).default('service'),
    /** Author types that trigger a freeze and that a freeze blocks. */
    authorTypes: z.array(z.enum(AUTHOR_TYPES)).min(1).default(['ai_agent']),
  })
  .strict();

/** The parsed `freeze:` block. */
export type FreezeConfig = z.infer<typeof freezeConfigSchema>;

/** A change a CD pipeline is about to ship. */
export interface GateQuery {
  service: string;
  authorType: AuthorType;
  /** The agent's name (e.g. `kiro`), for AI-authored changes. */
  agent?: string;
}

/** The gate's answer. */
export interface GateAnswer {
  allow: boolean;
  /** One plain sentence; when blocked, it says why, since when, and how a human lifts it. */
  reason: string;
  /** Ids of the freezes that block this change (empty when allowed). */
  freezeIds: string[];
}

/** A freeze as the API shows it (defined in the contract). */
export type { Freeze };

/** Options; `now` and `newId` are injectable for tests. */
export interface FreezeServiceOptions {
  store: Store;
  config: FreezeConfig;
  /** Epoch-ms clock (default `Date.now`). */
  now?: () => number;
  newId?: () => string;
  /** Path prefix shown in the "how to lift" sentence (default `/api/v1`). */
  apiBase?: string;
}

/** Creates, lifts and answers questions about freezes. */
export class FreezeService {
  private readonly store: Store;
  private readonly config: FreezeConfig;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly apiBase: string;

  constructor(options: FreezeServiceOptions) {
    this.store = options.store;
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => `frz-${randomUUID().slice(0, 8)}`);
    this.apiBase = options.apiBase ?? '/api/v1';
  }

  /**
   * Freezes when the candidate's top suspect is an AI-authored change (per `authorTypes`) with
   * confidence ≥ `minConfidence`; returns the new freeze, the freeze already covering it, or
   * `undefined` when nothing warrants one.
   */
  async considerIncident(candidate: RollbackCandidate): Promise<Freeze | undefined> {
    if (!this.config.enabled) return undefined;
    const top = topSuspect(candidate.suspects);
    if (!top || top.confidence < this.config.minConfidence || !this.config.authorTypes.includes(top.change.author.type)) return undefined;
    const agent = top.change.author.agent ?? top.change.author.name;
    const service = top.change.service;

    return this.store.transaction(async (tx) => {
      await tx.actions.lockDecisions(); // two processes must not both create the freeze
      const active = (await tx.actions.listAll({ kind: 'freeze', status: ['executed'] })).map(toFreeze);
      const covering = active.find((freeze) => (this.config.scope === 'service' ? freeze.scope === 'service' && freeze.service === service : freeze.scope === 'agent' && freeze.agent === agent));
      if (covering) return covering;

      const id = this.newId();
      const at = new Date(this.now()).toISOString();
      const details: FreezeDetails = {
        scope: this.config.scope,
        agent,
        authorTypes: this.config.authorTypes,
        changeType: top.change.type,
        alertId: candidate.alertId,
        confidence: top.confidence,
        evidence: top.evidence,
      };
      const action: FreezeRecord = {
        id,
        kind: 'freeze',
        status: 'executed',
        service,
        changeId: top.changeId,
        ...(candidate.incidentId === undefined ? {} : { incidentId: candidate.incidentId }),
        requestedBy: 'policy',
        decidedBy: 'policy',
        reason: '',
        details,
        createdAt: at,
        updatedAt: at,
      };
      action.reason = this.blockingSentence(toFreeze(action));
      await tx.actions.insert(action);
      await tx.audit.append({
        actor: 'policy',
        action: 'freeze.create',
        target: `freeze:${id}`,
        reason: action.reason,
        evidence: { changeId: top.changeId, service, agent, confidence: top.confidence, evidence: top.evidence, evidenceKinds: top.evidenceKinds ?? [] },
        at,
      });
      return toFreeze(action);
    });
  }

  /** Whether a change may ship now. Human-authored changes (or any author type not in `authorTypes`) are never frozen. */
  async gate(query: GateQuery): Promise<GateAnswer> {
    const blocking = (await this.active()).filter(
      (freeze) =>
        freeze.authorTypes.includes(query.authorType) &&
        (freeze.scope === 'service' ? freeze.service === query.service : query.agent !== undefined && freeze.agent === query.agent),
    );
    if (blocking.length > 0) {
      return { allow: false, reason: blocking.map((freeze) => this.howToLift(freeze)).join(' Also: '), freezeIds: blocking.map((freeze) => freeze.id) };
    }
    const who = query.authorType === 'human' ? 'a human' : `${query.authorType}${query.agent ? ` ${query.agent}` : ''}`;
    return { allow: true, reason: `no freeze applies to changes to ${query.service} by ${who}`, freezeIds: [] };
  }

  /**
   * A human lifts a freeze; throws `CW_NOT_FOUND` or `CW_FREEZE_NOT_ACTIVE` (lifted already; its
   * details say by whom and when). Lifting again a freeze `actor` lifted returns it unchanged, so a
   * retried request gets the same answer.
   */
  async lift(id: string, actor: string, reason: string): Promise<Freeze> {
    const existing = await findAction(this.store.actions, 'freeze', id);
    if (existing.status === 'lifted') return alreadyLifted(existing, actor);
    const at = new Date(this.now()).toISOString();
    const lifted = await transitionWithAudit(this.store, 'freeze', id, {
      from: ['executed'],
      to: 'lifted',
      reason: `lifted by ${actor}: ${reason}`,
      decidedBy: actor,
      at,
      details: { liftedAt: at, liftReason: reason },
      actor,
      auditAction: 'freeze.lift',
      auditReason: reason,
      evidence: () => ({ freeze: toFreeze(existing) }),
    });
    if (!lifted) return alreadyLifted(await findAction(this.store.actions, 'freeze', id), actor);
    return toFreeze(lifted);
  }

  /** Freezes in force, newest first. */
  async active(): Promise<Freeze[]> {
    return (await this.store.actions.listAll({ kind: 'freeze', status: ['executed'] })).map(toFreeze);
  }

  /** Freezes, newest first, in force or (with `includeLifted`) lifted too. */
  async list(options: { includeLifted?: boolean; limit?: number } = {}): Promise<Freeze[]> {
    const statuses = options.includeLifted ? (['executed', 'lifted'] as const) : (['executed'] as const);
    return (await this.store.actions.list({ kind: 'freeze', status: statuses, limit: options.limit ?? 100 })).map(toFreeze);
  }

  /**
   * The sentence a blocked pipeline reads: the freeze's own, plus the API call that lifts it. Only the
   * gate adds the call (a pipeline's log is where a developer needs it); the stored sentence, which the
   * dashboard and the audit log show, has none (a person has the Lift button). Freezes stored before
   * 2026-12-07 kept the call in their sentence, and are not given a second.
   */
  private howToLift(freeze: Freeze): string {
    return freeze.reason.includes('/freezes/') ? freeze.reason : `${freeze.reason}: POST ${this.apiBase}/freezes/${freeze.id}/lift`;
  }

  /** Why a freeze is in force, in one sentence, without API paths. */
  private blockingSentence(freeze: Freeze): string {
    const since = new Date(freeze.since).toISOString().slice(11, 16);
    const what = freeze.scope === 'service' ? `AI-authored changes to ${freeze.service} are frozen` : `changes by AI agent ${freeze.agent} are frozen on every service`;
    const cause = `${freeze.changeType} ${freeze.changeId} by ${freeze.agent} likely caused ${freeze.incidentId ? `incident ${freeze.incidentId}` : `alert ${freeze.alertId}`} (${formatConfidence(freeze.confidence)})`;
    return `${what} since ${since} UTC because ${cause}; a human must lift the freeze`;
  }
}

/** A lifted freeze: itself when `actor` lifted it (a retry), else `CW_FREEZE_NOT_ACTIVE` naming who lifted it and when. */
function alreadyLifted(action: FreezeRecord, actor: string): Freeze {
  const decidedBy = action.decidedBy ?? 'unknown';
  if (decidedBy === actor) return toFreeze(action);
  const decidedAt = action.details.liftedAt ?? action.updatedAt;
  throw createError('CW_FREEZE_NOT_ACTIVE', `freeze ${action.id} is already lifted: ${decidedBy} lifted it at ${decidedAt}`, {
    decidedBy,
    decidedAt,
    decision: 'lifted',
    ...(action.details.liftReason === undefined ? {} : { reason: action.details.liftReason }),
  });
}

/** The API view of a freeze action. */
function toFreeze(action: FreezeRecord): Freeze {
  const { details } = action;
  const lifted = action.status === 'lifted';
  return {
    id: action.id,
    active: action.status === 'executed',
    scope: details.scope,
    service: action.service,
    agent: details.agent,
    authorTypes: details.authorTypes,
    changeId: action.changeId ?? '',
    changeType: details.changeType,
    ...(action.incidentId === undefined ? {} : { incidentId: action.incidentId }),
    alertId: details.alertId,
    confidence: details.confidence,
    since: action.createdAt,
    // A lifted freeze's `reason` column holds the lift; the original sentence is kept in the audit log.
    reason: action.reason,
    ...(lifted && action.decidedBy !== undefined ? { liftedBy: action.decidedBy } : {}),
    ...(details.liftedAt === undefined ? {} : { liftedAt: details.liftedAt }),
    ...(details.liftReason === undefined ? {} : { liftReason: details.liftReason }),
  };
}
