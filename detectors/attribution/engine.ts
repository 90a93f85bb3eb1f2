/**
 * The change-attribution engine: remembers recent changes, the dependency graph and short histories
 * of every series, and when asked about an anomaly ranks the candidate changes against "none of
 * them" by combining timing, topology, version-split, before/after and prior evidence.
 *
 * Each candidate's evidence adds up to a log-likelihood ratio against "no tracked change"; a softmax
 * over all candidates plus "none" gives confidences that sum to one, and two calibration parameters
 * (a scale and the prior log-odds of "none") make them mean what they say.
 *
 * Series are tracked as the pipeline splits them (service, metric, environment and tags but `version`:
 * detectors/series-key.ts). Evidence about an anomaly reads the series of its own scope (environment
 * and tags) on every service, or a service's series of the environment without tags when it has none of
 * that scope, so prod and staging never blur into each other.
 */
import { authorInWords, changeInWords, percentInWords, type ChangeEvent, type EvidenceKind, type ServiceEntry, type Suspect, type TelemetryPoint } from '../../contract/events.ts';
import { environmentOf, scopeOfKey, seriesKey, seriesScope } from '../series-key.ts';
import { departure, type Departure } from './departure.ts';
import { clock } from './format.ts';
import {
  alreadyMovingEvidence,
  beforeAfterEvidence,
  movedAt,
  priorEvidence,
  timingEvidence,
  topologyEvidence,
  trafficSurgeEvidence,
  upstreamFirstEvidence,
  type Evidence,
  type Observations,
  type Relation,
  type Timeline,
} from './evidence.ts';
import { ATTRIBUTION_DEFAULTS, type AttributorOptions } from './options.ts';
import { SampleRing } from './ring.ts';
import { SeriesTrack, type SeriesTrackJSON } from './track.ts';
import type { AnomalyContext, Attribution, Attributor, SeriesRef } from './types.ts';
import { versionSplitEvidence } from './version-split.ts';

/** Serialized engine state (plain JSON). */
export interface AttributorJSON {
  version: 2;
  options: AttributorOptions;
  services: ServiceEntry[];
  changes: ChangeEvent[];
  /** Every track with its series: `scope` is the series' environment and splitting tags (`seriesScope`). */
  series: Array<{ service: string; metric: string; scope: string; track: SeriesTrackJSON }>;
  /** Top suspect of recent anomalies, by the alerted series' key and onset. */
  previousTop: Array<[string, string]>;
  latestPointAt: number | null;
}

/** What `exportSeries` returns: one series' track, and the top suspect of its open alert. */
export interface SeriesAttributionJSON {
  track: SeriesTrackJSON | null;
  top?: string;
}

/**
 * State written while tracks were kept per service and metric only: its tracks restore as the default
 * environment's series without tags (where a single-environment deployment's points go on).
 */
export type AttributorJSONVersion1 = Omit<AttributorJSON, 'version' | 'series'> & {
  version: 1;
  series: Array<{ service: string; metric: string; track: SeriesTrackJSON }>;
};

interface Candidate {
  change: ChangeEvent;
  evidence: Evidence[];
  logOdds: number;
}

/** Anomalies whose previous top suspect is remembered (for stickiness); the oldest are forgotten first. */
const MAX_REMEMBERED_ANOMALIES = 1000;

/** Stands in when nothing will read the timeline: no candidate change and no dependency (see `rank`). */
const NO_TIMELINE: Timeline = Object.freeze({ start: Object.freeze({ at: NaN, earliest: NaN, latest: NaN }), dependencies: new Map<string, Departure>() });

/** Suspects' confidences are rounded to this many decimals. */
const CONFIDENCE_DECIMALS = 3;

