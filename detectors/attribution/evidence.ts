/**
 * The kinds of evidence attribution weighs, each a log-likelihood ratio ("how much more likely is
 * what we see if this change caused the anomaly than if it did not") with one readable line.
 */
import type { ChangeEvent, EvidenceKind } from '../../contract/events.ts';
import type { Departure } from './departure.ts';
import type { AttributorOptions } from './options.ts';
import { clock, duration, ratioText } from './format.ts';
import { formatP, median, rankShiftBetween, rankShiftPValue } from './statistics.ts';
import type { SeriesTrack } from './track.ts';
import type { AnomalyContext } from './types.ts';

/** One piece of evidence: its weight in log-odds (positive incriminates) and the sentence shown to engineers. */
export interface Evidence {
  weight: number;
  line: string;
  /** Which independent kind of evidence this is; set by the engine when it gathers a candidate's evidence. */
  kind?: EvidenceKind;
}

/** Where a change sits relative to the alerted service in the dependency graph. */
export type Relation =
  | { kind: 'same' }
  | { kind: 'dependency'; hops: number }
  | { kind: 'caller'; hops: number }
  /** The catalog knows no path (or does not know one of the services). */
  | { kind: 'unlinked' };

/**
 * When the alerted service and each of its dependencies started to move, as far as telemetry tells:
 * each a point estimate with the interval it is uncertain by (departure.ts).
 */
export interface Timeline {
  /** When the alerted metric began to depart from normal (at the latest, the onset). */
  start: Departure;
  /** Dependencies that moved around the anomaly, with when they started. */
  dependencies: Map<string, Departure>;
}

/** Read access to what the engine has observed, in the alerted series' environment and tags. */
export interface Observations {
  /** `service`'s series of `metric` there, if any point of it was seen. */
  track(service: string, metric: string): SeriesTrack | undefined;
  /** Every tracked series of `service` there, by metric. */
  tracksOf(service: string): Iterable<[string, SeriesTrack]>;
}

const MINUTE = 60_000;
/** Before/after tests compare against this much history before a change... */
const BASELINE_MS = 30 * MINUTE;
/** ...and check whether the metric was already moving in this last stretch before it. */
const LEAD_MS = 5 * MINUTE;
/** A dependency "moved first" when it started no later than this after the alerted metric did (sampling jitter). */
const SAME_TIME_MS = 30_000;
/** Only episodes at most this old at the onset are related to it. */
const EPISODE_RELEVANCE_MS = 30 * MINUTE;

/**
 * Timing: a change shortly before the onset is plausible, one hours before much less, one after it only
 * within clock skew. `previousSample` is the alerted series' last point before the onset: the effect
 * began somewhere after it, so the delay's density is averaged over that interval (at 5-minute
 * sampling a change 30 s before the onset may well have landed after the effect began, and is not
 * the likeliest cause just for being closest).
 */
export function timingEvidence(change: ChangeEvent, anomaly: AnomalyContext, options: AttributorOptions, previousSample: number | null = null): Evidence {
  const lead = anomaly.onset - change.timestamp;
  if (lead < 0) {
    const weight = Math.log(delayDensity(0, options) * options.lookbackMs);
    return { weight: weight + Math.log(0.5), line: `stamped ${duration(-lead)} after the onset, within clock-skew tolerance` };
  }
  const interval = previousSample === null ? 0 : Math.max(0, anomaly.onset - previousSample);
  const weight = Math.log(meanDelayDensity(lead, interval, options) * options.lookbackMs);
  const judgement = lead <= 2 * options.typicalDelayMs ? 'a typical delay for a change to show' : lead <= 3_600_000 ? 'a long delay' : 'an effect delayed this long is unlikely';
  return { weight, line: `landed ${duration(lead)} before the onset, ${judgement}` };
}

