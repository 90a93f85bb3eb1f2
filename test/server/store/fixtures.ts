/** Small builders for contract objects used by the store, notifier and delivery tests. */
import type { Alert } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { ChangeEvent } from '../../../contract/events.ts';

/** An alert with plausible values; override what the test is about. */
export function makeAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'alert-1',
    status: 'firing',
    severity: 'critical',
    service: 'checkout',
    environment: 'prod',
    metric: 'error_rate',
    startedAt: '2026-11-23T10:00:00.000Z',
    updatedAt: '2026-11-23T10:01:00.000Z',
    observed: 0.12,
    expected: 0.01,
    lower: 0,
    upper: 0.03,
    score: 0.97,
    detector: 'robust-zscore',
    explanation: 'checkout error rate is 12% (normally 1%) since 10:00, most likely deploy chg-42 (v2.4.0) by AI agent kiro.',
    suspects: [
      {
        changeId: 'chg-42',
        confidence: 0.86,
        evidence: ['error rate of v2.4.0 pods is 11x that of v2.3.9 pods', 'onset 40 s after the deploy'],
        change: {
          type: 'deploy',
          service: 'checkout',
          author: { type: 'ai_agent', name: 'kiro', agent: 'kiro' },
          version: 'v2.4.0',
          previousVersion: 'v2.3.9',
          timestamp: Date.parse('2026-11-23T09:59:20.000Z'),
        },
      },
    ],
    noChangeConfidence: 0.08,
    ...overrides,
  };
}

/** An incident with plausible values; override what the test is about. */
export function makeIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-1',
    groupKey: 'environment=prod,service=checkout',
    groupLabels: { environment: 'prod', service: 'checkout' },
    status: 'firing',
    severity: 'critical',
    title: 'checkout error_rate anomaly',
    service: 'checkout',
    environment: 'prod',
    alertIds: ['alert-1'],
    startedAt: '2026-11-23T10:00:00.000Z',
    updatedAt: '2026-11-23T10:01:00.000Z',
    ...overrides,
  };
}

/** A change event; override what the test is about. */
export function makeChange(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id: 'chg-42',
    type: 'deploy',
    service: 'checkout',
    environment: 'prod',
    timestamp: Date.parse('2026-11-23T09:59:20.000Z'),
    version: 'v2.4.0',
    previousVersion: 'v2.3.9',
    author: { type: 'ai_agent', name: 'kiro', agent: 'kiro' },
    ...overrides,
  };
}