/** The attribution engine; create it with `createAttributor`. */
export class ChangeAttributor implements Attributor {
  private readonly dependsOn = new Map<string, string[]>();
  /** The reverse of `dependsOn`: who calls each service. */
  private readonly calledBy = new Map<string, Set<string>>();
  private readonly changes = new Map<string, ChangeEvent[]>();
  /** Tracks by service, then scope (`seriesScope`: environment and splitting tags), then metric. */
  private readonly series = new Map<string, Map<string, Map<string, SeriesTrack>>>();
  private readonly previousTop = new Map<string, string>();
  private latestPointAt: number | null = null;
  /** Newest change time seen (restored by replaying the changes of a checkpoint). */
  private newestChangeAt = -Infinity;

  /** An engine with no memory yet. */
  constructor(readonly options: AttributorOptions = { ...ATTRIBUTION_DEFAULTS }) {}

  /**
   * Rebuilds an engine from `toJSON()` output (or a version 1 one); `options` override the saved ones, so
   * a restart applies the configuration of now (the alert threshold, the default environment).
   */
  static fromJSON(json: AttributorJSON | AttributorJSONVersion1, options: Partial<AttributorOptions> = {}): ChangeAttributor {
    const engine = new ChangeAttributor({ ...ATTRIBUTION_DEFAULTS, ...json.options, ...options });
    for (const service of json.services) engine.observeService(service);
    for (const change of json.changes) engine.observeChange(change);
    // Version 1 kept a track per service and metric: it goes on as the default environment's series without tags.
    const legacyScope = seriesScope(engine.options.defaultEnvironment);
    for (const entry of json.series) {
      engine.tracksIn(entry.service, 'scope' in entry ? entry.scope : legacyScope).set(entry.metric, SeriesTrack.fromJSON(entry.track, engine.options));
    }
    for (const [key, changeId] of json.previousTop) engine.previousTop.set(json.version === 1 ? withScope(key, legacyScope) : key, changeId);
    engine.latestPointAt = json.latestPointAt;
    return engine;
  }

  /** Remembers a change (a repeated id replaces the earlier event). */
  observeChange(change: ChangeEvent): void {
    if (typeof change?.service !== 'string' || !Number.isFinite(change.timestamp)) return;
    const list = this.changes.get(change.service) ?? [];
    const existing = list.findIndex((c) => c.id === change.id);
    if (existing >= 0) list.splice(existing, 1);
    // Changes mostly arrive in order; insert from the end to keep the list sorted by time.
    let at = list.length;
    while (at > 0 && list[at - 1]!.timestamp > change.timestamp) at--;
    list.splice(at, 0, change);
    if (list.length > this.options.maxChangesPerService) list.shift();
    this.changes.set(change.service, list);
    this.newestChangeAt = Math.max(this.newestChangeAt, change.timestamp);
  }

  /** Remembers which services `service.name` calls (the latest entry wins). */
  observeService(service: ServiceEntry): void {
    if (typeof service?.name !== 'string') return;
    const dependsOn = Array.isArray(service.dependsOn) ? service.dependsOn.filter((d): d is string => typeof d === 'string' && d !== service.name) : [];
    for (const old of this.dependsOn.get(service.name) ?? []) this.calledBy.get(old)?.delete(service.name);
    for (const dependency of dependsOn) {
      let callers = this.calledBy.get(dependency);
      if (!callers) this.calledBy.set(dependency, (callers = new Set()));
      callers.add(service.name);
    }
    this.dependsOn.set(service.name, dependsOn);
  }

  /** Records one point with its detector score in its series' track: O(1), the pipeline's hot path. */
  observePoint(point: TelemetryPoint, score: number): void {
    if (!Number.isFinite(point.value) || !Number.isFinite(point.timestamp)) return;
    const tags = point.tags;
    const tracks = this.tracksIn(point.service, seriesScope(environmentOf(tags, this.options.defaultEnvironment), tags));
    let track = tracks.get(point.metric);
    if (!track) {
      track = new SeriesTrack(new SampleRing(this.options.historySize), this.options);
      tracks.set(point.metric, track);
    }
    const count = point.count !== undefined && Number.isFinite(point.count) && point.count > 0 ? point.count : 0;
    track.observe(point.timestamp, point.value, count, tags?.version, Number.isFinite(score) ? score : 0);
    if (this.latestPointAt === null || point.timestamp > this.latestPointAt) {
      const before = this.latestPointAt;
      this.latestPointAt = point.timestamp;
      // Forget old changes about once a simulated minute, not on every point.
      if (before === null || Math.floor(before / 60_000) !== Math.floor(point.timestamp / 60_000)) this.forgetOldChanges();
    }
  }