/** Density (per ms) of the delay between a causing change and the onset: mostly minutes, with a long tail for slow burns. */
function delayDensity(lead: number, options: AttributorOptions): number {
  const fast = ((1 - options.slowShare) / options.typicalDelayMs) * Math.exp(-lead / options.typicalDelayMs);
  const slow = (options.slowShare / options.slowDelayMs) * Math.exp(-lead / options.slowDelayMs);
  return fast + slow;
}

/**
 * delayDensity averaged over an effect start uniform in the `interval` before the onset: the delay runs
 * from `lead − interval` (0 at least: a change cannot cause an effect that began before it) to `lead`.
 * Each exponential part integrates in closed form; with no interval it is delayDensity itself.
 */
function meanDelayDensity(lead: number, interval: number, options: AttributorOptions): number {
  if (interval <= 0) return delayDensity(lead, options);
  const shortest = Math.max(0, lead - interval);
  const part = (share: number, scale: number) => share * (Math.exp(-shortest / scale) - Math.exp(-lead / scale));
  // Floor: a change stamped at the onset's very instant still keeps the density of a zero delay over a millisecond.
  return Math.max(part(1 - options.slowShare, options.typicalDelayMs) + part(options.slowShare, options.slowDelayMs), delayDensity(0, options)) / interval;
}

/** Topology: the alerted service itself, a dependency that moved first (good), one that did not move (bad), or a caller (rare). */
export function topologyEvidence(change: ChangeEvent, relation: Relation, anomaly: AnomalyContext, timeline: Timeline, observations: Observations): Evidence {
  const target = anomaly.service;
  switch (relation.kind) {
    case 'same':
      return { weight: 0, line: `on ${target} itself` };
    case 'caller':
      return { weight: -4, line: `on ${change.service}, which calls ${target}: a caller's change rarely breaks its dependency` };
    case 'unlinked':
      return { weight: -2.5, line: `on ${change.service}; the catalog shows no dependency path to ${target}` };
    case 'dependency': {
      const hop = relation.hops === 1 ? 'a dependency' : `a dependency ${relation.hops} hops away`;
      const distance = -0.7 * relation.hops;
      const departed = timeline.dependencies.get(change.service) ?? null;
      if (departed === null) {
        // Detectors lag on slow ramps: a significant shift of the same metric since the change also counts as moving.
        const shiftP = shiftSinceChange(change, anomaly, observations);
        if (shiftP < 0.001) return { weight: distance + 0.5, line: `on ${change.service}, ${hop} of ${target}, whose ${anomaly.metric} shifted since the change (rank test ${formatP(shiftP)})` };
        return { weight: distance - 3, line: `on ${change.service}, ${hop} of ${target}, whose own metrics did not move` };
      }
      // Whether it moved before or after the change is only said when the change lies clearly outside
      // the interval its start is uncertain by; otherwise the timing says nothing either way.
      if (departed.latest < change.timestamp - SAME_TIME_MS) {
        return { weight: distance - 2, line: `on ${change.service}, ${hop} of ${target}, whose ${anomaly.metric} had moved (${span(departed)}) before this change landed` };
      }
      if (departed.earliest < change.timestamp - SAME_TIME_MS) {
        return { weight: distance, line: `on ${change.service}, ${hop} of ${target}, whose ${anomaly.metric} started to move ${span(departed)}, too close to this change to tell which came first` };
      }
      const moved = departed.at;
      if (moved <= timeline.start.at + SAME_TIME_MS) {
        return { weight: distance + 1, line: `on ${change.service}, ${hop} of ${target}, whose ${anomaly.metric} moved first (${clock(moved)})` };
      }
      return { weight: distance - 1, line: `on ${change.service}, ${hop} of ${target}, whose ${anomaly.metric} moved only after ${target}'s (${clock(moved)})` };
    }
  }
}

