/**
 * Version split: when telemetry carries `tags.version`, the new version's series against the
 * previous version's over the same minutes — the strongest evidence attribution has.
 */
import type { ChangeEvent } from '../../contract/events.ts';
import type { Evidence, Observations } from './evidence.ts';
import { ratioText } from './format.ts';
import type { SampleRing } from './ring.ts';
import { formatP, median, rankShiftPValue, stratifiedProportionTest } from './statistics.ts';
import type { SeriesTrack } from './track.ts';
import type { AnomalyContext } from './types.ts';

const MINUTE = 60_000;
/** Minutes before the onset that still count: a slow ramp shows there first. */
const LEAD_MS = 5 * MINUTE;

/** Version split: the new version's series against the previous version's over the same minutes, the strongest evidence there is. */
export function versionSplitEvidence(change: ChangeEvent, anomaly: AnomalyContext, observations: Observations): Evidence | null {
  const version = change.version;
  if (!version) return null;
  const direction = anomaly.observed >= anomaly.expected ? 1 : -1;
  const primary = observations.track(change.service, anomaly.metric);
  const split = primary ? compareVersions(primary, anomaly.metric, version, change, anomaly, direction) : null;
  if (split) return split;
  // The alerted metric has no per-version data on the changed service: use any other metric that does, as incriminating evidence only.
  let strongest: Evidence | null = null;
  for (const [metric, track] of observations.tracksOf(change.service)) {
    if (metric === anomaly.metric) continue;
    const other = compareVersions(track, metric, version, change, anomaly, 1);
    if (other && other.weight > 0 && (!strongest || other.weight > strongest.weight)) strongest = other;
  }
  return strongest;
}

/** Compares `version` with the version it replaced on one metric, in the anomaly's direction (+1 worse = higher). */
function compareVersions(track: SeriesTrack, metric: string, version: string, change: ChangeEvent, anomaly: AnomalyContext, direction: number): Evidence | null {
  const { onset, now } = anomaly;
  const fresh = track.versions.get(version);
  if (!fresh) return null;
  const oldVersion = change.previousVersion !== undefined && track.versions.has(change.previousVersion) ? change.previousVersion : otherVersion(track, version, change.timestamp);
  const old = oldVersion === undefined ? undefined : track.versions.get(oldVersion);
  if (!old || oldVersion === undefined) return null;
  // Only minutes both versions reported, compared minute by minute: a version that took more traffic
  // during the bad minutes would otherwise look worse for having lived through the incident. And only
  // minutes around the anomaly: before it both versions may have been equally healthy.
  const from = Math.max(change.timestamp, onset - LEAD_MS);
  const freshMinutes = byMinute(fresh, from, now + 1);
  const oldMinutes = byMinute(old, from, now + 1);
  const shared = [...freshMinutes.keys()].filter((minute) => oldMinutes.has(minute));
  if (!shared.length) return null;
  const pairs = shared.map((minute) => [freshMinutes.get(minute)!, oldMinutes.get(minute)!] as const);
  let ratio: number;
  let p: number;
  let enough: boolean;
  if (pairs.every(([a, b]) => a.requests > 0 && b.requests > 0)) {
    // A ratio with request counts: a stratified proportion test (exact where a rank test on fractions is not).
    const strata = pairs.map(([a, b]) => {
      const [worse, better] = direction > 0 ? [a, b] : [b, a];
      return { errorsA: worse.failures, totalA: worse.requests, errorsB: better.failures, totalB: better.requests };
    });
    const test = stratifiedProportionTest(strata);
    p = test.p;
    ratio = direction > 0 ? test.ratio : 1 / test.ratio;
    const requests = (side: 0 | 1) => pairs.reduce((sum, pair) => sum + pair[side].requests, 0);
    enough = pairs.length >= 3 && requests(0) >= 300 && requests(1) >= 300;
  } else {
    const freshValues = pairs.flatMap(([a]) => a.values);
    const oldValues = pairs.flatMap(([, b]) => b.values);
    p = direction > 0 ? rankShiftPValue(oldValues, freshValues) : rankShiftPValue(freshValues, oldValues);
    ratio = median(freshValues) / Math.max(Math.abs(median(oldValues)), 1e-9);
    enough = freshValues.length >= 6 && oldValues.length >= 6;
  }
  if (!Number.isFinite(ratio)) return null;
  const label = `${metric} of ${version} is ${ratioText(ratio)} ${oldVersion} over the same minutes`;
  const worse = direction > 0 ? ratio >= 1.25 : ratio <= 0.8;
  if (p < 0.001 && worse) return { weight: 4.5, line: `${label}, ${formatP(p)}` };
  if (p < 0.01 && worse) return { weight: 2, line: `${label}, ${formatP(p)}` };
  if (enough && p > 0.1) return { weight: -3, line: `${label} (${formatP(p)}): the new version is not what broke` };
  return null;
}

interface MinuteSummary {
  values: number[];
  failures: number;
  requests: number;
}

/** Samples with from ≤ time < to grouped by event-time minute, with failures and requests summed where counts are known. */
function byMinute(ring: SampleRing, from: number, to: number): Map<number, MinuteSummary> {
  const minutes = new Map<number, MinuteSummary>();
  for (let i = 0; i < ring.length; i++) {
    const time = ring.timeAt(i);
    if (!(time >= from && time < to)) continue;
    const value = ring.valueAt(i);
    const count = ring.countAt(i);
    const minute = Math.floor(time / MINUTE);
    let summary = minutes.get(minute);
    if (!summary) minutes.set(minute, (summary = { values: [], failures: 0, requests: 0 }));
    summary.values.push(value);
    summary.failures += value * count;
    summary.requests += count;
  }
  return minutes;
}

/** The version other than `version` with the most samples since `since` (the one still serving the rest of the traffic). */
function otherVersion(track: SeriesTrack, version: string, since: number): string | undefined {
  let best: string | undefined;
  let bestCount = 0;
  for (const [name, ring] of track.versions) {
    if (name === version) continue;
    const count = ring.countBetween(since, Infinity);
    if (count > bestCount) {
      best = name;
      bestCount = count;
    }
  }
  return best;
}
