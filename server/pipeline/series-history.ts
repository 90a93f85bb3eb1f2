/**
 * Compact, downsampled recent history of every series, for the dashboard's charts: per series a ring
 * of fixed event-time buckets holding the mean of the values the detector saw, and the expected value
 * and normal band it gave (the last of the bucket), plus, while a rollout splits the series between
 * versions, each version's own mean.
 *
 * Sizing: 3-minute buckets over the last 3 hours (60 buckets). Three minutes is fine enough to show an
 * onset against a band (telemetry every 10 s to 1 min puts 3 to 18 points in a bucket) and coarse
 * enough that three hours fit the budget: one ArrayBuffer of 60 × (4 Float32 + 1 count byte) = 1,020
 * bytes, about 1.5 KB per series with the objects around it as V8 holds them (`retainedBytes`), so the
 * 10,000 series `pipeline.maxSeries` allows by default cost about 15 MB. While versions differ, each of
 * at most three versions adds about 0.75 KB; once no bucket in the window holds two versions they are dropped.
 *
 * This is not detector state: nothing reads it to decide anything, it is not checkpointed and it
 * starts empty after a restart or a partition handover (a chart then begins at that moment). The
 * pipeline forgets a series' history when it forgets the series, so `pipeline.maxSeries` bounds it too.
 */
import type { ServiceEntry, TelemetryPoint } from '../../contract/events.ts';
import { clipToDomain, metricDomain, type MetricDomain } from './metric-semantics.ts';

/** Width of one history bucket, event-time milliseconds. */
export const HISTORY_BUCKET_MS = 3 * 60_000;
/** Buckets kept per series: with `HISTORY_BUCKET_MS`, the last 3 hours. */
export const HISTORY_BUCKETS = 60;
/** Event time one series' history spans. */
export const HISTORY_SPAN_MS = HISTORY_BUCKET_MS * HISTORY_BUCKETS;
/** Versions whose own values are kept at once while a rollout splits a series; the least recently seen is replaced. */
export const MAX_HISTORY_VERSIONS = 3;
/** Dependency hops followed for the changes a chart marks (the service's dependencies, theirs, and theirs). */
const DEPENDENCY_HOPS = 3;

/** Float32 columns per bucket: mean value, expected, lower and upper bound of the band. */
const COLUMNS = 4;
const VALUE = 0;
const EXPECTED = 1;
const LOWER = 2;
const UPPER = 3;

/**
 * V8's cost of the fixed parts around a series' buffer, bytes, measured with heap statistics on
 * Node 20 (see test/server/pipeline/series-history.test.ts): the track object, its ArrayBuffer and two
 * typed-array views, and its entry in the history's map. The key string is the pipeline's own.
 */
export const TRACK_OVERHEAD_BYTES = 500;
/** The same for one version's column: its object, buffer and two views, and its slot in the track's list. */
export const VERSION_OVERHEAD_BYTES = 450;

/** The expected value and normal band the detector gave for a point. */
export interface HistoryBand {
  expected: number;
  lower: number;
  upper: number;
}

/** One bucket (or several merged, for a coarser step) of a series' history. */
export interface HistoryPoint {
  /** Middle of the bucket's time span, epoch ms. */
  time: number;
  value: number;
  /** NaN when the detector gave none. */
  expected: number;
  lower: number;
  upper: number;
}

/** A window of one series' history. */
export interface HistoryWindow {
  service: string;
  metric: string;
  step: number;
  points: HistoryPoint[];
  /** Per version, its mean at each of `points` (NaN where the version did not report apart from others). */
  versions: Array<{ version: string; values: number[] }>;
  /** End of the newest bucket holding data, epoch ms. */
  newest: number;
}

/** One version's own means, bucket by bucket, in the same ring as its series. */
interface VersionTrack {
  version: string;
  values: Float32Array;
  counts: Uint8Array;
  /** Newest bucket index the version reported in. */
  seenBucket: number;
}

/** One series' ring of buckets. */
interface Track {
  service: string;
  metric: string;
  /** The values the metric can take: bands are clipped to it, as alerts show them. */
  domain: MetricDomain;
  /** `HISTORY_BUCKETS` × `COLUMNS` Float32 values, then one count byte per bucket, in one buffer. */
  columns: Float32Array;
  counts: Uint8Array;
  /** Index (time ÷ bucket width) of the newest bucket; -Infinity before the first point. */
  newestBucket: number;
  /** Per-version columns while the series is split; null otherwise. */
  versions: VersionTrack[] | null;
  /** Newest bucket in which two versions or more reported. */
  splitBucket: number;
}

/** Recent downsampled history of every series the pipeline tracks, and the service catalog for its chart's changes. */
export class SeriesHistory {
  private readonly tracks = new Map<string, Track>();
  private readonly dependsOn = new Map<string, string[]>();

  /** Number of series with history. */
  get size(): number {
    return this.tracks.size;
  }

