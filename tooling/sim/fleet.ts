/**
 * A simulated production fleet: a dozen services with dependencies, diurnal traffic and noise, a
 * steady flow of changes by AI agents, AI-assisted humans and humans, gradual rollouts with
 * version-tagged telemetry, and injected incidents whose ground truth is known.
 *
 * Everything is a pure function of the seed and event time, so the live demo (which calls
 * `advance` on a wall-clock timer) and the attribution benchmark (which calls it once) see the same
 * physics.
 *
 * @example
 * ```ts
 * const fleet = new FleetSimulator({ seed: 7, start: Date.UTC(2026, 0, 1, 12) });
 * fleet.injectChangeIncident({ service: 'payments', at: fleet.start + 30 * 60_000 });
 * const records = fleet.advance(fleet.start + 60 * 60_000); // catalog, changes and telemetry in event-time order
 * fleet.incidents(); // what really happened
 * ```
 */
import type { AuthorType, ChangeAuthor, ChangeEvent, ChangeType, ServiceEntry, TelemetryPoint } from '../../contract/events.ts';
import { AUTHOR_TYPE_WEIGHTS, CHANGE_TYPE_WEIGHTS, authorChange, authorOf } from './authoring.ts';
import { Random } from './random.ts';
import { DEFAULT_FLEET, transitiveCallers, type ServiceSpec } from './topology.ts';

/** One replay/wire record: a change, a telemetry point or a catalog entry. */
export type FleetRecord = { change: ChangeEvent } | { metric: TelemetryPoint } | { service: ServiceEntry };

/** Options of the fleet simulator. */
export interface FleetOptions {
  /** Seed of every random choice. */
  seed: number;
  /** Event time of the first tick, epoch ms. */
  start: number;
  /** Time between two points of a series, default 10 s. */
  cadenceMs: number;
  /** Environment of every change, default "prod". */
  environment: string;
  /** Mean gap between two background (harmless) changes across the fleet, default 6 min; 0 disables them. */
  meanChangeIntervalMs: number;
  /** Mean gap between randomly injected incidents, default 0 (none; scenarios inject their own). */
  incidentEveryMs: number;
  /** Event time before which no random incident is injected (default `start`): a quiet history to learn from. */
  incidentsFrom?: number;
  /** How long a deploy of a versioned service takes to shift all traffic to the new version, default 8 min. */
  rolloutMs: number;
  /** Delay before a dependency's trouble shows in its callers, per hop, default 40 s. */
  propagationLagMs: number;
  /** Share of a dependency's excess errors and latency its callers see, default 0.5. */
  propagation: number;
  /** The services, default the dozen of DEFAULT_FLEET. */
  fleet: readonly ServiceSpec[];
  /**
   * Scale of the point-to-point noise, default 1: multiplies the relative jitter of traffic (2 %) and
   * latency (4 %, 5 % per version), and error counts scatter `max(1, noise)` times as much as a
   * binomial count would (overdispersion; never less than binomial).
   */
  noise: number;
}

/** Defaults of FleetOptions (seed and start have none). */
export const FLEET_DEFAULTS: Omit<FleetOptions, 'seed' | 'start'> = {
  cadenceMs: 10_000,
  environment: 'prod',
  meanChangeIntervalMs: 6 * 60_000,
  incidentEveryMs: 0,
  rolloutMs: 8 * 60_000,
  propagationLagMs: 40_000,
  propagation: 0.5,
  fleet: DEFAULT_FLEET,
  noise: 1,
};

/** Metrics a fault can degrade. */
export type FaultMetric = 'error_rate' | 'latency_p99';

/** What caused an injected incident. */
export type IncidentKind = 'change' | 'dependency_failure' | 'traffic_surge';

/** Ground truth of one injected incident. */
export interface IncidentTruth {
  id: string;
  kind: IncidentKind;
  /** The service where the trouble starts (the changed service, the failing dependency, the surging front end). */
  service: string;
  metric: FaultMetric | 'request_rate';
  /** The change that caused it, or null when no change did. */
  causeChangeId: string | null;
  /** Event time when the metric starts to move, epoch ms. */
  effectStart: number;
  /** Event time when the trouble is over, epoch ms. */
  end: number;
  /** The root service and every service whose metrics the trouble reaches. */
  impactedServices: string[];
}

