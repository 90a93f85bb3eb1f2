/**
 * The attribution scenario suite: fleet histories, each with a known truth, covering the cases
 * an attribution engine gets wrong — a culprit on a dependency, decoy changes closer to the onset,
 * incidents no change caused, and quiet periods with none at all.
 *
 * Two sets of conditions: `fixed` (the original suite: 10 s points, two hours of history, the
 * fleet's default noise, every versioned service reporting per version, incident shapes drawn by
 * the fleet) and `randomized`, where each scenario's own seed also draws its sampling interval,
 * history length, noise, which services report per-version telemetry and the incident's shape
 * (step or ramp, size, duration); see `drawConditions`.
 */
import type { AuthorType } from '../../contract/events.ts';
import { FleetSimulator, type FleetRecord, type IncidentTruth } from './fleet.ts';
import { Random } from './random.ts';
import { DEFAULT_FLEET, transitiveCallers, type ServiceSpec } from './topology.ts';

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
  /** The conditions it was generated under (left out by hand-written scenarios). */
  conditions?: ScenarioConditions;
}

/** Which conditions a suite is generated under: the original fixed ones, or drawn per scenario. */
export type ConditionsMode = 'fixed' | 'randomized';

/** The measurement conditions and incident shape of one scenario. */
export interface ScenarioConditions {
  mode: ConditionsMode;
  /** Time between two points of every series. */
  cadenceMs: number;
  /** Telemetry before anything happens (the warm-up: alerts in it are not judged). */
  historyMs: number;
  /** The fleet's noise scale (FleetOptions.noise). */
  noise: number;
  /** Services whose telemetry carries `tags.version` (and whose deploys roll out gradually). */
  versioned: string[];
  /**
   * The incident's shape; in `fixed` mode the fleet draws it (delay 0–4 min, ramp 0.5–5 min, errors
   * +3–15 %, latency +80–300 %, 25–30 min) and these fields are null.
   */
  incident: IncidentShape | null;
}

/** How an incident develops (change-caused faults, dependency failures and surges alike). */
export interface IncidentShape {
  /** A step reaches full strength at once (ramp ≤ 30 s); a ramp takes minutes. */
  shape: 'step' | 'ramp';
  rampMs: number;
  /** From the change to its first visible effect (change-caused incidents only). */
  delayMs: number;
  /** From the start of the effect to the rollback or recovery. */
  durationMs: number;
  /** Added failure fraction for error_rate incidents. */
  errorMagnitude: number;
  /** Added relative latency for latency_p99 incidents (1 = doubled). */
  latencyMagnitude: number;
  /** Traffic multiple of a surge at full strength. */
  surgeMultiplier: number;
}

/** Sampling intervals the randomized suite draws from (the usual scrape and export periods). */
export const CADENCES_MS = [10_000, 30_000, 60_000, 120_000, 300_000] as const;
/** Bounds of the randomized history before the incident, drawn log-uniformly. */
export const HISTORY_RANGE_MS = [3_600_000, 3 * 24 * 3_600_000] as const;
/** Bounds of the randomized noise scale, drawn log-uniformly. */
export const NOISE_RANGE = [0.5, 3] as const;

const MINUTE = 60_000;
/** Long enough for detectors to learn each series before anything happens (calibrated detectors need hours). */
const WARMUP_MS = 120 * MINUTE;
const AFTER_INCIDENT_MS = 30 * MINUTE;
const QUIET_MS = 2 * 60 * MINUTE;
/** Culprits are somewhat more often AI-written than the background flow, as the industry reports. */
const CULPRIT_AUTHORS: Readonly<Record<AuthorType, number>> = { ai_agent: 0.45, ai_assisted: 0.3, human: 0.25 };

/** The conditions of the original suite: 10 s points, two hours of history, default noise, the default fleet's versioned services. */
export function fixedConditions(): ScenarioConditions {
  return { mode: 'fixed', cadenceMs: 10_000, historyMs: WARMUP_MS, noise: 1, versioned: DEFAULT_FLEET.filter((s) => s.versioned).map((s) => s.name), incident: null };
}

