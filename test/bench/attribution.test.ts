/**
 * Attribution quality over scenario seeds other than the benchmark's (42), through the replay path:
 * the engine must beat the naive rule on every seed, rarely blame a change for an incident no change
 * caused, and its high confidences must hold up.
 */
import { describe, expect, it } from 'vitest';
import { replayRecords } from '../../server/pipeline/replay.ts';
import { buildScenarioSuite } from '../../server/sim/scenarios.ts';
import { scoreScenario, type ScenarioScore } from '../../server/sim/scoring.ts';
import { summarize } from '../../server/sim/summary.ts';

// Several passes through every scenario kind per seed; seed 23 is a hard one (culprits that are config changes, followed by decoys).
const SEEDS = [3, 11, 23];
const scoresBySeed = new Map<number, ScenarioScore[]>();

function scoresOf(seed: number): ScenarioScore[] {
  let scores = scoresBySeed.get(seed);
  if (!scores) scoresBySeed.set(seed, (scores = buildScenarioSuite({ seed, count: 32 }).map((scenario) => scoreScenario(scenario, replayRecords(scenario.records)))));
  return scores;
}

describe.each(SEEDS)('scenario seed %i', (seed) => {
  it('beats "latest change on the alerted service" and rarely blames a change for a no-change incident', { timeout: 180_000 }, () => {
    const summary = summarize(scoresOf(seed));
    expect(summary.perAlert.judged).toBeGreaterThan(15);
    expect(summary.perAlert.top1).toBeGreaterThan(summary.perAlert.baselineTop1);
    expect(summary.perAlert.top3).toBeGreaterThanOrEqual(0.8);
    expect(summary.falseAttributionPerAlert).toBeLessThanOrEqual(0.15);
    // Updates may change the top suspect as evidence firms up, but rarely back and forth.
    expect(summary.topReversalsPerAlert).toBeLessThanOrEqual(0.1);
  });
});

// One seed holds some twenty judged alerts, so a margin is only meaningful over the seeds together.
describe('all scenario seeds together', () => {
  it('beats the naive rule by a wide margin, and its high confidences hold up', { timeout: 300_000 }, () => {
    const scores = SEEDS.flatMap(scoresOf);
    const summary = summarize(scores);
    expect(summary.perAlert.top1).toBeGreaterThanOrEqual(summary.perAlert.baselineTop1 + 0.2);
    // Calibration: suspects given 0.8 or more must be the real cause most of the time.
    const confident = scores.flatMap((s) => s.predictions).filter((p) => p.confidence >= 0.8);
    expect(confident.length).toBeGreaterThanOrEqual(10);
    expect(confident.filter((p) => p.correct).length / confident.length).toBeGreaterThanOrEqual(0.7);
  });
});
