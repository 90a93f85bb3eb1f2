/**
 * The guarded-automation contract shared by the API, the socket and the dashboard: rollbacks as
 * people review them, AI-change freezes, the kill switch, and the snapshot the dashboard renders.
 */
import type { AuthorType, ChangeAuthor, EvidenceKind } from './events.ts';

/** What changewatch does when a change is implicated (the `rollback.mode` config). */
export type RollbackMode = 'off' | 'dry-run' | 'require-approval' | 'automatic';

/**
 * Where a rollback stands: `pending` awaits a human; `approved` is queued for the CD system;
 * `executed` was accepted by it; `failed` was not; `denied` by a human; `expired` undecided in
 * time; `suppressed` by a guardrail (or cancelled by the kill switch); `dry_run` recorded only.
 */
export type RollbackStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'suppressed' | 'dry_run' | 'executed' | 'failed';

/** A rollback decision as reviewers see it. */
export interface RollbackView {
  id: string;
  status: RollbackStatus;
  /** The service the change was made to (what gets rolled back). */
  service: string;
  changeId: string;
  incidentId?: string;
  alertId: string;
  /** The service where the anomaly was seen. */
  anomalyService: string;
  environment: string;
  /** The version that is running now and would be replaced. */
  fromVersion?: string;
  /** The version it would go back to. */
  toVersion?: string;
  /** Confidence of the suspect at decision time, 0..1. */
  confidence?: number;
  changeType?: string;
  author?: ChangeAuthor;
  /** The change's pull request and commit, when known (as given: check the scheme before linking). */
  links?: { pr?: string; commit?: string };
  /** One sentence: which change, by whom, how likely, on what evidence. */
  summary: string;
  /** The evidence lines at decision time. */
  evidence: string[];
  /** The lines of `evidence` that weighed against the change, when any did. */
  evidenceAgainst?: string[];
  evidenceKinds: EvidenceKind[];
  /** Why it is in its current status (e.g. the guardrails that suppressed it, or who approved). */
  reason: string;
  requestedBy: string;
  decidedBy?: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
  /** ISO-8601 deadline while pending. */
  expiresAt?: string;
}

/** Whom a freeze blocks: AI changes to one service, or one agent everywhere. */
export type FreezeScope = 'service' | 'agent';

/** A freeze as the API shows it. */
export interface Freeze {
  id: string;
  active: boolean;
  scope: FreezeScope;
  /** The frozen service (scope `service`) or the service where the incident happened (scope `agent`). */
  service: string;
  /** The frozen agent (scope `agent`), or the agent whose change caused it. */
  agent: string;
  authorTypes: AuthorType[];
  changeId: string;
  changeType: string;
  incidentId?: string;
  alertId: string;
  confidence: number;
  /** ISO-8601. */
  since: string;
  /** The sentence the gate answers with. */
  reason: string;
  liftedBy?: string;
  liftedAt?: string;
  liftReason?: string;
}

/** Where the kill switch stands. */
export interface KillSwitchState {
  /** True while automated actions (rollback approvals and sends) are stopped. */
  engaged: boolean;
  /** Who flipped it last. */
  by?: string;
  /** Why, as they wrote it. */
  reason?: string;
  /** ISO-8601 time of the last flip. */
  since?: string;
}

/** Everything the dashboard's automation panel shows; sent on connect and after every change. */
export interface AutomationSnapshot {
  mode: RollbackMode;
  /** Whether a rollback approval has somewhere to go (`rollback.webhook` is configured). */
  canExecute: boolean;
  killSwitch: KillSwitchState;
  /**
   * Pending and approved rollbacks first (nearest deadline first), then the latest decided ones;
   * suppressions are listed only for suspects at or above `rollback.when.minConfidence` (near misses).
   */
  rollbacks: RollbackView[];
  /** Freezes in force. */
  freezes: Freeze[];
}