  /** Ranks the changes that may have caused `anomaly`, and "none of them". Never throws. */
  attribute(anomaly: AnomalyContext): Attribution {
    try {
      return this.rank(anomaly);
    } catch (error) {
      // Defensive: a bug in one evidence kind must not take the alert down with it.
      return { suspects: [], noChangeConfidence: 1, summary: `attribution failed (${error instanceof Error ? error.message : String(error)})` };
    }
  }

  /** Recent changes, newest first. */
  recentChanges(limit: number): ChangeEvent[] {
    const all = [...this.changes.values()].flat();
    all.sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? -1 : 1));
    return all.slice(0, Math.max(0, limit));
  }

  /** Serializes the whole state. */
  toJSON(): AttributorJSON {
    return {
      version: 2,
      options: { ...this.options },
      services: [...this.dependsOn].map(([name, dependsOn]) => ({ name, dependsOn: [...dependsOn] })),
      changes: [...this.changes.values()].flat(),
      series: [...this.series].flatMap(([service, scopes]) =>
        [...scopes].flatMap(([scope, tracks]) => [...tracks].map(([metric, track]) => ({ service, metric, scope, track: track.toJSON() }))),
      ),
      previousTop: [...this.previousTop],
      latestPointAt: this.latestPointAt,
    };
  }

  exportSeries(series: SeriesRef, onset?: number): SeriesAttributionJSON | undefined {
    const track = this.series.get(series.service)?.get(series.scope)?.get(series.metric);
    const top = onset === undefined ? undefined : this.previousTop.get(`${series.key}\u0000${onset}`);
    if (!track && top === undefined) return undefined;
    return { track: track?.toJSON() ?? null, ...(top === undefined ? {} : { top }) };
  }

  importSeries(series: SeriesRef, state: unknown, onset?: number): void {
    const json = state as SeriesAttributionJSON | undefined;
    if (!json) return;
    if (json.track) {
      const track = SeriesTrack.fromJSON(json.track, this.options);
      this.tracksIn(series.service, series.scope).set(series.metric, track);
      const newest = track.history.latest;
      if (Number.isFinite(newest) && (this.latestPointAt === null || newest > this.latestPointAt)) this.latestPointAt = newest;
    }
    if (json.top !== undefined && onset !== undefined) this.remember(`${series.key}\u0000${onset}`, json.top);
  }

  forgetSeries(series: SeriesRef): void {
    const scopes = this.series.get(series.service);
    const tracks = scopes?.get(series.scope);
    if (!tracks?.delete(series.metric)) return;
    if (tracks.size === 0) scopes!.delete(series.scope);
    if (scopes!.size === 0) this.series.delete(series.service);
  }

  private rank(raw: AnomalyContext): Attribution {
    const anomaly = normalize(raw);
    const environment = anomaly.environment ?? this.options.defaultEnvironment;
    const series = alertedSeries(anomaly, environment);
    const observations = this.observationsIn(series.scope, environment);
    const relations = this.relationsOf(anomaly.service);
    const possible: Array<[ChangeEvent, Relation]> = [];
    for (const [service, relation] of relations) {
      for (const change of this.changes.get(service) ?? []) if (this.isCandidate(change, anomaly)) possible.push([change, relation]);
    }
    // Departure estimates sort sample rings, the costly part of ranking; with no candidate change and
    // no dependency nothing reads them (most alerts in a quiet fleet), so they are not computed.
    const needsTimeline = possible.length > 0 || [...relations.values()].some((r) => r.kind === 'dependency');
    const timeline = needsTimeline ? this.timelineOf(anomaly, relations, observations) : NO_TIMELINE;
    const previousSample = possible.length ? sampleBefore(observations.track(anomaly.service, anomaly.metric), anomaly.onset) : null;
    const candidates: Candidate[] = [];
    for (const [change, relation] of possible) {
      const evidence = this.evidenceFor(change, relation, anomaly, timeline, observations, previousSample);
      candidates.push({ change, evidence, logOdds: evidence.reduce((sum, e) => sum + e.weight, 0) });
    }
    const noChange = this.noChangeEvidence(anomaly, relations, timeline, candidates, observations);
    const key = `${series.key}\u0000${anomaly.onset}`;
    const sticky = this.previousTop.get(key);
    const scale = this.options.calibrationScale;
    const noneLogOdds = scale * (this.options.noChangeLogOdds + noChange.reduce((sum, e) => sum + e.weight, 0));
    const logits = candidates.map((c) => scale * c.logOdds + (c.change.id === sticky ? this.options.stickiness : 0));
    const peak = Math.max(noneLogOdds, ...logits);
    const weights = logits.map((l) => Math.exp(l - peak));
    const noneWeight = Math.exp(noneLogOdds - peak);
    const total = noneWeight + weights.reduce((a, b) => a + b, 0);

    // Only candidates that clear the confidence floor are turned into suspects.
    const kept: Suspect[] = [];
    for (let i = 0; i < candidates.length; i++) {
      if (round(weights[i]! / total) >= this.options.minConfidence) kept.push(toSuspect(candidates[i]!, weights[i]! / total));
    }
    const suspects = kept
      .sort((a, b) => b.confidence - a.confidence || b.change.timestamp - a.change.timestamp || (a.changeId < b.changeId ? -1 : 1))
      .slice(0, this.options.maxSuspects);
    const noChangeConfidence = round(noneWeight / total);
    this.remember(key, suspects[0]?.changeId);
    return { suspects, noChangeConfidence, summary: summarize(suspects, noChangeConfidence, noChange, anomaly) };
  }

  private isCandidate(change: ChangeEvent, anomaly: AnomalyContext): boolean {
    if (anomaly.environment && change.environment && change.environment !== anomaly.environment) return false;
    const lead = anomaly.onset - change.timestamp;
    return lead <= this.options.lookbackMs && lead >= -this.options.clockSkewToleranceMs;
  }

  private evidenceFor(change: ChangeEvent, relation: Relation, anomaly: AnomalyContext, timeline: Timeline, observations: Observations, previousSample: number | null): Evidence[] {
    // Every evidence function returns fresh objects, so the kind is set on them rather than on copies.
    const evidence: Evidence[] = [withKind(timingEvidence(change, anomaly, this.options, previousSample), 'timing'), withKind(topologyEvidence(change, relation, anomaly, timeline, observations), 'topology')];
    const split = versionSplitEvidence(change, anomaly, observations);
    if (split) evidence.push(withKind(split, 'version_split'));
    // A clear version split on the changed service outweighs the suspicion that symptoms came from below.
    const convicted = split !== null && split.weight > 0;
    if (relation.kind === 'dependency' && !convicted) {
      // A dependency that moved is judged as its own alert would judge it: did something below it move first?
      const started = timeline.dependencies.get(change.service);
      const upstream = started ? upstreamFirstEvidence(change.service, started, this.dependenciesOf(change.service), timeline) : null;
      if (upstream) evidence.push(withKind(upstream, 'topology'));
    }
    if (relation.kind === 'same') {
      const upstream = convicted ? null : upstreamFirstEvidence(anomaly.service, timeline.start, null, timeline);
      if (upstream) evidence.push(withKind(upstream, 'topology'));
      const moving = alreadyMovingEvidence(change, anomaly, timeline, this.options.departureToleranceMs);
      if (moving) evidence.push(withKind(moving, 'timing'));
    }
    // A caller's metrics move because the alerted service broke; that says nothing about the caller's change.
    if (relation.kind !== 'caller') for (const e of beforeAfterEvidence(change, anomaly, observations)) evidence.push(withKind(e, 'before_after'));
    evidence.push(withKind(priorEvidence(change), 'prior'));
    return evidence.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  }

  /** Evidence for "no tracked change caused it": a traffic surge, a dependency failing with no change of its own, no candidates. */
  private noChangeEvidence(anomaly: AnomalyContext, relations: Map<string, Relation>, timeline: Timeline, candidates: Candidate[], observations: Observations): Evidence[] {
    const evidence: Evidence[] = [];
    const reached = [...relations].filter(([, r]) => r.kind === 'same' || r.kind === 'dependency').map(([service]) => service);
    const surge = trafficSurgeEvidence(anomaly, reached, observations);
    if (surge) evidence.push(surge);
    for (const [service, departed] of timeline.dependencies) {
      const at = departed.at;
      if (at > timeline.start.at + this.options.departureToleranceMs) continue;
      const ownChange = candidates.some((c) => c.change.service === service && c.change.timestamp <= at + this.options.clockSkewToleranceMs && at - c.change.timestamp <= 2 * 3_600_000);
      if (!ownChange) {
        evidence.push({ weight: 2, line: `${service}, a dependency, went anomalous at ${clock(at)} with no recent change of its own` });
        break;
      }
    }
    if (!candidates.length) evidence.push({ weight: 0, line: `no change on ${anomaly.service} or its dependencies in the last ${Math.round(this.options.lookbackMs / 3_600_000)} h` });
    return evidence;
  }

  /** Every service `service` depends on, directly or not, up to `maxHops` (cycles cut). */
  private dependenciesOf(service: string): Set<string> {
    const reached = new Set<string>();
    let frontier = [service];
    for (let hops = 1; hops <= this.options.maxHops && frontier.length; hops++) {
      const next: string[] = [];
      for (const current of frontier) {
        for (const dependency of this.dependsOn.get(current) ?? []) {
          if (dependency === service || reached.has(dependency)) continue;
          reached.add(dependency);
          next.push(dependency);
        }
      }
      frontier = next;
    }
    return reached;
  }

  /** The alerted service, its dependencies (by hops) and callers; cycles are cut by visiting each service once. */
  private relationsOf(service: string): Map<string, Relation> {
    const relations = new Map<string, Relation>([[service, { kind: 'same' }]]);
    const walk = (next: (s: string) => string[], kind: 'dependency' | 'caller') => {
      let frontier = [service];
      for (let hops = 1; hops <= this.options.maxHops && frontier.length; hops++) {
        const reached: string[] = [];
        for (const current of frontier) {
          for (const neighbour of next(current)) {
            if (relations.has(neighbour)) continue;
            relations.set(neighbour, { kind, hops });
            reached.push(neighbour);
          }
        }
        frontier = reached;
      }
    };
    walk((s) => this.dependsOn.get(s) ?? [], 'dependency');
    walk((s) => [...(this.calledBy.get(s) ?? [])], 'caller');
    if (!this.dependsOn.has(service)) {
      // Without a catalog entry we cannot rule services out: every service with changes is a (penalized) candidate.
      for (const other of this.changes.keys()) if (!relations.has(other)) relations.set(other, { kind: 'unlinked' });
    }
    return relations;
  }

  /** When the alerted metric and each dependency started moving: detector episodes, or a CUSUM run on the same metric. */
  private timelineOf(anomaly: AnomalyContext, relations: Map<string, Relation>, observations: Observations): Timeline {
    const direction = anomaly.observed >= anomaly.expected ? 1 : -1;
    const departureOf = (service: string) => {
      const track = observations.track(service, anomaly.metric);
      return track ? departure(track, anomaly.onset, anomaly.now, direction) : null;
    };
    // A time the series is known to have moved by (the onset, a detector episode's first point) caps the estimate and its interval.
    const by = (estimate: Departure | null, moved: number): Departure =>
      estimate ? { at: Math.min(estimate.at, moved), earliest: Math.min(estimate.earliest, moved), latest: Math.min(estimate.latest, moved) } : { at: moved, earliest: moved, latest: moved };
    const start = by(departureOf(anomaly.service), anomaly.onset);
    const dependencies = new Map<string, Departure>();
    for (const [service, relation] of relations) {
      if (relation.kind !== 'dependency') continue;
      const episode = movedAt(service, anomaly, observations);
      const estimate = departureOf(service);
      if (episode !== null) dependencies.set(service, by(estimate, episode));
      else if (estimate) dependencies.set(service, estimate);
    }
    return { start, dependencies };
  }

  private remember(key: string, changeId: string | undefined): void {
    this.previousTop.delete(key);
    if (changeId === undefined) return;
    this.previousTop.set(key, changeId);
    if (this.previousTop.size > MAX_REMEMBERED_ANOMALIES) this.previousTop.delete(this.previousTop.keys().next().value!);
  }

  private forgetOldChanges(): void {
    // A point from a producer whose clock runs far ahead must not wipe the changes: never forget
    // relative to a time later than the newest change.
    const horizon = Math.min(this.latestPointAt!, this.newestChangeAt) - this.options.changeRetentionMs;
    for (const [service, list] of this.changes) {
      // The list is sorted by time: when its oldest change is kept, all are.
      if (!list.length || list[0]!.timestamp >= horizon) continue;
      const keep = list.filter((c) => c.timestamp >= horizon);
      if (keep.length === list.length) continue;
      if (keep.length) this.changes.set(service, keep);
      else this.changes.delete(service);
    }
  }

  /**
   * What the evidence about an anomaly of `scope` reads: each service's tracks of that scope, or, for a
   * service without any, its tracks of `environment` without splitting tags (a dependency reporting
   * totals only, for an anomaly on one region's series).
   */
  private observationsIn(scope: string, environment: string): Observations {
    const tracksOf = (service: string) => {
      const scopes = this.series.get(service);
      return scopes?.get(scope) ?? scopes?.get(environment);
    };
    return {
      track: (service, metric) => tracksOf(service)?.get(metric),
      tracksOf: (service) => tracksOf(service)?.entries() ?? [],
    };
  }

  /** The tracks of `service`'s series of `scope`, by metric (created empty on first use). */
  private tracksIn(service: string, scope: string): Map<string, SeriesTrack> {
    let scopes = this.series.get(service);
    if (!scopes) this.series.set(service, (scopes = new Map()));
    let tracks = scopes.get(scope);
    if (!tracks) scopes.set(scope, (tracks = new Map()));
    return tracks;
  }
}

