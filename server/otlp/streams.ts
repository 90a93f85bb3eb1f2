/**
 * The stateful half of OTLP mapping: turns readings (map.ts) into `TelemetryPoint`s, keeping the
 * previous point of every cumulative stream (and of delta streams that send no start time) so that
 * consecutive points become per-second rates and per-interval histograms.
 *
 * - A cumulative monotonic sum becomes the rate between consecutive points of its stream. A value
 *   lower than the previous one, or a new start time, is a reset: the point becomes the new baseline
 *   and no rate is emitted for it (never a negative rate). The first point of a stream only
 *   establishes its baseline.
 * - A cumulative histogram (or summary) becomes the distribution of the interval between consecutive
 *   points, bucket by bucket (distribution.ts); a reset is handled as for sums.
 * - A point not later than the previous one of its stream (a duplicate, or out of order) is skipped.
 *
 * State is per shard (a Kafka partition: a stream belongs to the partition its points arrive on, like
 * a series), bounded: at most `maxStreams` streams in all (the least recently updated stream of the
 * shard is evicted for a new one), and a stream not updated for `idleMs` of its shard's event time is
 * forgotten. It is not checkpointed: after a restart, or when a partition moves to another instance,
 * the first point of every cumulative stream only establishes a baseline again (one interval of rates
 * is not emitted). `stats()` counts baselines, resets and evictions so that this is visible.
 */
import type { TelemetryPoint } from '../../contract/events.ts';
import { quantile, subtract, type Distribution } from './distribution.ts';
import { HISTOGRAM_QUANTILES, observationRateName, quantileSuffix, rateName, type Reading } from './map.ts';

/** Bounds of the stream state. */
export interface OtlpStreamsOptions {
  /** Most streams kept, over all shards. */
  maxStreams: number;
  /** A stream not updated for this long (event time, per shard) is forgotten. */
  idleMs: number;
}

/**
 * Default bounds: 50,000 streams (a few hundred bytes each, a histogram's buckets more: tens of MB at
 * most, against the 10,000 series an instance tracks by default, several streams to a series), and
 * idle after an hour: the Collector exports every 10–60 s, so an hour without a point means the
 * stream ended (a pod gone), and a stream that comes back after that only re-learns its baseline.
 */
export const DEFAULT_OTLP_STREAMS: OtlpStreamsOptions = { maxStreams: 50_000, idleMs: 3_600_000 };

interface StreamState {
  time: number;
  start: number;
  value: number;
  dist?: Distribution;
}

interface Shard {
  /** Least recently updated first (a Map keeps insertion order; an update moves its stream to the end). */
  streams: Map<string, StreamState>;
  newest: number;
}

/** Counters of what the stream state did, for logs and tests. */
export interface OtlpStreamStats {
  streams: number;
  /** Points that only established a stream's baseline (first point, after a restart or eviction). */
  baselines: number;
  /** Points that went below their stream's previous value (or started anew): a counter reset. */
  resets: number;
  /** Streams dropped to stay within `maxStreams`. */
  evicted: number;
  /** Streams forgotten after `idleMs` without a point. */
  expired: number;
  /** Points skipped because they were not later than their stream's previous point. */
  outOfOrder: number;
}

/** Turns readings into telemetry points; one instance per service, holding every shard's streams. */
export class OtlpStreams {
  private readonly shards = new Map<string, Shard>();
  private total = 0;
  private readonly counters = { baselines: 0, resets: 0, evicted: 0, expired: 0, outOfOrder: 0 };

  constructor(private readonly options: OtlpStreamsOptions = DEFAULT_OTLP_STREAMS) {}

  /** The points `reading` becomes (none while a stream has no baseline). */
  convert(reading: Reading, shard = ''): TelemetryPoint[] {
    if (reading.kind === 'level') return [this.point(reading, reading.metric, reading.value)];
    if (reading.kind === 'count') {
      if (reading.temporality === 'delta') {
        const seconds = this.deltaInterval(reading, shard);
        return seconds === undefined ? [] : [this.point(reading, rateName(reading.metric), reading.value / seconds)];
      }
      const step = this.step(reading, shard, (prev) => (reading.value >= prev.value ? reading.value - prev.value : undefined));
      return step ? [this.point(reading, rateName(reading.metric), step.delta / step.seconds)] : [];
    }
    const out: TelemetryPoint[] = [];
    if (reading.quantiles) {
      // A summary's quantiles are the producer's own, over its own window: passed on as sent.
      for (const [q, value] of reading.quantiles) out.push(this.point(reading, `${reading.metric}.${quantileSuffix(q)}`, value));
    }
    let dist: Distribution | undefined;
    let seconds: number | undefined;
    if (reading.temporality === 'delta') {
      dist = reading.dist;
      seconds = this.deltaInterval(reading, shard);
    } else {
      const step = this.step(reading, shard, (prev) => (prev.dist ? subtract(reading.dist, prev.dist) : undefined), reading.dist);
      dist = step?.delta;
      seconds = step?.seconds;
    }
    if (!dist) return out;
    const count = dist.count;
    if (!reading.quantiles) {
      for (const [q, suffix] of HISTOGRAM_QUANTILES) {
        const value = quantile(dist, q);
        if (value !== undefined) out.push(this.point(reading, `${reading.metric}.${suffix}`, value, count));
      }
    }
    if (count > 0 && dist.sum !== undefined) out.push(this.point(reading, `${reading.metric}.mean`, dist.sum / count, count));
    if (seconds !== undefined) out.push(this.point(reading, observationRateName(reading.metric), count / seconds));
    return out.filter((p) => Number.isFinite(p.value));
  }

