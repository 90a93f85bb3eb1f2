/**
 * What attribution remembers about one series (one service's one metric in one environment, split by
 * tags as the pipeline splits it: detectors/series-key.ts): a short history for rank tests, a short
 * history per version for version splits, and its last few anomalous episodes.
 */
import type { AttributorOptions } from './options.ts';
import { SampleRing, type RingJSON } from './ring.ts';

/** A run of anomalous points (gaps shorter than `episodeGapMs`). */
export interface Episode {
  start: number;
  last: number;
  /** +1 when the latest anomalous point was above the normal level, -1 below, 0 unknown. */
  direction: number;
  /** The latest anomalous value and the normal level it departed from. */
  value: number;
  baseline: number | null;
}

/** Serialized form of a SeriesTrack. */
export interface SeriesTrackJSON {
  history: RingJSON;
  versions: Array<[string, RingJSON]>;
  episodes: Episode[];
  baseline: number | null;
}

/** How quickly the normal-level baseline follows normal points. */
const BASELINE_ALPHA = 0.05;
/** Episodes remembered per series: enough to tell the one around an onset from the one that ended it. */
const MAX_EPISODES = 4;

/** Recent behaviour of one series. */
export class SeriesTrack {
  readonly versions = new Map<string, SampleRing>();
  /** Oldest first. */
  readonly episodes: Episode[] = [];
  /** Slow moving average of normal points: the level an anomaly departs from. */
  baseline: number | null = null;

  /** An empty track. */
  constructor(
    readonly history: SampleRing,
    private readonly options: Pick<AttributorOptions, 'versionHistorySize' | 'maxVersionsPerSeries' | 'anomalyScore' | 'episodeGapMs'>,
  ) {}

  /** Rebuilds a track from `toJSON()` output. */
  static fromJSON(json: SeriesTrackJSON, options: AttributorOptions): SeriesTrack {
    const track = new SeriesTrack(SampleRing.fromJSON(json.history), options);
    for (const [version, ring] of json.versions) track.versions.set(version, SampleRing.fromJSON(ring));
    track.episodes.push(...json.episodes.map((e) => ({ ...e })));
    track.baseline = json.baseline;
    return track;
  }

  /** Records one point; O(1) apart from the rare eviction of an old version. */
  observe(time: number, value: number, count: number, version: string | undefined, score: number): void {
    this.history.push(time, value, count);
    if (version !== undefined) this.versionRing(version).push(time, value, count);
    if (score < this.options.anomalyScore) {
      this.baseline = this.baseline === null ? value : this.baseline + BASELINE_ALPHA * (value - this.baseline);
      return;
    }
    const direction = this.baseline === null ? 0 : Math.sign(value - this.baseline);
    const current = this.episodes[this.episodes.length - 1];
    // A swing to the other side (a surge ending in a drop) starts a new episode even without a gap.
    if (current && time - current.last <= this.options.episodeGapMs && (current.direction === direction || direction === 0)) {
      current.last = time;
      current.value = value;
      current.baseline = this.baseline;
      return;
    }
    this.episodes.push({ start: time, last: time, direction, value, baseline: this.baseline });
    if (this.episodes.length > MAX_EPISODES) this.episodes.shift();
  }

  /** The latest episode that began by `startedBy` and was still anomalous at or after `activeSince`. */
  episodeAround(activeSince: number, startedBy: number): Episode | null {
    for (let i = this.episodes.length - 1; i >= 0; i--) {
      const episode = this.episodes[i]!;
      if (episode.start <= startedBy && episode.last >= activeSince) return episode;
    }
    return null;
  }

  /** Serializes the track. */
  toJSON(): SeriesTrackJSON {
    return {
      history: this.history.toJSON(),
      versions: [...this.versions].map(([version, ring]) => [version, ring.toJSON()]),
      episodes: this.episodes.map((e) => ({ ...e })),
      baseline: this.baseline,
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