/** How a change degrades its service: after a delay the fault ramps up, and it lasts until rolled back. */
export interface ChangeEffect {
  metric: FaultMetric;
  /** From the change to the first visible effect. */
  delayMs: number;
  /** From the first visible effect to full strength. */
  rampMs: number;
  /** Added failure fraction for error_rate, added relative latency for latency_p99 (1 = doubled). */
  magnitude: number;
  /** Event time the fault stops (its rollback), default never. */
  endsAt?: number;
}

/** A change to schedule; anything left out is written by the simulator. */
export interface ChangeSpec {
  service: string;
  at: number;
  type?: ChangeType;
  authorType?: AuthorType;
  author?: ChangeAuthor;
  summary?: string;
  /** Leave out for a harmless change. */
  effect?: ChangeEffect;
}

/** A rollback a CD system performs now, on request (the demo's stand-in CD system asks for it). */
export interface RollbackSpec {
  service: string;
  /** The version to return to: one the service has served before. */
  toVersion: string;
  /** Event time of the rollback, epoch ms (no earlier than records already returned by `advance`). */
  at: number;
  author: ChangeAuthor;
  summary: string;
}

interface Fault {
  service: string;
  metric: FaultMetric;
  start: number;
  rampMs: number;
  end: number;
  magnitude: number;
  /** Only traffic served by this release or a later one is hit (later releases carry the bug until the rollback); undefined hits every version. */
  fromRelease?: number;
  /** The change that shipped it, when one did. */
  changeId?: string;
}

interface Surge {
  service: string;
  start: number;
  rampMs: number;
  end: number;
  /** Traffic multiple at full strength. */
  multiplier: number;
}

interface ServiceState {
  spec: ServiceSpec;
  release: number;
  /** Release number of every version seen, to tell which versions carry a fault. */
  releases: Map<string, number>;
  version: string;
  previousVersion: string | undefined;
  /** While a deploy rolls out, the share of traffic on `to` grows from a canary's to 1 over `durationMs`. */
  rollout: { from: string; to: string; start: number; durationMs: number } | undefined;
}

interface PendingChange {
  id: string;
  spec: ChangeSpec;
  /** For an injected incident's scheduled rollback: the change it undoes (cancelled when a rollback on request undoes it first). */
  undoes?: string;
  /** For a rollback on request: the version it returns to. */
  toVersion?: string;
}

interface Excess {
  error: number;
  latency: number;
}

const HOUR_MS = 3_600_000;
/** Share of traffic a new version serves while it is a canary. */
const CANARY_SHARE = 0.2;

/** Simulates a fleet in event time; see the module comment for an example. */
export class FleetSimulator {
  /** Event time of the first tick. */
  readonly start: number;
  private readonly options: FleetOptions;
  private readonly random: Random;
  private readonly services = new Map<string, ServiceState>();
  private readonly callers = new Map<string, string[]>();
  private readonly faults: Fault[] = [];
  private readonly surges: Surge[] = [];
  private readonly pending: PendingChange[] = [];
  private readonly truth: IncidentTruth[] = [];
  private nextTick: number;
  private nextBackgroundChange: number;
  private nextRandomIncident: number;
  private catalogSent = false;
  private changeCount = 0;
  private incidentCount = 0;

  /** Creates a fleet; `seed` and `start` are required, everything else has a default. */
  constructor(options: Partial<FleetOptions> & Pick<FleetOptions, 'seed' | 'start'>) {
    this.options = { ...FLEET_DEFAULTS, ...options };
    this.start = this.options.start;
    this.random = new Random(this.options.seed);
    for (const spec of this.options.fleet) {
      const major = this.random.int(1, 4);
      const minor = this.random.int(0, 30);
      const version = `v${major}.${minor}.0`;
      this.services.set(spec.name, { spec, release: 0, releases: new Map([[version, 0]]), version, previousVersion: undefined, rollout: undefined });
      this.callers.set(spec.name, this.options.fleet.filter((s) => s.dependsOn.includes(spec.name)).map((s) => s.name));
    }
    this.nextTick = this.start;
    const { meanChangeIntervalMs, incidentEveryMs } = this.options;
    this.nextBackgroundChange = meanChangeIntervalMs > 0 ? this.start + this.random.exponential(meanChangeIntervalMs) : Infinity;
    this.nextRandomIncident = incidentEveryMs > 0 ? Math.max(this.start, this.options.incidentsFrom ?? this.start) + incidentEveryMs : Infinity;
  }

  /** The service catalog (who calls whom). */
  catalog(): ServiceEntry[] {
    return this.options.fleet.map((s) => ({ name: s.name, dependsOn: [...s.dependsOn] }));
  }

