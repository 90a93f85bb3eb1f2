import { describe, expect, it } from 'vitest';
import type { ChangeEvent, Suspect } from '../../../contract/events.ts';
import type { Alert } from '../../../contract/alert.ts';
import type { IncidentTruth } from '../../../tooling/sim/fleet.ts';
import type { Scenario } from '../../../tooling/sim/scenarios.ts';
import { scoreScenario } from '../../../tooling/sim/scoring.ts';
import { summarize } from '../../../tooling/sim/summary.ts';

const T0 = Date.UTC(2026, 2, 1, 12);
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

function change(id: string, service: string, at: number): ChangeEvent {
  return { id, type: 'deploy', service, environment: 'prod', timestamp: at, author: { type: 'human', name: 'a' } };
}

function suspect(changeId: string, confidence: number): Suspect {
  return { changeId, confidence, evidence: [], change: { type: 'deploy', service: 'x', author: { type: 'human', name: 'a' }, timestamp: 0 } };
}

function alert(id: string, service: string, startedAt: number, updatedAt: number, suspects: Suspect[], extra: Partial<Alert> = {}): Alert {
  return {
    id, status: 'firing', severity: 'warning', service, environment: 'prod', metric: 'error_rate', startedAt: iso(startedAt), updatedAt: iso(updatedAt),
    observed: 0.2, expected: 0.01, lower: 0, upper: 0.02, score: 0.8, detector: 'test', explanation: '', suspects, noChangeConfidence: 0, ...extra,
  };
}

function scenario(truth: IncidentTruth | null, changes: ChangeEvent[]): Scenario {
  return {
    id: 's', kind: truth ? 'culprit_on_dependency' : 'quiet', seed: 1, description: '', start: T0 - 120 * MINUTE, end: T0 + 60 * MINUTE, warmedUpAt: T0 - 60 * MINUTE,
    records: changes.map((c) => ({ change: c })), truth, decoyChangeIds: [],
  };
}

const truth: IncidentTruth = { id: 'inc', kind: 'change', service: 'payments', metric: 'error_rate', causeChangeId: 'culprit', effectStart: T0, end: T0 + 30 * MINUTE, impactedServices: ['payments', 'checkout'] };
const changes = [change('culprit', 'payments', T0 - 5 * MINUTE), change('caller-change', 'checkout', T0 - MINUTE)];

describe('scoreScenario', () => {
  it('judges every alert of an incident on its last verdict before the incident ended, against the naive rule', () => {
    const alerts = [
      alert('a1', 'payments', T0 + 20_000, T0 + 20_000, [suspect('caller-change', 0.4)]),
      alert('a1', 'payments', T0 + 20_000, T0 + 2 * MINUTE, [suspect('culprit', 0.9), suspect('caller-change', 0.05)]),
      // After the incident: not what on-call saw while it mattered.
      alert('a1', 'payments', T0 + 20_000, T0 + 40 * MINUTE, [suspect('caller-change', 0.9)]),
      alert('a2', 'checkout', T0 + MINUTE, T0 + 3 * MINUTE, [suspect('culprit', 0.7)]),
      // Wrong direction, wrong service, before the incident: not the incident's alerts.
      alert('dip', 'payments', T0 + MINUTE, T0 + MINUTE, [suspect('x', 0.9)], { observed: 0.001, expected: 0.01 }),
      alert('elsewhere', 'search', T0 + MINUTE, T0 + MINUTE, [suspect('x', 0.9)]),
      alert('early', 'payments', T0 - 10 * MINUTE, T0 - 10 * MINUTE, [suspect('x', 0.9)]),
    ];
    const score = scoreScenario(scenario(truth, changes), alerts);
    expect(score).toMatchObject({ truth: 'change', detected: true, detectionDelayMs: 20_000, top1: true, top3: true, baselineTop1: true, falseAttribution: false });
    expect(score.alerts.map((a) => [a.alertId, a.top1, a.baselineTop1, a.topChanges])).toEqual([
      ['a1', true, true, 1],
      ['a2', true, false, 0],
    ]);
    expect(score.predictions).toEqual([
      { confidence: 0.9, correct: true },
      { confidence: 0.05, correct: false },
      { confidence: 0.7, correct: true },
    ]);
  });

  it('counts a confident suspect on a no-change incident as a false attribution, and alerts on quiet periods as false alarms', () => {
    const noChange: IncidentTruth = { ...truth, kind: 'dependency_failure', causeChangeId: null };
    const score = scoreScenario(scenario(noChange, changes), [alert('a', 'payments', T0 + MINUTE, T0 + MINUTE, [suspect('culprit', 0.5)])]);
    expect(score).toMatchObject({ truth: 'no_change', falseAttribution: true });
    const quiet = scoreScenario(scenario(null, []), [alert('q1', 'api', T0, T0, []), alert('warmup', 'api', T0 - 90 * MINUTE, T0 - 90 * MINUTE, [])]);
    expect(quiet).toMatchObject({ truth: 'quiet', falseAlarms: 1, quietHours: 2 });
    const summary = summarize([score, quiet]);
    expect(summary.falseAttribution).toBe(1);
    expect(summary.falseAlarmsPerHour).toBe(0.5);
  });

  it('counts a return to an earlier top suspect as a reversal', () => {
    const flipping = ['culprit', 'caller-change', 'culprit'].map((id, i) => alert('f', 'payments', T0 + 10_000, T0 + 10_000 + i * MINUTE, [suspect(id, 0.5)]));
    const [verdict] = scoreScenario(scenario(truth, changes), flipping).alerts;
    expect(verdict).toMatchObject({ topChanges: 2, topReversals: 1 });
  });
});