/** A version 1 key of `previousTop` (service, metric, onset) with `scope` put before the onset. */
function withScope(key: string, scope: string): string {
  const onsetAt = key.lastIndexOf('\u0000');
  return `${key.slice(0, onsetAt)}\u0000${scope}${key.slice(onsetAt)}`;
}

/** Makes a context safe to reason about: finite times, `now` not before the onset. */
function normalize(anomaly: AnomalyContext): AnomalyContext {
  const onset = Number.isFinite(anomaly.onset) ? anomaly.onset : Number.isFinite(anomaly.now) ? anomaly.now : 0;
  const now = Number.isFinite(anomaly.now) ? Math.max(anomaly.now, onset) : onset;
  const observed = Number.isFinite(anomaly.observed) ? anomaly.observed : 0;
  const expected = Number.isFinite(anomaly.expected) ? anomaly.expected : observed;
  const series = typeof anomaly.series === 'string' ? anomaly.series : undefined;
  return { ...anomaly, service: String(anomaly.service), metric: String(anomaly.metric), series, onset, now, observed, expected };
}

/**
 * The alerted series' key and scope: `anomaly.series` when it is a key of the alerted service's metric,
 * else the key of that metric's series of `environment` without splitting tags.
 */
function alertedSeries(anomaly: AnomalyContext, environment: string): { key: string; scope: string } {
  const scope = anomaly.series === undefined ? undefined : scopeOfKey(anomaly.series, anomaly.service, anomaly.metric);
  if (scope !== undefined) return { key: anomaly.series!, scope };
  return { key: seriesKey({ service: anomaly.service, metric: anomaly.metric, environment }), scope: seriesScope(environment) };
}