  /** Ground truth of every incident injected so far. */
  incidents(): IncidentTruth[] {
    return this.truth.map((t) => ({ ...t, impactedServices: [...t.impactedServices] }));
  }

  /** The versions of `service` serving traffic at the last emitted tick (two while a deploy rolls out); empty for an unknown service. */
  versionsServing(service: string): string[] {
    const state = this.services.get(service);
    if (!state) return [];
    return state.rollout ? [state.rollout.from, state.rollout.to] : [state.version];
  }

  /** Schedules a change (harmless unless it has an effect) and returns its id. */
  scheduleChange(spec: ChangeSpec): string {
    return this.schedule({ id: this.nextChangeId(), spec });
  }

  /**
   * Schedules a rollback of `service` to `toVersion` at `at` and returns its change id. When it is
   * emitted, the version serves all the service's traffic at once (a rollout in progress stops), the
   * faults shipped by later releases end, and the rollbacks scheduled for their incidents are
   * dropped (the incident ends at `at`). Throws when the service is unknown, the version was never
   * served, or it is already the only version serving.
   */
  rollBack(spec: RollbackSpec): string {
    const state = this.services.get(spec.service);
    if (!state) throw new Error(`no service named ${spec.service} in the fleet`);
    if (!state.releases.has(spec.toVersion)) throw new Error(`${spec.service} never ran ${spec.toVersion} (it has run ${[...state.releases.keys()].join(', ')})`);
    if (!state.rollout && state.version === spec.toVersion) throw new Error(`${spec.service} already runs ${spec.toVersion} only`);
    return this.schedule({
      id: this.nextChangeId(),
      spec: { service: spec.service, at: spec.at, type: 'rollback', author: spec.author, summary: spec.summary },
      toVersion: spec.toVersion,
    });
  }

  private schedule(change: PendingChange): string {
    this.pending.push(change);
    this.pending.sort((a, b) => a.spec.at - b.spec.at);
    return change.id;
  }

  /** Injects an incident caused by a change at `at` on `service`; it is rolled back `durationMs` after its effect starts. */
  injectChangeIncident(options: {
    service: string;
    at: number;
    effect?: Partial<ChangeEffect>;
    durationMs?: number;
    type?: ChangeType;
    authorType?: AuthorType;
  }): IncidentTruth {
    const metric = options.effect?.metric ?? this.random.pick(['error_rate', 'latency_p99'] as const);
    const effect: ChangeEffect = {
      metric,
      delayMs: this.random.uniform(0, 4 * 60_000),
      rampMs: this.random.uniform(30_000, 5 * 60_000),
      magnitude: metric === 'error_rate' ? this.random.uniform(0.03, 0.15) : this.random.uniform(0.8, 3),
      ...options.effect,
    };
    const type = options.type ?? this.random.weighted({ deploy: 0.7, config: 0.15, feature_flag: 0.15 });
    const effectStart = Math.round(options.at + effect.delayMs);
    const end = Math.round(effectStart + (options.durationMs ?? 30 * 60_000));
    const changeId = this.scheduleChange({ service: options.service, at: options.at, type, authorType: options.authorType, effect: { ...effect, endsAt: end } });
    this.schedule({ id: this.nextChangeId(), spec: { service: options.service, at: end, type: 'rollback', authorType: 'human', summary: `Roll back ${changeId}` }, undoes: changeId });
    return this.record({ kind: 'change', service: options.service, metric, causeChangeId: changeId, effectStart, end });
  }

  /** Injects a dependency failing on its own (no change involved). */
  injectDependencyFailure(options: { service: string; at: number; metric?: FaultMetric; rampMs?: number; durationMs?: number; magnitude?: number }): IncidentTruth {
    const metric = options.metric ?? this.random.pick(['error_rate', 'latency_p99'] as const);
    const magnitude = options.magnitude ?? (metric === 'error_rate' ? this.random.uniform(0.03, 0.15) : this.random.uniform(0.8, 3));
    const end = Math.round(options.at + (options.durationMs ?? 25 * 60_000));
    this.faults.push({ service: options.service, metric, start: options.at, rampMs: options.rampMs ?? this.random.uniform(30_000, 4 * 60_000), end, magnitude });
    return this.record({ kind: 'dependency_failure', service: options.service, metric, causeChangeId: null, effectStart: options.at, end });
  }

