/**
 * Realistic alerts, changes and stats for dashboard tests, timed relative to a given "now".
 */
import type { ChangeEvent, Suspect } from '../../../contract/events.ts';
import type { Alert, ChangeStatsResponse, ServerStats } from '../../../contract/alert.ts';
import type { AutomationSnapshot, Freeze, RollbackView } from '../../../contract/automation.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { Silence } from '../../../web/src/lib/silences.ts';

const MINUTE = 60_000;

/** A change event `minutesAgo` before `now`, with overridable fields. */
export function makeChange(now: number, minutesAgo: number, overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id: `chg-${minutesAgo}`,
    type: 'deploy',
    service: 'checkout',
    environment: 'prod',
    timestamp: now - minutesAgo * MINUTE,
    version: 'v2.14.0',
    previousVersion: 'v2.13.2',
    author: { type: 'human', name: 'maria.k', reviewedBy: ['tom.b'] },
    summary: 'Bump payment client timeout handling',
    diff: { files: 4, linesAdded: 120, linesRemoved: 31 },
    ...overrides,
  };
}

/** A suspect pointing at `change`. */
export function suspectFor(change: ChangeEvent, confidence: number, evidence: string[]): Suspect {
  const { type, service, author, summary, version, previousVersion, timestamp } = change;
  return { changeId: change.id, confidence, evidence, change: { type, service, author, summary, version, previousVersion, timestamp } };
}

/** A firing alert that started `minutesAgo` before `now`, with overridable fields. */
export function makeAlert(now: number, minutesAgo: number, overrides: Partial<Alert> = {}): Alert {
  const startedAt = new Date(now - minutesAgo * MINUTE).toISOString();
  return {
    id: `alert-${minutesAgo}`,
    status: 'firing',
    severity: 'warning',
    service: 'checkout',
    environment: 'prod',
    metric: 'latency_p99_ms',
    startedAt,
    updatedAt: startedAt,
    observed: 840,
    expected: 210,
    lower: 160,
    upper: 290,
    score: 0.93,
    detector: 'robust-zscore',
    explanation: 'checkout latency_p99_ms is 4× its usual level since 03:12.',
    suspects: [],
    noChangeConfidence: 0.9,
    ...overrides,
  };
}

/** Server counters as the server reports them. */
export function makeStats(overrides: Partial<ServerStats> = {}): ServerStats {
  return { eventsProcessed: 1_284_553, deadLettered: 0, alertsFiring: 2, alertsAcknowledged: 0, kafkaConnected: true, ...overrides };
}

/** A `GET /api/v1/stats/changes` body covering the last week. */
export function makeChangeStats(now: number): ChangeStatsResponse {
  return {
    from: new Date(now - 7 * 24 * 60 * MINUTE).toISOString(),
    to: new Date(now).toISOString(),
    byAuthorType: {
      ai_agent: { changes: 48, linkedToIncident: 6, failureRate: 0.125 },
      ai_assisted: { changes: 73, linkedToIncident: 4, failureRate: 4 / 73 },
      human: { changes: 55, linkedToIncident: 2, failureRate: 2 / 55 },
    },
    byAgent: {
      'deploy-pilot': { changes: 31, linkedToIncident: 5, failureRate: 5 / 31 },
      'config-tuner': { changes: 17, linkedToIncident: 1, failureRate: 1 / 17 },
    },
  };
}