/**
 * The distinct kinds of evidence that incriminate the change (positive weight), strongest first.
 * Priors are left out: they say how risky a kind of change is, not that this one did it.
 */
function supportingKinds(evidence: readonly Evidence[]): EvidenceKind[] {
  const kinds = new Set<EvidenceKind>();
  for (const e of evidence) if (e.weight > 0 && e.kind && e.kind !== 'prior') kinds.add(e.kind);
  return [...kinds];
}

/** `{ evidenceAgainst }`: the lines that lowered the change's odds (negative weight), or nothing when none did. */
function againstLines(evidence: readonly Evidence[]): { evidenceAgainst?: string[] } {
  const against = evidence.filter((e) => e.weight < 0).map((e) => e.line);
  return against.length > 0 ? { evidenceAgainst: against } : {};
}

function withKind(evidence: Evidence, kind: EvidenceKind): Evidence {
  evidence.kind = kind;
  return evidence;
}

function toSuspect(candidate: Candidate, confidence: number): Suspect {
  const { change } = candidate;
  return {
    changeId: change.id,
    confidence: round(confidence),
    evidence: candidate.evidence.map((e) => e.line),
    evidenceKinds: supportingKinds(candidate.evidence),
    ...againstLines(candidate.evidence),
    change: {
      type: change.type,
      service: change.service,
      author: change.author,
      ...(change.summary !== undefined ? { summary: change.summary } : {}),
      ...(change.version !== undefined ? { version: change.version } : {}),
      ...(change.previousVersion !== undefined ? { previousVersion: change.previousVersion } : {}),
      timestamp: change.timestamp,
      ...(change.links?.pr !== undefined || change.links?.commit !== undefined ? { links: { ...change.links } } : {}),
    },
  };
}

