/** Alerts and suspects for the stage tests. */
import type { Suspect } from '../../../../contract/events.ts';
import type { Alert } from '../../../../contract/alert.ts';

/** A firing alert on checkout's latency; override anything. */
export function anAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'alrt-1',
    status: 'firing',
    severity: 'warning',
    service: 'checkout',
    environment: 'prod',
    metric: 'latency_p99',
    startedAt: '2026-03-02T10:00:00.000Z',
    updatedAt: '2026-03-02T10:00:00.000Z',
    observed: 500,
    expected: 100,
    lower: 80,
    upper: 120,
    score: 0.9,
    detector: 'test',
    explanation: 'checkout latency_p99 500 vs expected 100',
    suspects: [],
    noChangeConfidence: 1,
    ...overrides,
  };
}

/** A suspect change on `service` with `confidence`. */
export function aSuspect(changeId: string, service: string, confidence: number): Suspect {
  return {
    changeId,
    confidence,
    evidence: ['landed 20 s before the onset'],
    evidenceKinds: ['timing'],
    change: { type: 'deploy', service, author: { type: 'ai_agent', name: 'kiro', agent: 'kiro' }, version: 'v2', previousVersion: 'v1', timestamp: Date.parse('2026-03-02T09:59:40Z') },
  };
}
