import { describe, expect, it } from 'vitest';
import { buildScenario, buildScenarioSuite, buildSuiteScenario, CADENCES_MS, drawConditions, HISTORY_RANGE_MS, NOISE_RANGE, SCENARIO_KINDS } from '../../../tooling/sim/scenarios.ts';
import { DEFAULT_FLEET, transitiveCallers } from '../../../tooling/sim/topology.ts';

const changesOf = (records: ReturnType<typeof buildScenario>['records']) => records.flatMap((r) => ('change' in r ? [r.change] : []));

describe('scenario suite', () => {
  it('covers every kind and is the same for the same seed', () => {
    const suite = buildScenarioSuite({ seed: 8, count: 12 });
    expect(new Set(suite.map((s) => s.kind))).toEqual(new Set(SCENARIO_KINDS));
    expect(buildScenarioSuite({ seed: 8, count: 12 }).map((s) => s.records.length)).toEqual(suite.map((s) => s.records.length));
  });

  it('plants the culprit, and decoys that fool the naive rule, where each kind says', () => {
    for (const seed of [1, 2, 3]) {
      const benign = buildScenario('decoy_benign_after', seed);
      const changes = changesOf(benign.records);
      const culprit = changes.find((c) => c.id === benign.truth!.causeChangeId)!;
      const decoy = changes.find((c) => c.id === benign.decoyChangeIds[0])!;
      expect(decoy).toMatchObject({ service: culprit.service, type: 'config' });
      expect(decoy.timestamp).toBeGreaterThan(culprit.timestamp);

      const unrelated = buildScenario('decoy_unrelated_closer', seed);
      const root = unrelated.truth!.service;
      const elsewhere = changesOf(unrelated.records).find((c) => c.id === unrelated.decoyChangeIds[0])!;
      expect(unrelated.truth!.impactedServices).not.toContain(elsewhere.service);
      expect(elsewhere.service).not.toBe(root);

      const dependency = buildScenario('culprit_on_dependency', seed);
      const callerDecoy = changesOf(dependency.records).find((c) => c.id === dependency.decoyChangeIds[0])!;
      expect(transitiveCallers(DEFAULT_FLEET, dependency.truth!.service)).toContain(callerDecoy.service);
    }
  });

  it('has no causing change for no-change incidents and no incident in quiet periods', () => {
    expect(buildScenario('dependency_failure', 4).truth).toMatchObject({ kind: 'dependency_failure', causeChangeId: null });
    expect(buildScenario('traffic_surge', 4).truth).toMatchObject({ kind: 'traffic_surge', causeChangeId: null });
    const quiet = buildScenario('quiet', 4);
    expect(quiet.truth).toBeNull();
    expect(quiet.end - quiet.warmedUpAt).toBe(2 * 3_600_000);
  });

  it('keeps the original fixed conditions unless asked for randomized ones', () => {
    const fixed = buildScenario('culprit_on_service', 5);
    expect(fixed.conditions).toMatchObject({ mode: 'fixed', cadenceMs: 10_000, historyMs: 2 * 3_600_000, noise: 1, incident: null });
    expect(fixed.conditions!.versioned).toEqual(DEFAULT_FLEET.filter((s) => s.versioned).map((s) => s.name));
    expect(buildSuiteScenario({ seed: 0, count: 6 }, 5).records).toEqual(buildScenario('quiet', 5).records);
  });
});

// Scenario seeds whose randomized conditions are cheap to build (coarse points, short histories).
const CHEAP = [31_000, 13_000, 42_000];
const pointsOf = (records: ReturnType<typeof buildScenario>['records']) => records.flatMap((r) => ('metric' in r ? [r.metric] : []));