  /** Injects a traffic surge on a front-end service; it flows to every dependency and saturates the weakest. */
  injectTrafficSurge(options: { service: string; at: number; multiplier?: number; rampMs?: number; durationMs?: number }): IncidentTruth {
    const end = Math.round(options.at + (options.durationMs ?? 25 * 60_000));
    const multiplier = options.multiplier ?? this.random.uniform(2.5, 4);
    this.surges.push({ service: options.service, start: options.at, rampMs: options.rampMs ?? this.random.uniform(60_000, 4 * 60_000), end, multiplier });
    return this.record({ kind: 'traffic_surge', service: options.service, metric: 'request_rate', causeChangeId: null, effectStart: options.at, end });
  }

  /** Every record with event time ≤ `untilMs` not returned before, in event-time order. */
  advance(untilMs: number): FleetRecord[] {
    const out: FleetRecord[] = [];
    if (!this.catalogSent) {
      this.catalogSent = true;
      for (const service of this.catalog()) out.push({ service });
    }
    while (this.nextTick <= untilMs) {
      this.emitChangesUpTo(this.nextTick, out);
      this.emitPoints(this.nextTick, out);
      this.nextTick += this.options.cadenceMs;
    }
    this.emitChangesUpTo(untilMs, out);
    return out;
  }

  private record(fields: Omit<IncidentTruth, 'id' | 'impactedServices'>): IncidentTruth {
    const truth: IncidentTruth = {
      id: `inc-${(this.options.seed >>> 0).toString(36)}-${++this.incidentCount}`,
      ...fields,
      impactedServices: [fields.service, ...this.impactedBy(fields.service, fields.kind)],
    };
    this.truth.push(truth);
    return truth;
  }

  /** Faults travel up to callers; a surge travels down to dependencies and hurts the ones it saturates, then their callers. */
  private impactedBy(service: string, kind: IncidentKind): string[] {
    if (kind !== 'traffic_surge') return transitiveCallers(this.options.fleet, service);
    const downstream = new Set<string>();
    const queue = [service];
    while (queue.length) {
      for (const dep of this.services.get(queue.shift()!)?.spec.dependsOn ?? []) {
        if (!downstream.has(dep)) {
          downstream.add(dep);
          queue.push(dep);
        }
      }
    }
    return [...new Set([...downstream, ...[...downstream].flatMap((d) => transitiveCallers(this.options.fleet, d))])].filter((s) => s !== service);
  }

  private nextChangeId(): string {
    return `chg-${(this.options.seed >>> 0).toString(36)}-${++this.changeCount}`;
  }

  private emitChangesUpTo(time: number, out: FleetRecord[]): void {
    for (;;) {
      const scheduled = this.pending[0]?.spec.at ?? Infinity;
      const next = Math.min(scheduled, this.nextBackgroundChange, this.nextRandomIncident);
      if (next > time) return;
      if (next === this.nextRandomIncident) {
        this.injectRandomIncident(next);
        this.nextRandomIncident += this.random.exponential(this.options.incidentEveryMs);
      } else if (next === scheduled) {
        const { id, spec, toVersion } = this.pending.shift()!;
        out.push({ change: this.apply(id, spec, toVersion) });
      } else {
        // A background change: harmless, on any service.
        const service = this.random.pick(this.options.fleet).name;
        const id = this.nextChangeId();
        this.nextBackgroundChange += this.random.exponential(this.options.meanChangeIntervalMs);
        out.push({ change: this.apply(id, { service, at: next }) });
      }
    }
  }

  private injectRandomIncident(next: number): void {
    const at = Math.round(next);
    const fleet = this.options.fleet;
    const kind = this.random.weighted({ change: 0.7, dependency_failure: 0.15, traffic_surge: 0.15 });
    if (kind === 'change') this.injectChangeIncident({ service: this.random.pick(fleet).name, at, durationMs: this.random.uniform(3, 8) * 60_000 });
    else if (kind === 'dependency_failure') {
      const leaves = fleet.filter((s) => s.dependsOn.length === 0);
      this.injectDependencyFailure({ service: this.random.pick(leaves).name, at, durationMs: this.random.uniform(3, 8) * 60_000 });
    } else {
      const fronts = fleet.filter((s) => !fleet.some((other) => other.dependsOn.includes(s.name)));
      this.injectTrafficSurge({ service: this.random.pick(fronts).name, at, durationMs: this.random.uniform(3, 8) * 60_000 });
    }
  }