/**
 * Draws a scenario's conditions from its seed (a generator of its own, so the scenario's other
 * choices are drawn as in fixed mode): a sampling interval from CADENCES_MS, a history of 1 h to
 * 3 days and a noise scale of 0.5–3 (both log-uniform), a share of 0, ¼, ½, ¾ or all services
 * reporting per version, and an incident that is a step or a 2–20 min ramp (at most half its
 * duration), 15 min to 2 h long, errors +1–15 % or latency +30–300 % (log-uniform).
 */
export function drawConditions(seed: number): ScenarioConditions {
  const random = new Random(seed ^ 0x2c1b3c6d);
  const logUniform = (min: number, max: number) => Math.exp(random.uniform(Math.log(min), Math.log(max)));
  const cadenceMs = random.pick(CADENCES_MS);
  const historyMs = Math.round(logUniform(...HISTORY_RANGE_MS) / MINUTE) * MINUTE;
  const noise = Math.round(logUniform(...NOISE_RANGE) * 100) / 100;
  const versionedShare = random.pick([0, 0.25, 0.5, 0.75, 1]);
  const versioned = DEFAULT_FLEET.filter(() => random.chance(versionedShare)).map((s) => s.name);
  const durationMs = Math.round(logUniform(15 * MINUTE, 120 * MINUTE) / 1000) * 1000;
  const shape = random.chance(0.5) ? 'step' : 'ramp';
  const rampMs = Math.round(shape === 'step' ? random.uniform(0, 30_000) : Math.min(durationMs / 2, logUniform(2 * MINUTE, 20 * MINUTE)));
  return {
    mode: 'randomized',
    cadenceMs,
    historyMs,
    noise,
    versioned,
    incident: {
      shape,
      rampMs,
      delayMs: Math.round(random.uniform(0, 4 * MINUTE)),
      durationMs,
      errorMagnitude: logUniform(0.01, 0.15),
      latencyMagnitude: logUniform(0.3, 3),
      surgeMultiplier: random.uniform(2.5, 4),
    },
  };
}