/** The clause the alert's explanation ends with. */
function summarize(suspects: Suspect[], noChangeConfidence: number, noChange: Evidence[], anomaly: AnomalyContext): string {
  const top = suspects[0];
  if (!top || noChangeConfidence >= top.confidence) {
    const reason = noChange.find((e) => e.weight > 0)?.line;
    return `no tracked change explains it (${percentInWords(noChangeConfidence)} sure)${reason ? `: ${reason}` : ''}`;
  }
  // What the change was, in the words of its event (its summary), rather than its id; the id stays in `suspects`.
  const c = top.change;
  const what = `${changeInWords(c, top.changeId, SUMMARY_WORDS_LENGTH)}${c.service === anomaly.service ? '' : ` on ${c.service}`} by ${authorInWords(c.author)}`;
  return top.confidence >= 0.5 ? `most likely ${what} (${percentInWords(top.confidence)} likely)` : `possibly ${what} (${percentInWords(top.confidence)}, evidence is weak)`;
}

/** Longest change summary quoted in an alert's explanation. */
const SUMMARY_WORDS_LENGTH = 60;

function round(x: number): number {
  const factor = 10 ** CONFIDENCE_DECIMALS;
  return Math.round(Math.min(1, Math.max(0, x)) * factor) / factor;
}

/** Time of `track`'s last sample before `time`, or null: the alerted series' effect began after it. */
function sampleBefore(track: SeriesTrack | undefined, time: number): number | null {
  if (!track) return null;
  const history = track.history;
  for (let i = history.length - 1; i >= 0; i--) {
    const at = history.timeAt(i);
    if (at < time) return at;
  }
  return null;
}