  /** Turns a scheduled change into an event and applies it to the fleet (versions, rollouts, faults); `toVersion` marks a rollback on request. */
  private apply(id: string, spec: ChangeSpec, toVersion?: string): ChangeEvent {
    const state = this.services.get(spec.service);
    const authorType = spec.author?.type ?? spec.authorType ?? this.random.weighted(AUTHOR_TYPE_WEIGHTS);
    let type = spec.type ?? this.random.weighted(CHANGE_TYPE_WEIGHTS);
    if (type === 'rollback' && !state?.previousVersion && toVersion === undefined) type = 'deploy';
    const written = authorChange(this.random, type, authorType, spec.service);
    const change: ChangeEvent = {
      id,
      ...written,
      service: spec.service,
      environment: this.options.environment,
      timestamp: Math.round(spec.at),
      author: spec.author ?? (spec.authorType ? authorOf(this.random, authorType) : written.author),
      summary: spec.summary ?? written.summary,
    };
    if (state && (type === 'deploy' || type === 'rollback')) {
      const previous = state.rollout?.to ?? state.version;
      const next = toVersion ?? (type === 'rollback' ? state.previousVersion! : bump(previous, ++state.release));
      if (type !== 'rollback') state.releases.set(next, state.release);
      change.version = next;
      change.previousVersion = previous;
      state.previousVersion = previous;
      const gradual = state.spec.versioned && type === 'deploy';
      state.version = gradual ? previous : next;
      state.rollout = gradual ? { from: previous, to: next, start: change.timestamp, durationMs: this.options.rolloutMs } : undefined;
    }
    if (toVersion !== undefined && state) this.endFaultsAfter(state, toVersion, change.timestamp);
    if (spec.effect && state) {
      const { metric, delayMs, rampMs, magnitude, endsAt } = spec.effect;
      this.faults.push({
        service: spec.service,
        metric,
        start: Math.round(spec.at + delayMs),
        rampMs,
        end: endsAt ?? Infinity,
        magnitude,
        changeId: id,
        // Only a deploy that rolls out ships its bug in a release; a config change or flag hits every version.
        ...(state.spec.versioned && type === 'deploy' ? { fromRelease: state.release } : {}),
      });
    }
    return change;
  }

  /**
   * A rollback to `version` at `at`: faults shipped by a later release of the service stop, the
   * rollbacks scheduled for them are dropped, and their incidents end at `at`.
   */
  private endFaultsAfter(state: ServiceState, version: string, at: number): void {
    const release = state.releases.get(version) ?? 0;
    const undone = new Set<string>();
    for (const fault of this.faults) {
      if (fault.service !== state.spec.name || fault.fromRelease === undefined || fault.fromRelease <= release || fault.end <= at) continue;
      fault.end = at;
      if (fault.changeId !== undefined) undone.add(fault.changeId);
    }
    for (let i = this.pending.length - 1; i >= 0; i--) if (undone.has(this.pending[i]!.undoes ?? '')) this.pending.splice(i, 1);
    for (const truth of this.truth) if (truth.causeChangeId !== null && undone.has(truth.causeChangeId)) truth.end = Math.min(truth.end, at);
  }

  private emitPoints(time: number, out: FleetRecord[]): void {
    const { cadenceMs, noise } = this.options;
    const seconds = cadenceMs / 1000;
    const overdispersion = Math.max(1, noise);
    const diurnal = 1 + 0.35 * Math.sin((2 * Math.PI * ((time / HOUR_MS) % 24 - 9)) / 24);
    for (const state of this.services.values()) {
      const { spec } = state;
      const name = spec.name;
      if (state.rollout && time >= state.rollout.start + state.rollout.durationMs) {
        state.version = state.rollout.to;
        state.rollout = undefined;
      }
      const shares = this.versionShares(state, time);
      const requests = Math.max(1, Math.round(spec.baseRps * diurnal * this.trafficMultiple(name, time) * seconds * (1 + 0.02 * noise * this.random.normal())));
      const shared = this.sharedExcess(name, time);
      let errors = 0;
      let served = 0;
      let latency = 0;
      for (const [version, share] of shares) {
        if (requests * share < 1) continue; // a rollout's first instant serves no traffic yet
        const own = this.ownExcess(name, time, version);
        const failureRate = Math.min(1, spec.baseErrorRate + own.error + shared.error);
        const versionRequests = Math.round(requests * share);
        const mean = versionRequests * failureRate;
        const versionErrors = Math.max(0, Math.round(mean + overdispersion * Math.sqrt(mean * (1 - failureRate)) * this.random.normal()));
        const versionLatency = spec.baseLatencyMs * (1 + 0.1 * (diurnal - 1)) * (1 + own.latency + shared.latency);
        errors += versionErrors;
        served += versionRequests;
        latency += versionLatency * share;
        if (spec.versioned) {
          const tags = { version };
          out.push({ metric: { service: name, metric: 'error_rate', value: versionErrors / versionRequests, count: versionRequests, timestamp: time, tags } });
          out.push({ metric: { service: name, metric: 'latency_p99', value: round(versionLatency * Math.exp(0.05 * noise * this.random.normal())), timestamp: time, tags } });
        }
      }
      out.push({ metric: { service: name, metric: 'request_rate', value: round(requests / seconds), timestamp: time } });
      out.push({ metric: { service: name, metric: 'error_rate', value: errors / served, count: served, timestamp: time } });
      out.push({ metric: { service: name, metric: 'latency_p99', value: round(latency * Math.exp(0.04 * noise * this.random.normal())), timestamp: time } });
    }
  }