/** Builds one scenario of `kind`, fully determined by `seed` (and the conditions mode, default fixed). */
export function buildScenario(kind: ScenarioKind, seed: number, mode: ConditionsMode = 'fixed'): Scenario {
  const conditions = mode === 'fixed' ? fixedConditions() : drawConditions(seed);
  if (kind === 'quiet') conditions.incident = null;
  const shape = conditions.incident;
  const random = new Random(seed ^ 0x5bd1e995);
  const day = Date.UTC(2026, 0, 1) + random.int(0, 300) * 24 * 60 * MINUTE;
  const start = day + random.int(0, 23) * 60 * MINUTE;
  const versioned = new Set(conditions.versioned);
  const services: readonly ServiceSpec[] = mode === 'fixed' ? DEFAULT_FLEET : DEFAULT_FLEET.map((s) => ({ ...s, versioned: versioned.has(s.name) }));
  const fleet = new FleetSimulator({ seed, start, cadenceMs: conditions.cadenceMs, noise: conditions.noise, fleet: services });
  const warmedUpAt = start + conditions.historyMs;
  const at = warmedUpAt + random.int(0, 10) * MINUTE;
  const names = DEFAULT_FLEET.map((s) => s.name);
  const withCallers = names.filter((n) => transitiveCallers(DEFAULT_FLEET, n).length > 0);
  const unrelatedTo = (service: string) => {
    const related = new Set([service, ...transitiveCallers(DEFAULT_FLEET, service), ...dependenciesOf(service)]);
    return names.filter((n) => !related.has(n));
  };
  const culprit = (service: string) => {
    const authorType = random.weighted(CULPRIT_AUTHORS);
    const delayMs = random.uniform(0, 4 * MINUTE);
    if (!shape) return fleet.injectChangeIncident({ service, at, authorType, effect: { delayMs } });
    const metric = random.pick(['error_rate', 'latency_p99'] as const);
    const magnitude = metric === 'error_rate' ? shape.errorMagnitude : shape.latencyMagnitude;
    return fleet.injectChangeIncident({ service, at, authorType, durationMs: shape.durationMs, effect: { metric, delayMs: shape.delayMs, rampMs: shape.rampMs, magnitude } });
  };
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
      if (shape) {
        const metric = random.pick(['error_rate', 'latency_p99'] as const);
        const magnitude = metric === 'error_rate' ? shape.errorMagnitude : shape.latencyMagnitude;
        truth = fleet.injectDependencyFailure({ service, at, metric, magnitude, rampMs: shape.rampMs, durationMs: shape.durationMs });
      } else truth = fleet.injectDependencyFailure({ service, at });
      const caller = random.pick(transitiveCallers(DEFAULT_FLEET, service));
      decoys.push(fleet.scheduleChange({ service: caller, at: at - random.uniform(1, 8) * MINUTE }));
      description = `${service} fails on its own (no change); ${caller} changed shortly before`;
      break;
    }
    case 'traffic_surge': {
      const front = random.pick(['web-frontend', 'mobile-bff']);
      truth = fleet.injectTrafficSurge(shape ? { service: front, at, rampMs: shape.rampMs, durationMs: shape.durationMs, multiplier: shape.surgeMultiplier } : { service: front, at });
      decoys.push(fleet.scheduleChange({ service: random.pick(['search', 'catalog']), at: at - random.uniform(1, 8) * MINUTE }));
      description = `a traffic surge on ${front} saturates its weakest dependencies (no change)`;
      break;
    }
    case 'quiet':
      end = warmedUpAt + QUIET_MS;
      description = 'two hours of ordinary changes and no incident';
      break;
  }
  // Randomized incidents are watched until they end (fixed ones, as always, for 30 min after the change).
  if (shape && truth) end = truth.end;
  if (mode === 'randomized') description += ` [${describeConditions(conditions)}]`;
  return { id: `${kind}-${seed}`, kind, seed, description, start, end, warmedUpAt, records: fleet.advance(end), truth, decoyChangeIds: decoys, conditions };
}

/** Options of a suite: its seed, its size and its conditions (default fixed). */
export interface SuiteOptions {
  seed: number;
  count: number;
  conditions?: ConditionsMode;
}

/** Kind and scenario seed of the `index`-th scenario of a suite (the suite cycles through every kind). */
export function suiteEntry(options: Pick<SuiteOptions, 'seed'>, index: number): { kind: ScenarioKind; seed: number } {
  return { kind: KIND_PATTERN[index % KIND_PATTERN.length]!, seed: options.seed * 1000 + index };
}

/** The `index`-th scenario of a suite, built on its own (to replay long suites one scenario at a time). */
export function buildSuiteScenario(options: SuiteOptions, index: number): Scenario {
  const { kind, seed } = suiteEntry(options, index);
  return buildScenario(kind, seed, options.conditions ?? 'fixed');
}

/** A suite of `count` scenarios cycling through every kind; the same options always give the same suite. */
export function buildScenarioSuite(options: SuiteOptions): Scenario[] {
  return Array.from({ length: options.count }, (_, i) => buildSuiteScenario(options, i));
}

/** One line of a scenario's conditions, e.g. "60 s points, 5.2 h history, noise ×1.4, 6/12 versioned, ramp 4.0 min, 38 min". */
export function describeConditions(c: ScenarioConditions): string {
  const history = c.historyMs >= 24 * 3_600_000 ? `${(c.historyMs / (24 * 3_600_000)).toFixed(1)} d` : `${(c.historyMs / 3_600_000).toFixed(1)} h`;
  const incident = c.incident ? `, ${c.incident.shape === 'step' ? 'step' : `ramp ${(c.incident.rampMs / MINUTE).toFixed(1)} min`}, ${(c.incident.durationMs / MINUTE).toFixed(0)} min` : '';
  return `${c.cadenceMs / 1000} s points, ${history} history, noise ×${c.noise}, ${c.versioned.length}/${DEFAULT_FLEET.length} versioned${incident}`;
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