/**
 * Symptoms from below: a change on `service` (the alerted service, or a dependency of it that moved)
 * is a poor explanation when one of `service`'s own dependencies started to move before `service`
 * did: the trouble more likely travelled up through it. The same test is applied wherever the change
 * sits, so a change on an intermediate service is not blamed from a caller's alert for symptoms its
 * own alert would attribute further down. `below` lists the dependencies of `service` (any depth).
 */
export function upstreamFirstEvidence(service: string, started: Departure, below: ReadonlySet<string> | null, timeline: Timeline): Evidence | null {
  let first: [string, number] | null = null;
  for (const [dependency, departed] of timeline.dependencies) {
    if (below && !below.has(dependency)) continue;
    if (departed.at < started.at - SAME_TIME_MS && (!first || departed.at < first[1])) first = [dependency, departed.at];
  }
  if (!first) return null;
  return { weight: -2, line: `${first[0]}, a dependency${below ? ` of ${service}` : ''}, moved first (${clock(first[1])}): the symptoms may have travelled up to ${service}` };
}

/**
 * For a change on the alerted service: if the metric had started to move before the change landed, the
 * change did not start it. Said only when even the latest likely start is clearly before the change.
 */
export function alreadyMovingEvidence(change: ChangeEvent, anomaly: AnomalyContext, timeline: Timeline, toleranceMs: number): Evidence | null {
  const { start } = timeline;
  const late = change.timestamp - start.latest;
  if (start.at >= anomaly.onset || late <= toleranceMs) return null;
  return { weight: -2.5, line: `${anomaly.metric} of ${anomaly.service} had started to move at ${clock(start.at)} (${span(start)}), ${duration(late)} or more before this change` };
}

/** "at 12:03:10" or "between 12:01:40 and 12:03:10". */
function span(departed: Departure): string {
  return departed.earliest === departed.latest ? `at ${clock(departed.at)}` : `between ${clock(departed.earliest)} and ${clock(departed.latest)}`;
}

/** Before/after: was the changed service's metric already moving before the change, and did it move after it? */
export function beforeAfterEvidence(change: ChangeEvent, anomaly: AnomalyContext, observations: Observations): Evidence[] {
  const track = observations.track(change.service, anomaly.metric);
  if (!track) return [];
  const order = track.history.rankOrder();
  if (!order) return beforeAfterByCopies(track, change, anomaly);
  // The same tests as beforeAfterByCopies, on the windows in place: "before" is baseline and lead together.
  const history = track.history;
  const at = change.timestamp;
  const direction = anomaly.observed >= anomaly.expected ? 1 : -1;
  const baselineCount = history.countBetween(at - BASELINE_MS, at - LEAD_MS);
  const leadCount = history.countBetween(at - LEAD_MS, at);
  const afterCount = history.countBetween(at, anomaly.now + 1);
  const movement = direction > 0 ? 'rising' : 'falling';
  const name = `${anomaly.metric} of ${change.service}`;
  const evidence: Evidence[] = [];
  if (baselineCount >= 12 && leadCount >= 6) {
    const leadP = rankShiftBetween(order, direction, at - BASELINE_MS, at - LEAD_MS, at - LEAD_MS, at);
    if (leadP < 0.005) evidence.push({ weight: -2.5, line: `${name} was already ${movement} in the ${duration(LEAD_MS)} before this change (rank test ${formatP(leadP)})` });
  }
  if (baselineCount + leadCount < 12 || afterCount < 6) return evidence;
  const afterP = rankShiftBetween(order, direction, at - BASELINE_MS, at, at, anomaly.now + 1);
  if (afterP < 0.001) {
    evidence.push({ weight: 0.8, line: `${name} is ${direction > 0 ? 'higher' : 'lower'} after the change than before (rank test ${formatP(afterP)})` });
  } else if (afterCount >= 12 && afterP > 0.2) {
    evidence.push({ weight: -2, line: `${name} did not move after the change (rank test ${formatP(afterP)})` });
  }
  return evidence;
}