  /** Share of traffic per live version (one entry outside rollouts). */
  private versionShares(state: ServiceState, time: number): Map<string, number> {
    if (!state.rollout) return new Map([[state.version, 1]]);
    // A canary takes a fifth of the traffic for the first 40% of the rollout, then the rest moves over linearly.
    const progress = clamp01((time - state.rollout.start) / state.rollout.durationMs);
    const moved = progress < 0.4 ? CANARY_SHARE : CANARY_SHARE + ((1 - CANARY_SHARE) * (progress - 0.4)) / 0.6;
    return new Map([
      [state.rollout.from, 1 - moved],
      [state.rollout.to, moved],
    ]);
  }

  /** Traffic multiple a service receives: its own surge or the largest of its callers'. */
  private trafficMultiple(service: string, time: number): number {
    let multiple = 1;
    for (const surge of this.surges) if (surge.service === service) multiple = Math.max(multiple, 1 + (surge.multiplier - 1) * ramp(surge, time));
    for (const caller of this.callers.get(service) ?? []) multiple = Math.max(multiple, this.trafficMultiple(caller, time));
    return multiple;
  }

  /** Excess from faults on this service that hit `version` (or all versions). */
  private ownExcess(service: string, time: number, version: string): Excess {
    const excess = { error: 0, latency: 0 };
    for (const fault of this.faults) {
      if (fault.service !== service) continue;
      if (fault.fromRelease !== undefined && (this.services.get(service)!.releases.get(version) ?? -1) < fault.fromRelease) continue;
      const strength = fault.magnitude * ramp(fault, time);
      if (fault.metric === 'error_rate') excess.error += strength;
      else excess.latency += strength;
    }
    return excess;
  }

  /** Excess every version of a service shares: saturation and what its dependencies pass up (with a lag). */
  private sharedExcess(service: string, time: number): Excess {
    const state = this.services.get(service)!;
    const overload = Math.max(0, this.trafficMultiple(service, time) - state.spec.headroom);
    const excess = { error: 0.05 * overload, latency: 1.5 * overload };
    const { propagation, propagationLagMs } = this.options;
    for (const dependency of state.spec.dependsOn) {
      const upstream = this.totalExcess(dependency, time - propagationLagMs);
      excess.error += propagation * upstream.error;
      excess.latency += propagation * upstream.latency;
    }
    return excess;
  }

  /** A service's traffic-weighted excess over all its versions. */
  private totalExcess(service: string, time: number): Excess {
    const state = this.services.get(service);
    if (!state) return { error: 0, latency: 0 };
    const total = this.sharedExcess(service, time);
    for (const [version, share] of this.versionShares(state, time)) {
      const own = this.ownExcess(service, time, version);
      total.error += share * own.error;
      total.latency += share * own.latency;
    }
    return total;
  }
}

/** Strength in [0, 1] of something that ramps up linearly from `start` and stops at `end`. */
function ramp(window: { start: number; rampMs: number; end: number }, time: number): number {
  if (time < window.start || time >= window.end) return 0;
  return window.rampMs > 0 ? clamp01((time - window.start) / window.rampMs) : 1;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The next release after `version`: a minor bump every fourth release, a patch bump otherwise. */
function bump(version: string, release: number): string {
  const [major = 1, minor = 0, patch = 0] = version.replace(/^v/, '').split('.').map(Number);
  return release % 4 === 0 ? `v${major}.${minor + 1}.0` : `v${major}.${minor}.${patch + 1}`;
}
