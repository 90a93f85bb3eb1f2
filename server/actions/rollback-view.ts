/** Rollback actions as others see them: the view the API, the socket and the dashboard show, and the evidence the audit log keeps. */
import type { RollbackView } from '../../contract/automation.ts';
import type { RollbackRecord } from '../store/repositories/actions.ts';

/** A stored rollback action as the API, the socket and the dashboard show it. */
export function toRollbackView(action: RollbackRecord): RollbackView {
  const { details } = action;
  return {
    id: action.id,
    status: action.status,
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
    ...(details.author === undefined ? {} : { author: details.author }),
    ...(details.links === undefined ? {} : { links: details.links }),
    summary: details.summary,
    evidence: details.evidence,
    ...(details.evidenceAgainst === undefined ? {} : { evidenceAgainst: details.evidenceAgainst }),
    evidenceKinds: details.evidenceKinds,
    reason: action.reason,
    requestedBy: action.requestedBy,
    ...(action.decidedBy === undefined ? {} : { decidedBy: action.decidedBy }),
    createdAt: action.createdAt,
    updatedAt: action.updatedAt,
    ...(action.expiresAt === undefined ? {} : { expiresAt: action.expiresAt }),
  };
}

/** What the audit log keeps as the evidence of a rollback decision. */
export function rollbackEvidence(action: RollbackRecord): Record<string, unknown> {
  const { details } = action;
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
    evidenceAgainst: details.evidenceAgainst,
    evidenceKinds: details.evidenceKinds,
    reasons: details.reasons,
  };
}
