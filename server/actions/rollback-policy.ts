/**
 * The rollback policy: a pure function from "this change likely broke this service" to a decision
 * (propose, execute, dry-run or suppress) with every reason spelled out, and the rules saying how a
 * decision is recorded (its status, its audit verb, and whether an earlier record already stands
 * for it). It holds every guardrail and no I/O, so each edge case is testable with plain objects and
 * an explicit clock; the rollback service feeds it the persisted state (kill switch, recent
 * rollbacks) and records the decision.
 */
import { z } from 'zod';
import type { RollbackStatus } from '../../contract/automation.ts';
import { AUTHOR_TYPES, CHANGE_TYPES, EVIDENCE_KIND_WORDS, authorInWords, changeInWords, percentInWords, type EvidenceKind, type Suspect } from '../../contract/events.ts';
import { httpUrlSchema } from '../alerts/notifiers/config.ts';
import type { RollbackRecord } from '../store/repositories/actions.ts';

/** What changewatch does when a change is implicated. */
export const ROLLBACK_MODES = ['off', 'dry-run', 'require-approval', 'automatic'] as const;
/**
 * `off`: nothing is evaluated; `dry-run`: decisions are recorded, nothing is sent; `require-approval`
 * (default): a human approves each rollback; `automatic`: sent without a human when the evidence is strong.
 */
export type RollbackMode = (typeof ROLLBACK_MODES)[number];

/** The `rollback:` block of the YAML config. */
export const rollbackConfigSchema = z
  .object({
    mode: z.enum(ROLLBACK_MODES).default('require-approval'),
    /** Where approved rollbacks are POSTed, signed per Standard Webhooks with `secret` (`whsec_...`). */
    webhook: z.object({ url: httpUrlSchema, secret: z.string().startsWith('whsec_') }).strict().optional(),
    when: z
      .object({
        minConfidence: z.number().min(0).max(1).default(0.8),
        authorTypes: z.array(z.enum(AUTHOR_TYPES)).min(1).default(['ai_agent']),
        changeTypes: z.array(z.enum(CHANGE_TYPES)).min(1).default(['deploy', 'config', 'feature_flag']),
        /** Environments where rollbacks may happen; any environment when absent. */
        environments: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        /** Rollbacks taken (proposed, approved, sent) across the fleet in any 60 minutes. */
        perHour: z.number().int().min(0).default(3),
        /** Rollbacks taken for one service in any 60 minutes. */
        perServicePerHour: z.number().int().min(0).default(1),
        /** Minimum minutes between two rollbacks of one service. */
        cooldownMinutes: z.number().min(0).default(30),
      })
      .strict()
      .prefault({}),
    /** A pending approval expires after this many minutes. */
    approvalTtlMinutes: z.number().positive().default(15),
  })
  .strict()
  // Without a webhook, require-approval still proposes (a human rolls back by hand and says so);
  // automatic would decide to act with no way to act, so it needs one.
  .refine((config) => config.mode !== 'automatic' || config.webhook !== undefined, {
    message: 'rollback.webhook is required when mode is automatic',
    path: ['webhook'],
  });

/** The parsed `rollback:` block. */
export type RollbackConfig = z.infer<typeof rollbackConfigSchema>;

/** An alert (optionally inside an incident) whose suspects may warrant a rollback. */
export interface RollbackCandidate {
  alertId: string;
  incidentId?: string;
  /** Service where the anomaly was seen. */
  service: string;
  environment: string;
  /** Most likely first; only the most confident one is ever acted on. */
  suspects: readonly Suspect[];
}

/** The persisted state the guardrails need, read by the service just before deciding. */
export interface PolicyState {
  /** Epoch ms. */
  now: number;
  killSwitch: { engaged: boolean; by?: string; reason?: string };
  /** Rollbacks taken across the fleet since `now - 1 h`. */
  takenFleetLastHour: number;
  /** Rollbacks taken for the suspect change's service since `now - 1 h`. */
  takenServiceLastHour: number;
  /** Epoch ms of the latest rollback taken for that service, if any. */
  lastTakenForServiceAt?: number;
}

/** What the policy decided. */
export type RollbackOutcome = 'proposed' | 'executed' | 'dry-run' | 'suppressed';

