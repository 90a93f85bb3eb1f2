import { describe, expect, it } from 'vitest';
import type { ScenarioScore } from '../../../tooling/sim/scoring.ts';
import { breakdown, combineSeeds, headline, summarize, type HeadlineFigures } from '../../../tooling/sim/summary.ts';

function score(truth: ScenarioScore['truth'], fields: Partial<ScenarioScore> = {}): ScenarioScore {
  return {
    scenarioId: 's', kind: truth === 'quiet' ? 'quiet' : truth === 'change' ? 'culprit_on_service' : 'dependency_failure', truth, detected: false, detectionDelayMs: null, primary: null,
    top1: false, top3: false, baselineTop1: false, falseAttribution: false, alerts: [], predictions: [], falseAlarms: 0, quietHours: 0, ...fields,
  };
}
const verdict = (top1: boolean, falseAttribution = false) => ({ alertId: 'a', topChanges: 0, topReversals: 0, top1, top3: top1, baselineTop1: false, falseAttribution });
const figures = (f: Partial<HeadlineFigures>): HeadlineFigures => ({
  detected: 1, top1: 1, top1PerIncident: 1, top3: 1, baselineTop1: 0.2, falseAttribution: 0, falseAttributionPerIncident: 0, medianDelaySec: 30, falseAlarmsPerHour: 0, ...f,
});

describe('headline figures over seeds', () => {
  it('reads a seed\'s figures off its summary, NaN where it had nothing to judge', () => {
    const scores = [
      score('change', { detected: true, detectionDelayMs: 20_000, top1: true, top3: true, alerts: [verdict(true), verdict(false)] }),
      score('change'),
      score('quiet', { falseAlarms: 1, quietHours: 2 }),
    ];
    expect(headline(summarize(scores))).toEqual({
      detected: 0.5, top1: 0.5, top1PerIncident: 1, top3: 0.5, baselineTop1: 0, falseAttribution: 0, falseAttributionPerIncident: NaN, medianDelaySec: 20, falseAlarmsPerHour: 0.5,
    });
    expect(headline(summarize([score('change')]))).toMatchObject({ detected: 0, top1: NaN, top1PerIncident: NaN, falseAlarmsPerHour: NaN });
  });

  it('means every figure over the seeds that have it, and keeps the worst seed of each in its bad direction', () => {
    const { mean, worst } = combineSeeds([
      figures({ detected: 1, top1: 0.9, falseAttribution: 0.02, falseAlarmsPerHour: 0.1, medianDelaySec: 20, falseAttributionPerIncident: NaN }),
      figures({ detected: 0.9, top1: 0.7, falseAttribution: 0.06, falseAlarmsPerHour: 0, medianDelaySec: 40, falseAttributionPerIncident: 0.5 }),
    ]);
    expect(mean.detected).toBeCloseTo(0.95);
    expect(mean.top1).toBeCloseTo(0.8);
    expect(mean.falseAttribution).toBeCloseTo(0.04);
    expect(mean.falseAttributionPerIncident).toBe(0.5);
    expect(mean.baselineTop1).toBeCloseTo(0.2);
    expect(worst).toEqual({ detected: 0.9, top1: 0.7, top1PerIncident: 1, top3: 1, falseAttribution: 0.06, falseAttributionPerIncident: 0.5, medianDelaySec: 40, falseAlarmsPerHour: 0.1 });
  });
});

describe('breakdown by condition', () => {
  it('sums up each bucket in the given order, drops empty ones and leaves out what the bucket function rejects', () => {
    const rows = [
      { score: score('change', { detected: true, detectionDelayMs: 10_000, top1: true, alerts: [verdict(true)] }), of: 10 },
      { score: score('change'), of: 10 },
      { score: score('no_change', { detected: true, alerts: [verdict(false, true), verdict(false)] }), of: 300 },
      { score: score('quiet', { falseAlarms: 1, quietHours: 2 }), of: 300 },
      { score: score('quiet', { quietHours: 2 }), of: 60 },
    ];
    const table = breakdown(rows, (cadence) => (cadence === 60 ? null : `${cadence} s`), ['300 s', '30 s', '10 s']);
    expect(table.map((r) => r.bucket)).toEqual(['300 s', '10 s']);
    expect(table[0]).toMatchObject({ scenarios: 2, changeInjected: 0, noChangeAlerts: 2, falseAttribution: 0.5, quietHours: 2, falseAlarmsPerHour: 0.5 });
    expect(table[0]!.top1PerIncident).toBeNaN();
    expect(table[1]).toMatchObject({ scenarios: 2, changeInjected: 2, changeDetected: 1, top1PerIncident: 1, top1PerAlert: 1, medianDelaySec: 10 });
    expect(table[1]!.falseAlarmsPerHour).toBeNaN();
    expect(table[1]!.falseAttribution).toBeNaN();
  });
});