describe('randomized conditions', () => {
  it('draws every condition from the scenario seed, within its documented range', () => {
    const drawn = Array.from({ length: 400 }, (_, i) => drawConditions(i * 7 + 1));
    expect(drawConditions(1234)).toEqual(drawConditions(1234));
    expect(new Set(drawn.map((c) => c.cadenceMs))).toEqual(new Set(CADENCES_MS));
    for (const c of drawn) {
      expect(c.mode).toBe('randomized');
      expect(c.historyMs).toBeGreaterThanOrEqual(HISTORY_RANGE_MS[0]);
      expect(c.historyMs).toBeLessThanOrEqual(HISTORY_RANGE_MS[1]);
      expect(c.noise).toBeGreaterThanOrEqual(NOISE_RANGE[0]);
      expect(c.noise).toBeLessThanOrEqual(NOISE_RANGE[1]);
      const shape = c.incident!;
      expect(shape.durationMs).toBeGreaterThanOrEqual(15 * 60_000);
      expect(shape.durationMs).toBeLessThanOrEqual(120 * 60_000);
      expect(shape.rampMs).toBeLessThanOrEqual(shape.shape === 'step' ? 30_000 : shape.durationMs / 2);
      expect(shape.errorMagnitude).toBeGreaterThanOrEqual(0.01);
      expect(shape.errorMagnitude).toBeLessThanOrEqual(0.15);
      expect(shape.latencyMagnitude).toBeGreaterThanOrEqual(0.3);
      expect(shape.latencyMagnitude).toBeLessThanOrEqual(3);
    }
    // Log-uniform: about as many histories under 8.5 h (the geometric middle of 1 h–3 d) as over.
    const short = drawn.filter((c) => c.historyMs < Math.sqrt(HISTORY_RANGE_MS[0] * HISTORY_RANGE_MS[1])).length;
    expect(short / drawn.length).toBeGreaterThan(0.4);
    expect(short / drawn.length).toBeLessThan(0.6);
    expect(drawn.some((c) => c.versioned.length === 0) && drawn.some((c) => c.versioned.length === DEFAULT_FLEET.length)).toBe(true);
    expect(new Set(drawn.map((c) => c.incident!.shape))).toEqual(new Set(['step', 'ramp']));
  });

  it('builds the scenario under its conditions: sampling interval, history, per-version telemetry and the incident shape', () => {
    for (const seed of CHEAP) {
      const scenario = buildScenario('culprit_on_service', seed, 'randomized');
      const c = scenario.conditions!;
      expect(c).toEqual(drawConditions(seed));
      expect(buildScenario('culprit_on_service', seed, 'randomized').records).toEqual(scenario.records);
      expect(scenario.warmedUpAt - scenario.start).toBe(c.historyMs);
      const points = pointsOf(scenario.records);
      const times = [...new Set(points.map((p) => p.timestamp))].sort((a, b) => a - b);
      expect(times[1]! - times[0]!).toBe(c.cadenceMs);
      expect(times[0]).toBe(scenario.start);
      expect(new Set(points.filter((p) => p.tags?.version).map((p) => p.service))).toEqual(new Set(c.versioned));
      const truth = scenario.truth!;
      expect(truth.end - truth.effectStart).toBe(c.incident!.durationMs);
      expect(scenario.end).toBe(truth.end);
      expect(scenario.description).toContain(`${c.cadenceMs / 1000} s points`);
    }
    const quiet = buildScenario('quiet', CHEAP[0]!, 'randomized');
    expect(quiet.conditions!.incident).toBeNull();
    expect(quiet.end - quiet.warmedUpAt).toBe(2 * 3_600_000);
  });

  it('gives incidents no change caused the drawn shape too, and keeps the decoys of each kind', () => {
    const seed = CHEAP[1]!;
    const shape = drawConditions(seed).incident!;
    const failure = buildScenario('dependency_failure', seed, 'randomized');
    expect(failure.truth).toMatchObject({ kind: 'dependency_failure', causeChangeId: null, end: failure.truth!.effectStart + shape.durationMs });
    const surge = buildScenario('traffic_surge', seed, 'randomized');
    expect(surge.truth).toMatchObject({ kind: 'traffic_surge', causeChangeId: null, end: surge.truth!.effectStart + shape.durationMs });
    const benign = buildScenario('decoy_benign_after', seed, 'randomized');
    const changes = changesOf(benign.records);
    const culprit = changes.find((ch) => ch.id === benign.truth!.causeChangeId)!;
    const decoy = changes.find((ch) => ch.id === benign.decoyChangeIds[0])!;
    expect(decoy).toMatchObject({ service: culprit.service, type: 'config' });
    expect(decoy.timestamp).toBeGreaterThan(culprit.timestamp);
  });
});