/** A decision and everything a reviewer needs to understand it. */
export interface RollbackDecision {
  /**
   * `proposed`: wait for a human; `executed`: send now with `approvedBy: policy`; `dry-run`: what
   * would have happened, recorded only; `suppressed`: a guardrail or condition said no.
   */
  outcome: RollbackOutcome;
  /** Plain sentences: every guardrail that blocked it, or why it may proceed. */
  reasons: string[];
  /** The suspect the decision is about (absent when there is none). */
  suspect?: Suspect;
  /** One sentence naming the change, its author, the symptom, confidence and evidence kinds (absent without a suspect). */
  summary?: string;
  /** The distinct evidence kinds counted, priors excluded (empty when the suspect carries none). */
  evidenceKinds: EvidenceKind[];
  /** Version to roll back from (the suspect's new version) and to (its previous one). */
  fromVersion?: string;
  toVersion?: string;
}

/** The rate limits' window: one hour, in milliseconds. */
export const RATE_LIMIT_WINDOW_MS = 60 * 60 * 1000;

/** Statuses that count as a rollback taken, for rate limits, cooldown and deduplication. */
export const TAKEN_STATUSES: readonly RollbackStatus[] = ['pending', 'approved', 'executed', 'failed', 'dry_run'];

/** The status each outcome is recorded as; `executed` is approved by the policy and then delivered. */
export const STATUS_OF_OUTCOME: Record<RollbackOutcome, RollbackStatus> = {
  proposed: 'pending',
  executed: 'approved',
  'dry-run': 'dry_run',
  suppressed: 'suppressed',
};

/** The audit verb (`rollback.<verb>`) each fresh decision is recorded with. */
export const AUDIT_VERB_OF_OUTCOME: Record<RollbackOutcome, string> = {
  proposed: 'propose',
  executed: 'approve',
  'dry-run': 'dry_run',
  suppressed: 'suppress',
};

/** Decides what to do about `candidate`; pure: same input, same decision. */
export function decideRollback(candidate: RollbackCandidate, config: RollbackConfig, state: PolicyState): RollbackDecision {
  if (config.mode === 'off') return { outcome: 'suppressed', reasons: ['rollback.mode is off'], evidenceKinds: [] };
  const suspect = topSuspect(candidate.suspects);
  if (!suspect) return { outcome: 'suppressed', reasons: ['no suspect change to roll back'], evidenceKinds: [] };

  const change = suspect.change;
  const kinds = distinctKinds(suspect);
  // In words a reviewer reads (the summary is shown on the dashboard and sent to the CD system): no raw author types or evidence kinds.
  const evidenceWords = kinds.map((kind) => EVIDENCE_KIND_WORDS[kind]).join('; ') || 'none classified';
  // The change by what it was (its summary; its id when it has none): the id is on the rollback beside it.
  const summary = `${changeInWords(change, suspect.changeId)} by ${authorInWords(change.author)} likely caused the anomaly on ${candidate.service} (${percentInWords(suspect.confidence)} likely; evidence: ${evidenceWords})`;
  const base = {
    suspect,
    summary,
    evidenceKinds: kinds,
    ...(change.version === undefined ? {} : { fromVersion: change.version }),
    ...(change.previousVersion === undefined ? {} : { toVersion: change.previousVersion }),
  };

  // Every blocking reason is collected, not just the first, so the audit log explains the whole picture.
  const blocked: string[] = [];
  if (state.killSwitch.engaged) {
    blocked.push(`the kill switch is on (by ${state.killSwitch.by ?? 'unknown'}${state.killSwitch.reason ? `: ${state.killSwitch.reason}` : ''})`);
  }
  if (change.type === 'rollback') blocked.push(`${suspect.changeId} is itself a rollback; changewatch never rolls back a rollback`);
  if (change.previousVersion === undefined) blocked.push(`${suspect.changeId} has no previousVersion, so there is nothing to roll back to`);
  if (change.version === undefined) blocked.push(`${suspect.changeId} has no version, so the CD system cannot tell what to roll back from`);
  if (!kinds.some((kind) => kind !== 'timing')) {
    blocked.push(
      kinds.length === 0
        ? `${suspect.changeId} carries no machine-readable evidence kinds; treated as timing-only, which is never enough to act`
        : `the only evidence against ${suspect.changeId} is timing, which is never enough to act`,
    );
  }
  const { when, limits } = config;
  if (suspect.confidence < when.minConfidence) {
    blocked.push(`confidence ${formatConfidence(suspect.confidence)} is below rollback.when.minConfidence ${when.minConfidence}`);
  }
  if (!when.authorTypes.includes(change.author.type)) {
    blocked.push(`author type ${change.author.type} is not in rollback.when.authorTypes [${when.authorTypes.join(', ')}]`);
  }
  if (!when.changeTypes.includes(change.type)) {
    blocked.push(`change type ${change.type} is not in rollback.when.changeTypes [${when.changeTypes.join(', ')}]`);
  }
  if (when.environments && !when.environments.includes(candidate.environment)) {
    blocked.push(`environment ${candidate.environment} is not in rollback.when.environments [${when.environments.join(', ')}]`);
  }
  if (state.takenFleetLastHour >= limits.perHour) {
    blocked.push(`fleet-wide limit reached: ${state.takenFleetLastHour} rollbacks in the last hour (rollback.limits.perHour ${limits.perHour})`);
  }
  if (state.takenServiceLastHour >= limits.perServicePerHour) {
    blocked.push(
      `limit for ${change.service} reached: ${state.takenServiceLastHour} rollbacks in the last hour (rollback.limits.perServicePerHour ${limits.perServicePerHour})`,
    );
  }
  const cooldownMs = limits.cooldownMinutes * 60_000;
  if (state.lastTakenForServiceAt !== undefined && state.now - state.lastTakenForServiceAt < cooldownMs) {
    const minutesAgo = Math.floor((state.now - state.lastTakenForServiceAt) / 60_000);
    blocked.push(`${change.service} was rolled back ${minutesAgo} min ago; cooldown is ${limits.cooldownMinutes} min`);
  }

  if (blocked.length > 0) return { outcome: 'suppressed', reasons: blocked, ...base };
  if (config.mode === 'dry-run') return { outcome: 'dry-run', reasons: [`${summary}; dry-run: recorded, not sent`], ...base };
  if (config.mode === 'require-approval') return { outcome: 'proposed', reasons: [`${summary}; waiting for a human to approve`], ...base };
  if (kinds.length < 2) {
    // Strong enough to ask a human, not strong enough to act alone.
    return {
      outcome: 'proposed',
      reasons: [`${summary}; automatic mode needs two independent kinds of evidence, found one, so a human must approve`],
      ...base,
    };
  }
  return { outcome: 'executed', reasons: [`${summary}; automatic: two or more independent kinds of evidence`], ...base };
}