  /**
   * Adds one point the detector scored: `value` (the combined value for per-version telemetry) at
   * `timestamp`, with the band the detector gave (clipped here to the metric's domain, as alerts show
   * it); `parts` are the per-version points behind it, if any. A point older than the retained window is ignored.
   */
  record(key: string, service: string, metric: string, timestamp: number, value: number, band: HistoryBand, parts?: readonly TelemetryPoint[] | null): void {
    if (!Number.isFinite(timestamp) || !Number.isFinite(value)) return;
    let track = this.tracks.get(key);
    if (!track) this.tracks.set(key, (track = newTrack(service, metric)));
    const bucket = Math.floor(timestamp / HISTORY_BUCKET_MS);
    if (bucket > track.newestBucket) advance(track, bucket);
    else if (bucket <= track.newestBucket - HISTORY_BUCKETS) return;
    const slot = slotOf(bucket);
    const count = track.counts[slot]!;
    const at = slot * COLUMNS;
    const columns = track.columns;
    // A running mean; the count saturates at 255 (a point a second for 3 minutes), which only weights the newest a little more.
    columns[at + VALUE] = count === 0 ? value : columns[at + VALUE]! + (value - columns[at + VALUE]!) / (count + 1);
    columns[at + EXPECTED] = clipToDomain(band.expected, track.domain);
    columns[at + LOWER] = clipToDomain(band.lower, track.domain);
    columns[at + UPPER] = clipToDomain(band.upper, track.domain);
    if (count < 255) track.counts[slot] = count + 1;
    if (parts && distinctVersions(parts) >= 2) this.recordVersions(track, bucket, parts);
  }

  /** Forgets a series' history (the pipeline forgot the series, or its partition moved away). */
  forget(key: string): void {
    this.tracks.delete(key);
  }

  /** Remembers which services `entry` calls, to mark their changes on its charts. */
  observeService(entry: ServiceEntry): void {
    this.dependsOn.set(entry.name, entry.dependsOn.filter((d) => d !== entry.name));
  }

  /** `service` and the services it depends on, directly or up to three hops away, `service` first. */
  serviceAndDependencies(service: string): string[] {
    const reached = [service];
    let frontier = [service];
    for (let hop = 0; hop < DEPENDENCY_HOPS && frontier.length; hop++) {
      const next: string[] = [];
      for (const current of frontier) {
        for (const dependency of this.dependsOn.get(current) ?? []) {
          if (reached.includes(dependency)) continue;
          reached.push(dependency);
          next.push(dependency);
        }
      }
      frontier = next;
    }
    return reached;
  }

  /** True when `key` has history. */
  has(key: string): boolean {
    return this.tracks.has(key);
  }

  /** Keys of the series of `service`'s `metric` that have history. */
  keysOf(service: string, metric: string): string[] {
    const keys: string[] = [];
    for (const [key, track] of this.tracks) if (track.service === service && track.metric === metric) keys.push(key);
    return keys;
  }

  /**
   * The history of `key` between `from` and `to` (epoch ms, both optional: the whole retained window),
   * in steps of `step` ms (rounded up to a whole number of buckets; one bucket when absent); undefined
   * for a series without history. Merged buckets average their values by point count and keep the
   * newest band.
   */
  window(key: string, options: { from?: number; to?: number; step?: number } = {}): HistoryWindow | undefined {
    const track = this.tracks.get(key);
    if (!track) return undefined;
    const perStep = Math.max(1, Math.ceil((options.step ?? HISTORY_BUCKET_MS) / HISTORY_BUCKET_MS));
    const step = perStep * HISTORY_BUCKET_MS;
    const oldest = track.newestBucket - HISTORY_BUCKETS + 1;
    const first = Math.max(oldest, options.from === undefined ? oldest : Math.floor(options.from / HISTORY_BUCKET_MS));
    const last = Math.min(track.newestBucket, options.to === undefined ? track.newestBucket : Math.floor((options.to - 1) / HISTORY_BUCKET_MS));
    const points: HistoryPoint[] = [];
    const versions = (track.versions ?? []).map((v) => ({ track: v, line: { version: v.version, values: [] as number[] }, any: false }));
    // Steps are aligned to multiples of their width, so the same step gives the same points whatever `from` is.
    for (let start = Math.floor(first / perStep) * perStep; start <= last; start += perStep) {
      let count = 0;
      let sum = 0;
      let band: HistoryBand | null = null;
      const versionSums = versions.map(() => ({ sum: 0, count: 0 }));
      for (let bucket = Math.max(start, first); bucket < start + perStep && bucket <= last; bucket++) {
        const slot = slotOf(bucket);
        const n = track.counts[slot]!;
        if (n === 0) continue;
        const at = slot * COLUMNS;
        sum += track.columns[at + VALUE]! * n;
        count += n;
        band = { expected: track.columns[at + EXPECTED]!, lower: track.columns[at + LOWER]!, upper: track.columns[at + UPPER]! };
        versions.forEach((v, i) => {
          // A slot the version has not written since the ring last passed it holds an older bucket's value.
          if (bucket > v.track.seenBucket || bucket <= v.track.seenBucket - HISTORY_BUCKETS) return;
          const vn = v.track.counts[slot]!;
          if (vn === 0) return;
          versionSums[i]!.sum += v.track.values[slot]! * vn;
          versionSums[i]!.count += vn;
        });
      }
      if (count === 0) continue;
      points.push({ time: start * HISTORY_BUCKET_MS + step / 2, value: sum / count, ...band! });
      versions.forEach((v, i) => {
        const { sum: vs, count: vc } = versionSums[i]!;
        v.line.values.push(vc === 0 ? Number.NaN : vs / vc);
        if (vc > 0) v.any = true;
      });
    }
    return {
      service: track.service,
      metric: track.metric,
      step,
      points,
      versions: versions.filter((v) => v.any).map((v) => v.line),
      newest: (track.newestBucket + 1) * HISTORY_BUCKET_MS,
    };
  }

