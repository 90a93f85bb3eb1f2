import { describe, expect, it } from 'vitest';
import { buildScenario, buildScenarioSuite, SCENARIO_KINDS } from '../../../server/sim/scenarios.ts';
import { DEFAULT_FLEET, transitiveCallers } from '../../../server/sim/topology.ts';

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
});
