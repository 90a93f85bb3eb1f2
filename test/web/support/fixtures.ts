/**
 * Realistic alerts, changes and stats for dashboard tests, timed relative to a given "now".
 */
import type { ChangeEvent, Suspect } from '../../../detectors/events.ts';
import type { Alert, ChangeStatsResponse, ServerStats } from '../../../server/contract/alert.ts';

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
  return { eventsProcessed: 1_284_553, deadLettered: 0, alertsFiring: 2, kafkaConnected: true, ...overrides };
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