/** beforeAfterEvidence on copies of the windows, for a history holding a value that is not finite. */
function beforeAfterByCopies(track: SeriesTrack, change: ChangeEvent, anomaly: AnomalyContext): Evidence[] {
  const at = change.timestamp;
  const direction = anomaly.observed >= anomaly.expected ? 1 : -1;
  const oriented = (values: number[]) => (direction > 0 ? values : values.map((v) => -v));
  const baseline = oriented(track.history.valuesBetween(at - BASELINE_MS, at - LEAD_MS));
  const lead = oriented(track.history.valuesBetween(at - LEAD_MS, at));
  const after = oriented(track.history.valuesBetween(at, anomaly.now + 1));
  const movement = direction > 0 ? 'rising' : 'falling';
  const name = `${anomaly.metric} of ${change.service}`;
  const evidence: Evidence[] = [];
  const leadP = rankShiftPValue(baseline, lead);
  if (baseline.length >= 12 && lead.length >= 6 && leadP < 0.005) {
    evidence.push({ weight: -2.5, line: `${name} was already ${movement} in the ${duration(LEAD_MS)} before this change (rank test ${formatP(leadP)})` });
  }
  const before = [...baseline, ...lead];
  if (before.length < 12) return evidence;
  const afterP = rankShiftPValue(before, after);
  if (after.length >= 6 && afterP < 0.001) {
    evidence.push({ weight: 0.8, line: `${name} is ${direction > 0 ? 'higher' : 'lower'} after the change than before (rank test ${formatP(afterP)})` });
  } else if (after.length >= 12 && afterP > 0.2) {
    evidence.push({ weight: -2, line: `${name} did not move after the change (rank test ${formatP(afterP)})` });
  }
  return evidence;
}

/** One-sided p-value that the changed service's alerted metric moved in the anomaly's direction since the change; 1 without data. */
function shiftSinceChange(change: ChangeEvent, anomaly: AnomalyContext, observations: Observations): number {
  const track = observations.track(change.service, anomaly.metric);
  if (!track) return 1;
  const direction = anomaly.observed >= anomaly.expected ? 1 : -1;
  const beforeFrom = change.timestamp - BASELINE_MS;
  const afterFrom = Math.max(change.timestamp, anomaly.onset - LEAD_MS);
  const order = track.history.rankOrder();
  if (order) {
    return track.history.countBetween(afterFrom, anomaly.now + 1) >= 6 ? rankShiftBetween(order, direction, beforeFrom, change.timestamp, afterFrom, anomaly.now + 1) : 1;
  }
  const oriented = (values: number[]) => (direction > 0 ? values : values.map((v) => -v));
  const before = oriented(track.history.valuesBetween(beforeFrom, change.timestamp));
  const after = oriented(track.history.valuesBetween(afterFrom, anomaly.now + 1));
  return after.length >= 6 ? rankShiftPValue(before, after) : 1;
}

/** Priors: unreviewed AI-agent changes and large diffs are riskier, rollbacks rarely break things. They nudge; evidence decides. */
export function priorEvidence(change: ChangeEvent): Evidence {
  const author = change.author;
  const reviewed = (author.reviewedBy?.length ?? 0) > 0;
  let weight = 0;
  let who: string;
  if (author.type === 'ai_agent') {
    weight += reviewed ? 0.2 : 0.5;
    who = `AI agent ${author.agent ?? author.name}${author.model ? ` (${author.model})` : ''}`;
  } else if (author.type === 'ai_assisted') {
    weight += reviewed ? 0.1 : 0.3;
    who = `${author.name} with AI assistance`;
  } else {
    weight += reviewed ? -0.2 : 0;
    who = author.name;
  }
  const lines = (change.diff?.linesAdded ?? 0) + (change.diff?.linesRemoved ?? 0);
  if (change.diff) weight += 0.25 * Math.log10(1 + lines) - 0.5;
  weight += { deploy: 0, config: -0.2, feature_flag: -0.1, infra: -0.4, rollback: -2 }[change.type] ?? 0;
  const size = change.diff ? `, ${lines} lines` : '';
  const kind = change.type === 'rollback' ? '; rollbacks rarely cause incidents' : '';
  return { weight, line: `${change.type} by ${who}, ${reviewed ? `reviewed by ${author.reviewedBy!.join(', ')}` : 'unreviewed'}${size}${kind}` };
}

