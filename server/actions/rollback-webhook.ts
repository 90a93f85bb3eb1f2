/**
 * The rollback request sent to the CD system: a JSON body signed per Standard Webhooks (the same
 * signing as the `webhook` notifier), with the rollback id as `webhook-id` so a receiver can
 * deduplicate the retries that at-least-once delivery implies.
 */
import { post } from '../alerts/notifiers/http.ts';
import { Redactor, urlSecrets } from '../alerts/notifiers/redact.ts';
import { signWebhook } from '../alerts/notifiers/standard-webhooks.ts';
import type { DeliveryOutcome } from '../alerts/notifiers/types.ts';
import type { EvidenceKind } from '../../contract/events.ts';
import type { RollbackRecord } from '../store/repositories/actions.ts';

/** The body the CD system receives. */
export interface RollbackWebhookBody {
  type: 'rollback.requested';
  /** The changewatch rollback id (also `webhook-id`). */
  rollbackId: string;
  changeId: string;
  service: string;
  environment: string;
  /** The version to leave (the suspect change's version) and the one to return to. */
  fromVersion: string;
  toVersion: string;
  incidentId?: string;
  alertId: string;
  /** Why, in plain words. */
  reason: string;
  /** The attribution engine's evidence lines, strongest first. */
  evidence: string[];
  evidenceKinds: EvidenceKind[];
  confidence: number;
  /** The approving user or token name, or `policy` in automatic mode. */
  approvedBy: string;
  /** ISO-8601. */
  approvedAt: string;
}

/** Where and how to send. */
export interface RollbackWebhookTarget {
  url: string;
  /** `whsec_<base64 key>`. */
  secret: string;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
}

/** Sends one rollback request (`signal` aborts it); injectable for tests of failure handling. */
export type RollbackSender = (target: RollbackWebhookTarget, body: RollbackWebhookBody, signal?: AbortSignal) => Promise<DeliveryOutcome>;

/**
 * Posts one signed rollback request; never throws, and failure reasons never hold the URL's
 * secrets or the signing secret. `signal` aborts it (shutdown); `now` stamps the signature.
 */
export function sendRollbackWebhook(
  target: RollbackWebhookTarget,
  body: RollbackWebhookBody,
  signal?: AbortSignal,
  now: () => number = Date.now,
): Promise<DeliveryOutcome> {
  const serialized = JSON.stringify(body);
  const headers = signWebhook(target.secret, body.rollbackId, Math.floor(now() / 1000), serialized);
  return post(
    {
      url: target.url,
      body: serialized,
      headers,
      timeoutMs: target.timeoutMs ?? 10_000,
      ...(signal === undefined ? {} : { signal }),
      redactor: new Redactor([target.secret, ...urlSecrets(target.url)]),
    },
    now,
  );
}

/** When a rollback was approved (ISO-8601): by a human or, in automatic mode, by the policy. */
export function approvalTime(action: RollbackRecord): string {
  return action.details.approvedAt ?? action.updatedAt;
}

/** The CD webhook body for an approved rollback. */
export function rollbackWebhookBody(action: RollbackRecord): RollbackWebhookBody {
  const { details } = action;
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
    evidenceKinds: details.evidenceKinds,
    confidence: details.confidence ?? 0,
    approvedBy: action.decidedBy ?? 'policy',
    approvedAt: approvalTime(action),
  };
}
