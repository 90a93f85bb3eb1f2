/**
 * The attribution scenario suite: short fleet histories, each with a known truth, covering the cases
 * an attribution engine gets wrong — a culprit on a dependency, decoy changes closer to the onset,
 * incidents no change caused, and quiet periods with none at all.
 */
import type { AuthorType } from '../../detectors/events.ts';
import { FleetSimulator, type FleetRecord, type IncidentTruth } from './fleet.ts';
import { Random } from './random.ts';
import { DEFAULT_FLEET, transitiveCallers } from './topology.ts';

/** The situations the suite covers. */
export const SCENARIO_KINDS = [
  'culprit_on_service',
  'culprit_on_dependency',
  'decoy_unrelated_closer',
  'decoy_benign_after',
  'dependency_failure',
  'traffic_surge',
  'quiet',
] as const;
/** One situation of the suite. */
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

/** How many of every ten-odd scenarios are of each kind (the suite cycles through this pattern). */
const KIND_PATTERN: readonly ScenarioKind[] = [
  'culprit_on_service',
  'culprit_on_dependency',
  'decoy_unrelated_closer',
  'decoy_benign_after',
  'dependency_failure',
  'quiet',
  'culprit_on_service',
  'culprit_on_dependency',
  'decoy_benign_after',
  'traffic_surge',
  'decoy_unrelated_closer',
  'quiet',
];

/** One scenario: the records to replay and what really happened. */
export interface Scenario {
  id: string;
  kind: ScenarioKind;
  seed: number;
  description: string;
  /** Event-time bounds of the records, epoch ms. */
  start: number;
  end: number;
  /** End of the warm-up: detectors have learned every series; alerts before it are not judged. */
  warmedUpAt: number;
  records: FleetRecord[];
  /** The injected incident, or null for a quiet period. */
  truth: IncidentTruth | null;
  /** Ids of the changes planted to mislead (closer to the onset, on the same service after the culprit, ...). */
  decoyChangeIds: string[];
}

const MINUTE = 60_000;
/** Long enough for detectors to learn each series before anything happens (calibrated detectors need hours). */
const WARMUP_MS = 120 * MINUTE;
const AFTER_INCIDENT_MS = 30 * MINUTE;
const QUIET_MS = 2 * 60 * MINUTE;
/** Culprits are somewhat more often AI-written than the background flow, as the industry reports. */
const CULPRIT_AUTHORS: Readonly<Record<AuthorType, number>> = { ai_agent: 0.45, ai_assisted: 0.3, human: 0.25 };

/** Builds one scenario of `kind`, fully determined by `seed`. */
export function buildScenario(kind: ScenarioKind, seed: number): Scenario {
  const random = new Random(seed ^ 0x5bd1e995);
  const day = Date.UTC(2026, 0, 1) + random.int(0, 300) * 24 * 60 * MINUTE;
  const start = day + random.int(0, 23) * 60 * MINUTE;
  const fleet = new FleetSimulator({ seed, start });
  const at = start + WARMUP_MS + random.int(0, 10) * MINUTE;
  const names = DEFAULT_FLEET.map((s) => s.name);
  const withCallers = names.filter((n) => transitiveCallers(DEFAULT_FLEET, n).length > 0);
  const unrelatedTo = (service: string) => {
    const related = new Set([service, ...transitiveCallers(DEFAULT_FLEET, service), ...dependenciesOf(service)]);
    return names.filter((n) => !related.has(n));
  };
  const culprit = (service: string) =>
    fleet.injectChangeIncident({ service, at, authorType: random.weighted(CULPRIT_AUTHORS), effect: { delayMs: random.uniform(0, 4 * MINUTE) } });
  /** Roughly when a detector will notice the culprit's effect. */
  const visibleFrom = (truth: IncidentTruth) => truth.effectStart + MINUTE;
  const decoys: string[] = [];
  let truth: IncidentTruth | null = null;
  let description: string;
  let end = at + AFTER_INCIDENT_MS;

  switch (kind) {
    case 'culprit_on_service': {
      const service = random.pick(names);
      truth = culprit(service);
      description = `a change on ${service} breaks it`;
      break;
    }
    case 'culprit_on_dependency': {
      const service = random.pick(withCallers);
      truth = culprit(service);
      const caller = random.pick(transitiveCallers(DEFAULT_FLEET, service));
      decoys.push(fleet.scheduleChange({ service: caller, at: random.uniform(at, visibleFrom(truth)) }));
      description = `a change on ${service} breaks it and its callers; ${caller} changed closer to the onset`;
      break;
    }
    case 'decoy_unrelated_closer': {
      // The gateway and checkout reach almost everything; pick a service that has an unrelated one.
      const service = random.pick(names.filter((n) => unrelatedTo(n).length > 0));
      truth = culprit(service);
      const elsewhere = random.pick(unrelatedTo(service));
      decoys.push(fleet.scheduleChange({ service: elsewhere, at: visibleFrom(truth) - random.uniform(0.3, 2) * MINUTE, type: 'deploy' }));
      description = `a change on ${service} breaks it; an unrelated deploy on ${elsewhere} lands closer to the onset`;
      break;
    }
    case 'decoy_benign_after': {
      const service = random.pick(names);
      truth = culprit(service);
      decoys.push(fleet.scheduleChange({ service, at: random.uniform(at + 20_000, visibleFrom(truth)), type: 'config' }));
      description = `a change on ${service} breaks it; a harmless config change on ${service} follows before the onset`;
      break;
    }
    case 'dependency_failure': {
      const service = random.pick(withCallers);
      truth = fleet.injectDependencyFailure({ service, at });
      const caller = random.pick(transitiveCallers(DEFAULT_FLEET, service));
      decoys.push(fleet.scheduleChange({ service: caller, at: at - random.uniform(1, 8) * MINUTE }));
      description = `${service} fails on its own (no change); ${caller} changed shortly before`;
      break;
    }
    case 'traffic_surge': {
      const front = random.pick(['web-frontend', 'mobile-bff']);
      truth = fleet.injectTrafficSurge({ service: front, at });
      decoys.push(fleet.scheduleChange({ service: random.pick(['search', 'catalog']), at: at - random.uniform(1, 8) * MINUTE }));
      description = `a traffic surge on ${front} saturates its weakest dependencies (no change)`;
      break;
    }
    case 'quiet':
      end = start + WARMUP_MS + QUIET_MS;
      description = 'two hours of ordinary changes and no incident';
      break;
  }
  return { id: `${kind}-${seed}`, kind, seed, description, start, end, warmedUpAt: start + WARMUP_MS, records: fleet.advance(end), truth, decoyChangeIds: decoys };
}

/** A fixed suite of `count` scenarios cycling through every kind; the same seed always gives the same suite. */
export function buildScenarioSuite(options: { seed: number; count: number }): Scenario[] {
  return Array.from({ length: options.count }, (_, i) => buildScenario(KIND_PATTERN[i % KIND_PATTERN.length]!, options.seed * 1000 + i));
}

function dependenciesOf(service: string): string[] {
  const found = new Set<string>();
  const queue = [service];
  while (queue.length) {
    for (const dep of DEFAULT_FLEET.find((s) => s.name === queue.shift())?.dependsOn ?? []) {
      if (!found.has(dep)) {
        found.add(dep);
        queue.push(dep);
      }
    }
  }
  return [...found];
}
