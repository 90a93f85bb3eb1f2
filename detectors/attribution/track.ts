/**
 * What attribution remembers about one series (one service's one metric): a short history for rank
 * tests, a short history per version for version splits, and when its current anomalous episode began.
 */
import type { AttributorOptions } from './options.ts';
import { SampleRing, type RingJSON } from './ring.ts';

/** Serialized form of a SeriesTrack. */
export interface SeriesTrackJSON {
  history: RingJSON;
  versions: Array<[string, RingJSON]>;
  anomalousSince: number | null;
  lastAnomalousAt: number | null;
  direction: number;
  baseline: number | null;
  lastAnomalousValue: number | null;
}

/** How quickly the normal-level baseline follows normal points. */
const BASELINE_ALPHA = 0.05;

/** Recent behaviour of one series. */
export class SeriesTrack {
  readonly versions = new Map<string, SampleRing>();
  /** Event time the current (or latest) anomalous episode began. */
  anomalousSince: number | null = null;
  lastAnomalousAt: number | null = null;
  /** +1 when the latest anomalous point was above the normal level, -1 below, 0 unknown. */
  direction = 0;
  /** Slow moving average of normal points: the level an anomaly departs from. */
  baseline: number | null = null;
  lastAnomalousValue: number | null = null;

  /** An empty track. */
  constructor(
    readonly history: SampleRing,
    private readonly options: Pick<AttributorOptions, 'versionHistorySize' | 'maxVersionsPerSeries' | 'anomalyScore' | 'episodeGapMs'>,
  ) {}

  /** Rebuilds a track from `toJSON()` output. */
  static fromJSON(json: SeriesTrackJSON, options: AttributorOptions): SeriesTrack {
    const track = new SeriesTrack(SampleRing.fromJSON(json.history), options);
    for (const [version, ring] of json.versions) track.versions.set(version, SampleRing.fromJSON(ring));
    track.anomalousSince = json.anomalousSince;
    track.lastAnomalousAt = json.lastAnomalousAt;
    track.direction = json.direction;
    track.baseline = json.baseline;
    track.lastAnomalousValue = json.lastAnomalousValue;
    return track;
  }

  /** Records one point; O(1) apart from the rare eviction of an old version. */
  observe(time: number, value: number, count: number, version: string | undefined, score: number): void {
    this.history.push(time, value, count);
    if (version !== undefined) this.versionRing(version).push(time, value, count);
    if (score >= this.options.anomalyScore) {
      const continues = this.lastAnomalousAt !== null && time - this.lastAnomalousAt <= this.options.episodeGapMs;
      if (!continues) this.anomalousSince = time;
      this.lastAnomalousAt = time;
      this.lastAnomalousValue = value;
      this.direction = this.baseline === null ? 0 : Math.sign(value - this.baseline);
    } else {
      this.baseline = this.baseline === null ? value : this.baseline + BASELINE_ALPHA * (value - this.baseline);
    }
  }

  /** When this series' latest episode began, if it was still anomalous at or after `activeSince`. */
  episodeStart(activeSince: number): number | null {
    return this.lastAnomalousAt !== null && this.lastAnomalousAt >= activeSince ? this.anomalousSince : null;
  }

  /** Serializes the track. */
  toJSON(): SeriesTrackJSON {
    return {
      history: this.history.toJSON(),
      versions: [...this.versions].map(([version, ring]) => [version, ring.toJSON()]),
      anomalousSince: this.anomalousSince,
      lastAnomalousAt: this.lastAnomalousAt,
      direction: this.direction,
      baseline: this.baseline,
      lastAnomalousValue: this.lastAnomalousValue,
    };
  }

  private versionRing(version: string): SampleRing {
    let ring = this.versions.get(version);
    if (ring) return ring;
    if (this.versions.size >= this.options.maxVersionsPerSeries) {
      let stalest: string | undefined;
      for (const [name, candidate] of this.versions) if (stalest === undefined || candidate.latest < this.versions.get(stalest)!.latest) stalest = name;
      this.versions.delete(stalest!);
    }
    ring = new SampleRing(this.options.versionHistorySize);
    this.versions.set(version, ring);
    return ring;
  }
}