/** A rollback proposed `minutesAgo` before `now`, pending for 15 minutes, with overridable fields. */
export function makeRollback(now: number, minutesAgo: number, overrides: Partial<RollbackView> = {}): RollbackView {
  const createdAt = new Date(now - minutesAgo * MINUTE).toISOString();
  return {
    id: `rb-${minutesAgo}`,
    status: 'pending',
    service: 'checkout',
    changeId: 'chg-agent-deploy',
    incidentId: 'inc-checkout',
    alertId: 'alert-checkout-errors',
    anomalyService: 'checkout',
    environment: 'prod',
    fromVersion: 'v2.14.0',
    toVersion: 'v2.13.2',
    confidence: 0.91,
    changeType: 'deploy',
    author: { type: 'ai_agent', name: 'deploy-pilot', agent: 'deploy-pilot', reviewedBy: [] },
    summary: 'deploy chg-agent-deploy by AI agent deploy-pilot likely caused the anomaly on checkout (confidence 0.91; evidence: only the new version is affected; started right after the change)',
    evidence: ['Errors come from hosts running v2.14.0 (97% of 5xx)', 'Deployed to checkout 5 min before onset'],
    evidenceKinds: ['version_split', 'timing'],
    reason: 'proposed: waiting for an operator',
    requestedBy: 'policy',
    createdAt,
    updatedAt: createdAt,
    expiresAt: new Date(now - minutesAgo * MINUTE + 15 * MINUTE).toISOString(),
    ...overrides,
  };
}

/** A freeze of AI changes to checkout since `minutesAgo` before `now`. */
export function makeFreeze(now: number, minutesAgo: number, overrides: Partial<Freeze> = {}): Freeze {
  const since = new Date(now - minutesAgo * MINUTE);
  return {
    id: `frz-${minutesAgo}`,
    active: true,
    scope: 'service',
    service: 'checkout',
    agent: 'deploy-pilot',
    authorTypes: ['ai_agent'],
    changeId: 'chg-agent-deploy',
    changeType: 'deploy',
    incidentId: 'inc-checkout',
    alertId: 'alert-checkout-errors',
    confidence: 0.91,
    since: since.toISOString(),
    // As freezes stored before 2026-12-07 word it, with the API call that lifts it (the gate still quotes it to pipelines): the dashboard must not show it.
    reason: `AI-authored changes to checkout are frozen since ${since.toISOString().slice(11, 16)} UTC because deploy chg-agent-deploy by deploy-pilot likely caused incident inc-checkout (0.91); a human must lift the freeze: POST /api/v1/freezes/${overrides.id ?? `frz-${minutesAgo}`}/lift`,
    ...overrides,
  };
}

/** The automation snapshot: require-approval with a webhook, kill switch off, the given rollbacks and freezes. */
export function makeAutomation(overrides: Partial<AutomationSnapshot> = {}): AutomationSnapshot {
  return { mode: 'require-approval', canExecute: true, killSwitch: { engaged: false }, rollbacks: [], freezes: [], ...overrides };
}

/** A firing incident that started `minutesAgo` before `now`, with overridable fields. */
export function makeIncident(now: number, minutesAgo: number, overrides: Partial<Incident> = {}): Incident {
  const startedAt = new Date(now - minutesAgo * MINUTE).toISOString();
  return {
    id: `inc-${minutesAgo}`,
    groupKey: 'service=checkout',
    groupLabels: { service: 'checkout' },
    status: 'firing',
    severity: 'warning',
    title: 'checkout: error_ratio above normal',
    service: 'checkout',
    environment: 'prod',
    alertIds: [`alert-${minutesAgo}`],
    startedAt,
    updatedAt: startedAt,
    ...overrides,
  };
}

/** A silence of checkout in prod created `minutesAgo` before `now`, lasting `hours` from then, with overridable fields. */
export function makeSilence(now: number, minutesAgo: number, hours = 1, overrides: Partial<Silence> = {}): Silence {
  const createdAt = new Date(now - minutesAgo * MINUTE).toISOString();
  return {
    id: `sil_${minutesAgo}`,
    matchers: { service: ['checkout'], environment: ['prod'] },
    startsAt: createdAt,
    endsAt: new Date(now - minutesAgo * MINUTE + hours * 60 * MINUTE).toISOString(),
    createdBy: 'bob',
    comment: 'load test until 05:00',
    createdAt,
    ...overrides,
  };
}