/** Traffic at least this many times its earlier level is a surge, whatever the detector made of it. */
const SURGE_MULTIPLE = 1.5;
/** A surge is measured from this long before the onset (its ramp may start before the symptoms)... */
const SURGE_RECENT_MS = 2 * MINUTE;
/** ...against the traffic of this stretch before it, clear of the ramp. */
const SURGE_BASELINE_FROM_MS = 35 * MINUTE;
const SURGE_BASELINE_TO_MS = 10 * MINUTE;

/**
 * "No change" evidence: traffic surged around the onset, on the alerted service or on a dependency it
 * shares with the surging callers (a surge saturates whatever it reaches). A surge is either an
 * anomalous episode of the service's request_rate or, when the detector did not score the rise that
 * high, request_rate at `SURGE_MULTIPLE` times its level of half an hour before (rank test p < 0.001):
 * a ramp of a few minutes is judged by its size, not only by how surprising each point was.
 */
export function trafficSurgeEvidence(anomaly: AnomalyContext, services: readonly string[], observations: Observations): Evidence | null {
  for (const service of services) {
    const track = observations.track(service, 'request_rate');
    if (!track) continue;
    const surge = surgeOf(track, anomaly);
    if (!surge) continue;
    // When the anomaly is the traffic itself, a change is an even poorer explanation than when traffic only coincides.
    const weight = service === anomaly.service && anomaly.metric === 'request_rate' && anomaly.observed > anomaly.expected ? 4.5 : 3;
    return { weight, line: `request_rate of ${service} rose${surge}: a traffic surge explains it` };
  }
  return null;
}

/** How a service's traffic surged around the onset, as the end of an evidence line, or null when it did not. */
function surgeOf(track: SeriesTrack, anomaly: AnomalyContext): string | null {
  const before = track.history.valuesBetween(anomaly.onset - SURGE_BASELINE_FROM_MS, anomaly.onset - SURGE_BASELINE_TO_MS);
  const recent = track.history.valuesBetween(anomaly.onset - SURGE_RECENT_MS, Math.max(anomaly.now, anomaly.onset) + 1);
  const measured = recent.length >= 3 && before.length >= 3 ? median(recent) / median(before) : NaN;
  const episode = track.episodeAround(anomaly.onset - 15 * MINUTE, anomaly.onset + MINUTE);
  if (episode && episode.direction > 0 && episode.start >= anomaly.onset - EPISODE_RELEVANCE_MS) {
    // The episode keeps its last anomalous value, often taken early in a ramp: the measured multiple can be larger.
    const multiple = Math.max(episode.baseline ? episode.value / episode.baseline : NaN, measured);
    return `${Number.isFinite(multiple) ? ` to ${ratioText(multiple)} its usual level` : ''} from ${clock(episode.start)}`;
  }
  if (!(measured >= SURGE_MULTIPLE) || rankShiftPValue(before, recent) >= 0.001) return null;
  return ` to ${ratioText(measured)} its level of half an hour before (rank test p < 0.001)`;
}

/** When `service`'s alerted metric started the anomalous episode around the onset, if it had one. */
export function movedAt(service: string, anomaly: AnomalyContext, observations: Observations): number | null {
  const episode = observations.track(service, anomaly.metric)?.episodeAround(anomaly.onset - 15 * MINUTE, anomaly.now);
  return episode && episode.start >= anomaly.onset - EPISODE_RELEVANCE_MS ? episode.start : null;
}