  /**
   * Bytes one series' history retains: its buffers plus V8's measured overhead for the objects around
   * them (`TRACK_OVERHEAD_BYTES`, `VERSION_OVERHEAD_BYTES`); 0 for a series without history.
   */
  retainedBytes(key: string): number {
    const track = this.tracks.get(key);
    if (!track) return 0;
    let bytes = TRACK_OVERHEAD_BYTES + track.columns.buffer.byteLength;
    for (const v of track.versions ?? []) bytes += VERSION_OVERHEAD_BYTES + v.values.buffer.byteLength + v.version.length * 2;
    return bytes;
  }

  /** Adds each version's value to its own column, making room for a new version by replacing the least recently seen. */
  private recordVersions(track: Track, bucket: number, parts: readonly TelemetryPoint[]): void {
    track.splitBucket = bucket;
    const versions = (track.versions ??= []);
    const slot = slotOf(bucket);
    for (const part of parts) {
      const version = part.tags?.version;
      if (version === undefined || !Number.isFinite(part.value)) continue;
      let column = versions.find((v) => v.version === version);
      if (!column) {
        if (versions.length < MAX_HISTORY_VERSIONS) versions.push((column = newVersionTrack(version)));
        else {
          column = versions.reduce((a, b) => (b.seenBucket < a.seenBucket ? b : a));
          Object.assign(column, newVersionTrack(version));
        }
      }
      if (column.seenBucket < bucket) clearVersionSince(column, bucket);
      const count = column.counts[slot]!;
      column.values[slot] = count === 0 ? part.value : column.values[slot]! + (part.value - column.values[slot]!) / (count + 1);
      if (count < 255) column.counts[slot] = count + 1;
    }
  }
}

/** A fresh, empty track: one buffer for the columns and the counts. */
function newTrack(service: string, metric: string): Track {
  const buffer = new ArrayBuffer(HISTORY_BUCKETS * (COLUMNS * 4 + 1));
  return {
    service,
    metric,
    domain: metricDomain(metric),
    columns: new Float32Array(buffer, 0, HISTORY_BUCKETS * COLUMNS),
    counts: new Uint8Array(buffer, HISTORY_BUCKETS * COLUMNS * 4, HISTORY_BUCKETS),
    newestBucket: Number.NEGATIVE_INFINITY,
    versions: null,
    splitBucket: Number.NEGATIVE_INFINITY,
  };
}

function newVersionTrack(version: string): VersionTrack {
  const buffer = new ArrayBuffer(HISTORY_BUCKETS * 5);
  return { version, values: new Float32Array(buffer, 0, HISTORY_BUCKETS), counts: new Uint8Array(buffer, HISTORY_BUCKETS * 4, HISTORY_BUCKETS), seenBucket: Number.NEGATIVE_INFINITY };
}

/** Moves the ring forward to `bucket`, emptying the buckets it passes (and the versions once none differ in the window). */
function advance(track: Track, bucket: number): void {
  const from = Math.max(track.newestBucket + 1, bucket - HISTORY_BUCKETS + 1);
  for (let b = from; b <= bucket; b++) track.counts[slotOf(b)] = 0;
  track.newestBucket = bucket;
  if (track.versions && track.splitBucket <= bucket - HISTORY_BUCKETS) track.versions = null;
}

/** Empties a version's buckets after the last one it reported in, up to `bucket` (the ring reuses their slots). */
function clearVersionSince(column: VersionTrack, bucket: number): void {
  const from = Math.max(column.seenBucket + 1, bucket - HISTORY_BUCKETS + 1);
  for (let b = from; b <= bucket; b++) column.counts[slotOf(b)] = 0;
  column.seenBucket = bucket;
}

function slotOf(bucket: number): number {
  return ((bucket % HISTORY_BUCKETS) + HISTORY_BUCKETS) % HISTORY_BUCKETS;
}

/** 2 when `parts` carry two versions or more, else 1 (or 0 for none). */
function distinctVersions(parts: readonly TelemetryPoint[]): number {
  const first = parts[0]?.tags?.version;
  for (const part of parts) if (part.tags?.version !== first) return 2;
  return parts.length ? 1 : 0;
}