  /** Forgets a shard's streams (its partition moved to another instance). */
  dropShard(shard: string): void {
    const known = this.shards.get(shard);
    if (!known) return;
    this.total -= known.streams.size;
    this.shards.delete(shard);
  }

  /** What the state holds and did. */
  stats(): OtlpStreamStats {
    return { streams: this.total, ...this.counters };
  }

  /**
   * The length in seconds of a delta point's interval: from its start time, or, when it sent none,
   * since the previous point of its stream (undefined for the first).
   */
  private deltaInterval(reading: Reading, shard: string): number | undefined {
    if (reading.start > 0 && reading.start < reading.timestamp) return (reading.timestamp - reading.start) / 1000;
    const step = this.step(reading, shard, () => 0);
    return step?.seconds;
  }

  /**
   * Records the reading as its stream's latest and returns `delta(previous)` with the seconds between
   * the two, or undefined when there is no usable previous point: none yet (baseline), a reset
   * (`delta` returns undefined, or the start time changed: a new baseline), or not later (skipped).
   */
  private step<T>(reading: Reading, shard: string, delta: (prev: StreamState) => T | undefined, dist?: Distribution): { delta: T; seconds: number } | undefined {
    const state = this.shardOf(shard);
    const key = streamKey(reading);
    const prev = state.streams.get(key);
    if (reading.timestamp > state.newest) state.newest = reading.timestamp;
    if (prev && reading.timestamp <= prev.time) {
      this.counters.outOfOrder++;
      return undefined;
    }
    const next: StreamState = { time: reading.timestamp, start: reading.start, value: reading.kind === 'count' ? reading.value : 0, ...(dist ? { dist } : {}) };
    if (prev) state.streams.delete(key);
    else this.makeRoom(state);
    state.streams.set(key, next);
    this.expire(state);
    if (!prev) {
      this.counters.baselines++;
      return undefined;
    }
    const restarted = reading.start > 0 && prev.start > 0 && reading.start !== prev.start;
    const value = restarted ? undefined : delta(prev);
    if (value === undefined) {
      this.counters.resets++;
      return undefined;
    }
    return { delta: value, seconds: (reading.timestamp - prev.time) / 1000 };
  }

  private shardOf(shard: string): Shard {
    let state = this.shards.get(shard);
    if (!state) this.shards.set(shard, (state = { streams: new Map(), newest: -Infinity }));
    return state;
  }

  /** Makes room for one more stream: evicts the least recently updated of this shard (or of the largest shard). */
  private makeRoom(state: Shard): void {
    this.total++;
    while (this.total > this.options.maxStreams) {
      let from = state;
      if (from.streams.size === 0) for (const other of this.shards.values()) if (other.streams.size > from.streams.size) from = other;
      const oldest = from.streams.keys().next();
      if (oldest.done) break;
      from.streams.delete(oldest.value);
      this.total--;
      this.counters.evicted++;
    }
  }

  /** Forgets the shard's streams idle for longer than `idleMs` (they are at the front). */
  private expire(state: Shard): void {
    const limit = state.newest - this.options.idleMs;
    for (const [key, stream] of state.streams) {
      if (stream.time >= limit) break;
      state.streams.delete(key);
      this.total--;
      this.counters.expired++;
    }
  }

  private point(reading: Reading, metric: string, value: number, count?: number): TelemetryPoint {
    const point: TelemetryPoint = { service: reading.service, metric, value, timestamp: reading.timestamp };
    if (count !== undefined && count > 0 && Number.isSafeInteger(count)) point.count = count;
    if (Object.keys(reading.tags).length) point.tags = reading.tags;
    return point;
  }
}

/** A stream: kind, service, metric and tags (sorted). */
function streamKey(reading: Reading): string {
  const tags = Object.keys(reading.tags)
    .sort()
    .map((key) => `${key}=${reading.tags[key]}`)
    .join('\u0001');
  return `${reading.kind}\u0000${reading.service}\u0000${reading.metric}\u0000${tags}`;
}