/**
 * The recorded rollback that already stands for `decision`, among those of its change, if any. One
 * decision per change, whichever incident implicates it: once proposed, denied, expired or sent, it
 * is never proposed again (a human can still roll back by hand). Only a suppression is
 * re-evaluated, and recorded again only when its reasons changed.
 */
export function standingDecision(recorded: readonly RollbackRecord[], candidate: RollbackCandidate, decision: RollbackDecision): RollbackRecord | undefined {
  return recorded.find(
    (action) => action.status !== 'suppressed' || action.details.cancelledByKillSwitch === true || (sameOrigin(action, candidate) && sameReasons(action, decision)),
  );
}

/** True when a recorded action was decided for the same incident (or, without one, the same alert). */
function sameOrigin(action: RollbackRecord, candidate: RollbackCandidate): boolean {
  if (candidate.incidentId !== undefined) return action.incidentId === candidate.incidentId;
  return action.details.alertId === candidate.alertId;
}

/**
 * True when a recorded suppression said what this decision says (nothing new to record). Figures
 * are ignored: a confidence moving from 0.12 to 0.06 under the same guardrails is not news, and
 * comparing them would add an audit entry at every re-ranking of a long incident.
 */
function sameReasons(action: RollbackRecord, decision: RollbackDecision): boolean {
  const shape = (text: string): string => text.replace(/\d+(\.\d+)?/g, '#');
  return action.status === STATUS_OF_OUTCOME[decision.outcome] && shape(action.reason) === shape(decision.reasons.join('; '));
}

/** The most confident suspect (ties: the earlier one, as the engine ranked it); the only one ever acted on. */
export function topSuspect(suspects: readonly Suspect[]): Suspect | undefined {
  let top: Suspect | undefined;
  for (const suspect of suspects) if (!top || suspect.confidence > top.confidence) top = suspect;
  return top;
}

/**
 * The suspect's evidence kinds without duplicates, priors left out: a prior says how risky this
 * kind of change is, not that this change did it, so it never counts toward acting.
 */
function distinctKinds(suspect: Suspect): EvidenceKind[] {
  return [...new Set(suspect.evidenceKinds ?? [])].filter((kind) => kind !== 'prior');
}

/** A confidence as two decimals. */
export function formatConfidence(confidence: number): string {
  return confidence.toFixed(2);
}
