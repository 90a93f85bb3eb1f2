/**
 * The streaming core: takes validated records in event-time order, runs one detector per series,
 * opens, updates and resolves alerts, and asks the attribution engine which change caused each one.
 *
 * It is synchronous and deterministic (event time only, never the wall clock), so the live Kafka
 * consumer and `changewatch replay` produce the same alerts for the same input, and its whole state
 * serializes for checkpoints.
 *
 * A series is a service's metric in one environment, split by every tag but `version`
 * (detectors/series-key.ts; attribution tracks the same series). Points tagged with a `version` are
 * parts of their series: the parts of one timestamp are buffered and combined into one point before the
 * detector sees it (summed for rates and counters, a count-weighted mean otherwise:
 * `metric-semantics.ts`), so a rollout that splits the traffic between two versions does not read as a
 * drop. Attribution still sees every part.
 *
 * Every series belongs to a shard, named by the edge that feeds it (the Kafka partition its points
 * arrive on; '' for a replay): the state of one shard is saved (`shardChanges`, only the series that
 * changed), dropped (`dropShard`) and restored (`importShard`) on its own, so several instances can
 * each own some partitions and hand them over (docs/scaling.md).
 */
import { createHash } from 'node:crypto';
import type { ChangeEvent, TelemetryPoint } from '../../contract/events.ts';
import { ALERT_THRESHOLD } from '../../detectors/index.ts';
import type { Detector, DetectorState, SeriesHints } from '../../detectors/types.ts';
import { DEFAULT_ENVIRONMENT, environmentOf, scopeOfKey, seriesKey, seriesScope } from '../../detectors/series-key.ts';
import type { Attribution, Attributor, SeriesRef } from '../../detectors/attribution/types.ts';
import type { Alert, Severity } from '../../contract/alert.ts';
import type { ReplayRecord } from '../wire/schemas.ts';
import { createError, type ChangewatchError } from '../errors.ts';
import { formatClock, formatValue } from './format.ts';
import { clipToDomain, metricDomain, metricSemantics, type MetricDomain, type MetricSemantics } from './metric-semantics.ts';
import { SeriesHistory } from './series-history.ts';

/** Tunables of the alert state machine, all in event time. */
export interface PipelineOptions {
  /** Detector score at or above which a point is anomalous (opens or keeps an alert); attribution is given the same. */
  alertThreshold: number;
  /** Score at or above which an alert is critical rather than a warning. */
  criticalScore: number;
  /**
   * An alert is also critical, whatever its score, when the metric is this many half-widths of its
   * normal band (a half-width is 4 σ for the default detector) away from the expected value and has
   * at least doubled or halved: the score says how sure we are, this says how bad it is.
   */
  criticalDeviation: number;
  /** An alert resolves after its series has been normal this long. */
  resolveAfterMs: number;
  /** Points older than their series' newest point by more than this are rejected as late. */
  maxLatenessMs: number;
  /** An open alert with no material change is re-emitted at most this often (a heartbeat for consumers). */
  reemitEveryMs: number;
  /** While an alert stays anomalous, its suspects are re-ranked at most this often (new changes re-rank at once). */
  reattributeEveryMs: number;
  /** How often (in a service's event time) its series are checked for having stopped reporting. */
  silenceCheckEveryMs: number;
  /** Environment of telemetry that carries no `environment` (or `env`) tag; attribution is given the same. */
  defaultEnvironment: string;
  /**
   * Most series tracked at once; a point that would start another is refused (CW_SERIES_LIMIT).
   * Each series costs about 12 KB of memory (and 1.5 KB of chart history, series-history.ts) and 10 KB of every checkpoint, so a producer that puts a
   * request id in a tag cannot grow the state until checkpoints fail.
   */
  maxSeries: number;
  /**
   * A series without a point for this long, by its service's event time, is forgotten (unless an
   * anomaly alert on it is open; a "stopped reporting" alert resolves), so series of tags that come
   * and go (pods, hosts) free their slot. A metric that reports less often starts learning again.
   */
  seriesIdleMs: number;
}

/** Defaults suited to telemetry sampled every few seconds to a minute. */
export const DEFAULT_PIPELINE_OPTIONS: Readonly<PipelineOptions> = Object.freeze({
  alertThreshold: ALERT_THRESHOLD,
  criticalScore: 0.95,
  criticalDeviation: 3,
  resolveAfterMs: 5 * 60_000,
  maxLatenessMs: 5 * 60_000,
  reemitEveryMs: 60_000,
  reattributeEveryMs: 30_000,
  silenceCheckEveryMs: 30_000,
  defaultEnvironment: DEFAULT_ENVIRONMENT,
  maxSeries: 10_000,
  seriesIdleMs: 24 * 3_600_000,
});

/** How the pipeline makes and restores detectors; the detectors library provides both. */
export interface DetectorFactory {
  create(hints: SeriesHints): Detector;
  restore(state: DetectorState): Detector;
}

/** What one record produced. */
export interface IngestResult {
  /** Alerts opened, updated or resolved by this record, in order. */
  alerts: Alert[];
  /** Set when the record was refused (e.g. too late); the caller dead-letters it. */
  rejected?: ChangewatchError;
  /** Set for a change seen before (same id and time): read again, not news. */
  repeated?: boolean;
}

interface OpenAlert {
  alert: Alert;
  /** The normal band the detector gave at the onset: the alert resolves only when values are back in it. */
  baseline: { lower: number; upper: number };
  /** Event time since which the series has been normal, or null while it is anomalous. */
  normalSince: number | null;
  /** The emitted version, to decide whether a new state is worth emitting. */
  lastEmitted: Alert;
  /** `Date.parse(lastEmitted.updatedAt)`, kept so that the per-point heartbeat check parses no dates (not checkpointed). */
  lastEmittedAt: number;
  /** Event time of the last attribution; ranking is re-run at most every `reattributeEveryMs` while nothing else changes. */
  attributedAt: number;
  /** Opened because the series stopped reporting; resolves as soon as a point arrives. */
  silent: boolean;
}

interface Series {
  key: string;
  service: string;
  metric: string;
  environment: string;
  /** Environment and splitting tags: the rest of `key` (`seriesScope`), as attribution tracks the series. */
  scope: string;
  /** The shard (Kafka partition) the series' points arrive on; '' when unsharded (a replay, an old checkpoint). */
  shard: string;
  detector: Detector;
  /** Newest event time of any point received, buffered parts included (lateness and silence go by it). */
  lastTimestamp: number;
  /** The value the detector saw last (a combined one for per-version parts). */
  lastValue: number;
  open: OpenAlert | null;
  /**
   * Versions of the last combined group of per-version parts, in arrival order (and any that reported
   * late for its timestamp): once each has reported for the buffered timestamp, the group is combined
   * at once instead of waiting for the next timestamp. Empty for a series without version tags.
   */
  versions: string[];
  /** Per-version parts of one timestamp waiting to be combined, in arrival order; null when none. */
  pending: TelemetryPoint[] | null;
  /** Event time of the last combined group; null before the first. */
  combinedAt: number | null;
  /** The detector's score of that group: parts arriving late for its timestamp reach attribution with it. */
  combinedScore: number;
}

/** Fields of a series that checkpoints written before per-version combining (or before shards) lack. */
type CombiningFields = 'versions' | 'pending' | 'combinedAt' | 'combinedScore' | 'scope' | 'shard';

/** One series as a snapshot holds it. */
type SeriesJSON = Omit<Series, 'detector' | 'open' | CombiningFields> & Partial<Pick<Series, CombiningFields>> & { detector: DetectorState; open: Omit<OpenAlert, 'lastEmittedAt'> | null };

/**
 * One series of one shard as a checkpoint row holds it (`shardChanges` writes it as JSON text, in
 * `importShard` it comes back): the series, its service's clock when it was written, and what
 * attribution keeps about it.
 */
interface SeriesRecord {
  version: 1;
  series: SeriesJSON;
  clock: { watermark: number; checkedAt: number };
  attribution?: unknown;
}

/** What changed in one shard since its last save: series to write (as JSON text) and series to delete. */
export interface ShardChanges {
  upserts: Array<{ key: string; state: string }>;
  deletes: string[];
}

/**
 * A deploy or rollback to `version` seen on a service: for `VERSION_ANNOUNCE_MS` around its time, its
 * versioned series do not combine a timestamp's parts before that version has reported too, so the
 * new version's first points are not left out of the sum (which would read as a drop).
 */
interface VersionAnnouncement {
  version: string;
  environment: string;
  at: number;
}

/** How long (event time, either side of the change) a deployed version is waited for before it first reports. */
const VERSION_ANNOUNCE_MS = 10 * 60_000;
/**
 * Change ids remembered to recognize a change read again: a changes topic re-read from its start
 * after a restart. Far more than attribution keeps (it forgets changes after hours); about 100 bytes each.
 */
const MAX_SEEN_CHANGES = 100_000;
/** Announcements remembered per service; the oldest are dropped first. */
const MAX_ANNOUNCEMENTS = 8;

/**
 * A service's own event time: the newest point of any of its series. A series is silent when its
 * service's clock has moved on without it; using the service's clock, not the fleet's, keeps a lagging
 * partition (all of a service's telemetry shares one) from looking like a stopped metric.
 */
interface ServiceClock {
  watermark: number;
  checkedAt: number;
  series: Series[];
}

/** Serialized pipeline state for checkpoints. */
export interface PipelineSnapshot {
  version: 1;
  /** Series; the per-version combining fields (and shard and scope) are absent in checkpoints written before they existed. */
  series: SeriesJSON[];
  clocks: Array<{ service: string; watermark: number; checkedAt: number }>;
  /** Recently deployed versions by service (absent in older checkpoints). */
  announced?: Array<VersionAnnouncement & { service: string }>;
  attributor: unknown;
}

/** The detection and alerting core. */
export class Pipeline {
  private readonly series = new Map<string, Series>();
  /**
   * The same series by service, then metric, then scope (the rest of the key, `seriesScope`: environment
   * and splitting tags): finds a point's series without building and hashing its whole key on every point.
   */
  private readonly seriesIndex = new Map<string, Map<string, Map<string, Series>>>();
  private readonly clocks = new Map<string, ServiceClock>();
  /** Versions recently deployed, by service, that its versioned series wait for (see `VersionAnnouncement`). */
  private readonly announced = new Map<string, VersionAnnouncement[]>();
  /** Id → time of changes seen, oldest first, to tell a change read again from a new one (`MAX_SEEN_CHANGES`). */
  private readonly changesSeen = new Map<string, number>();
  /** Keys of series changed since their shard's last `shardChanges`, by shard. */
  private readonly changed = new Map<string, Set<string>>();
  /** Keys of series forgotten (or moved to another shard) since their shard's last `shardChanges`, by shard. */
  private readonly removed = new Map<string, Set<string>>();
  /** Recent downsampled values and bands of every tracked series, for charts; never read to decide anything, never checkpointed. */
  readonly history = new SeriesHistory();

  constructor(
    private readonly detectors: DetectorFactory,
    private readonly attributor: Attributor,
    private readonly options: PipelineOptions = DEFAULT_PIPELINE_OPTIONS,
  ) {}

  /**
   * Handles one record and returns the alerts it produced. Never throws on valid records. A point's
   * series belongs to `shard` from now on (the partition it arrived on); changes and catalog entries
   * belong to no shard: every instance sees all of them.
   */
  ingest(record: ReplayRecord, shard = ''): IngestResult {
    if ('metric' in record) return this.ingestPoint(record.metric, shard);
    if ('change' in record) {
      if (this.seenChange(record.change)) return { alerts: [], repeated: true };
      return { alerts: this.ingestChange(record.change) };
    }
    this.attributor.observeService(record.service);
    this.history.observeService(record.service);
    return { alerts: [] };
  }

  /** Alerts currently firing or acknowledged. */
  openAlerts(): Alert[] {
    const alerts: Alert[] = [];
    for (const s of this.series.values()) if (s.open) alerts.push(s.open.alert);
    return alerts;
  }

  /** Recent changes, newest first. */
  recentChanges(limit: number): ChangeEvent[] {
    return this.attributor.recentChanges(limit);
  }

  /** Number of series being tracked. */
  get seriesCount(): number {
    return this.series.size;
  }

  /**
   * The series of `shard` changed (or forgotten) since the last call, with all of them when `all`;
   * forgets what it returns. When saving them fails, `unsaved` marks them again.
   */
  shardChanges(shard: string, all = false): ShardChanges {
    const keys = all ? [...this.series.values()].filter((s) => s.shard === shard).map((s) => s.key) : [...(this.changed.get(shard) ?? [])];
    const upserts: ShardChanges['upserts'] = [];
    for (const key of keys) {
      const series = this.series.get(key);
      if (series?.shard === shard) upserts.push({ key, state: JSON.stringify(this.recordOf(series)) });
    }
    const deletes = [...(this.removed.get(shard) ?? [])];
    this.changed.delete(shard);
    this.removed.delete(shard);
    return { upserts, deletes };
  }

  /** Marks again what a `shardChanges` returned that could not be saved, so the next call returns it. */
  unsaved(shard: string, changes: ShardChanges): void {
    for (const { key } of changes.upserts) {
      const series = this.series.get(key);
      if (series?.shard === shard) this.markChanged(series);
    }
    for (const key of changes.deletes) if (this.series.get(key)?.shard !== shard) this.markRemoved(shard, key);
  }

  /** Shards that have series or unsaved changes. */
  shards(): Set<string> {
    const shards = new Set<string>([...this.changed.keys(), ...this.removed.keys()]);
    for (const s of this.series.values()) shards.add(s.shard);
    return shards;
  }

  /**
   * Forgets every series of `shard` without a word (no alert resolves: the instance that takes the
   * shard over goes on with them), and what attribution kept about them.
   */
  dropShard(shard: string): void {
    for (const series of [...this.series.values()]) if (series.shard === shard) this.untrack(series);
    this.changed.delete(shard);
    this.removed.delete(shard);
  }

  /**
   * Restores the series of `shard` from the rows a `shardChanges` wrote (JSON text). A series already
   * tracked under the same key is replaced. Returns how many were restored.
   */
  importShard(shard: string, states: Iterable<string>): number {
    let restored = 0;
    for (const state of states) {
      const record = JSON.parse(state) as SeriesRecord;
      const existing = this.series.get(record.series.key);
      if (existing) this.untrack(existing);
      const series = this.track(this.seriesFromJSON(record.series, shard));
      const clock = this.clocks.get(series.service)!;
      clock.watermark = Math.max(clock.watermark, record.clock.watermark);
      clock.checkedAt = Math.max(clock.checkedAt, record.clock.checkedAt);
      this.attributor.importSeries(refOf(series), record.attribution, series.open ? Date.parse(series.open.alert.startedAt) : undefined);
      restored++;
    }
    return restored;
  }

  /** Serializes the whole state; `Pipeline.restore` continues exactly from here. */
  snapshot(): PipelineSnapshot {
    return {
      version: 1,
      series: [...this.series.values()].map(seriesJSON),
      clocks: [...this.clocks].map(([service, c]) => ({ service, watermark: c.watermark, checkedAt: c.checkedAt })),
      announced: [...this.announced].flatMap(([service, list]) => list.map((a) => ({ service, ...a }))),
      attributor: this.attributor.toJSON(),
    };
  }

  /** Rebuilds a pipeline from a snapshot, with an attributor already restored from `snapshot.attributor`. */
  static restore(snapshot: PipelineSnapshot, detectors: DetectorFactory, attributor: Attributor, options?: PipelineOptions): Pipeline {
    const pipeline = new Pipeline(detectors, attributor, options);
    for (const { service, watermark, checkedAt } of snapshot.clocks) pipeline.clocks.set(service, { watermark, checkedAt, series: [] });
    for (const series of snapshot.series) pipeline.track(pipeline.seriesFromJSON(series, series.shard ?? ''));
    for (const { service, ...announcement } of snapshot.announced ?? []) {
      const list = pipeline.announced.get(service) ?? [];
      list.push(announcement);
      pipeline.announced.set(service, list);
    }
    return pipeline;
  }

  /** A series as a snapshot or checkpoint row holds it, in `shard`, ready to track. */
  private seriesFromJSON(json: SeriesJSON, shard: string): Series {
    const { detector, versions = [], pending = null, combinedAt = null, combinedScore = 0, scope, shard: _saved, ...rest } = json;
    const open = rest.open && { ...rest.open, lastEmittedAt: Date.parse(rest.open.lastEmitted.updatedAt) };
    // An alert checkpointed before `peak` existed: its observed value is the most extreme one known.
    if (open) open.alert.peak ??= open.alert.observed;
    return {
      ...rest,
      scope: scope ?? scopeOfKey(rest.key, rest.service, rest.metric) ?? rest.environment,
      shard,
      open,
      detector: this.detectors.restore(detector),
      versions: [...versions],
      pending: pending && [...pending],
      combinedAt,
      combinedScore,
    };
  }

  /** The checkpoint row of one series. */
  private recordOf(series: Series): SeriesRecord {
    const clock = this.clocks.get(series.service)!;
    const attribution = this.attributor.exportSeries(refOf(series), series.open ? Date.parse(series.open.alert.startedAt) : undefined);
    return { version: 1, series: seriesJSON(series), clock: { watermark: clock.watermark, checkedAt: clock.checkedAt }, ...(attribution === undefined ? {} : { attribution }) };
  }

  private markChanged(series: Series): void {
    let keys = this.changed.get(series.shard);
    if (!keys) this.changed.set(series.shard, (keys = new Set()));
    keys.add(series.key);
  }

  private markRemoved(shard: string, key: string): void {
    this.changed.get(shard)?.delete(key);
    let keys = this.removed.get(shard);
    if (!keys) this.removed.set(shard, (keys = new Set()));
    keys.add(key);
  }

  private ingestPoint(point: TelemetryPoint, shard: string): IngestResult {
    const series = this.seriesOf(point, shard);
    if (series === undefined) {
      return {
        alerts: [],
        rejected: createError(
          'CW_SERIES_LIMIT',
          `${point.service} ${point.metric} would be a new series, but ${this.series.size} series are tracked already (pipeline.maxSeries); raise the limit or drop the tag that makes every point a series of its own`,
          { service: point.service, metric: point.metric, maxSeries: this.options.maxSeries },
        ),
      };
    }
    if (point.timestamp < series.lastTimestamp - this.options.maxLatenessMs) {
      return {
        alerts: [],
        rejected: createError(
          'CW_EVENT_LATE',
          `point at ${new Date(point.timestamp).toISOString()} is more than ${this.options.maxLatenessMs} ms older than its series' newest point`,
          { series: series.key, newest: new Date(series.lastTimestamp).toISOString() },
        ),
      };
    }
    if (series.shard !== shard) {
      // The producer's partitioning changed (or the series comes from an unsharded checkpoint): it moves.
      this.markRemoved(series.shard, series.key);
      series.shard = shard;
    }
    this.markChanged(series);
    const alerts = this.checkSilence(series, point.timestamp);
    series.lastTimestamp = Math.max(series.lastTimestamp, point.timestamp);
    const version = point.tags?.version;
    const pending = series.pending;
    // A point of a later timestamp completes the buffered parts, so the detector still sees event-time order.
    if (pending && point.timestamp > pending[0]!.timestamp) this.combine(series, alerts);
    if (version === undefined) this.observe(series, point, null, alerts);
    else this.buffer(series, point, version, alerts);
    return { alerts };
  }

  /**
   * Adds a per-version part to its series' buffered timestamp, and combines the group at once when every
   * version expected there has reported. A part older than the buffered timestamp, or of a timestamp
   * already combined, was too late to be part of its sum: the detector never sees it (it has moved on),
   * attribution does, with its timestamp's score when that is the last combined one and 0 otherwise.
   */
  private buffer(series: Series, point: TelemetryPoint, version: string, alerts: Alert[]): void {
    const pending = series.pending;
    const at = pending ? pending[0]!.timestamp : series.combinedAt;
    if (at !== null && point.timestamp <= at && !(pending && point.timestamp === at)) {
      if (point.timestamp === series.combinedAt) {
        // A version that joined after its timestamp was combined (it was not expected yet) is waited for from now on.
        if (!series.versions.includes(version)) series.versions.push(version);
        this.attributor.observePoint(point, series.combinedScore);
      } else {
        this.attributor.observePoint(point, 0);
      }
      return;
    }
    if (pending) pending.push(point);
    else series.pending = [point];
    if (this.groupComplete(series, series.pending!)) this.combine(series, alerts);
  }

  /** True when every version of the last combined group, and every version just deployed on the service, has a part in `parts`. */
  private groupComplete(series: Series, parts: TelemetryPoint[]): boolean {
    // The first group of a series has nothing to compare with: it waits for the next timestamp.
    if (!series.versions.length) return false;
    const has = (version: string) => parts.some((p) => p.tags!.version === version);
    for (const version of series.versions) if (!has(version)) return false;
    const at = parts[0]!.timestamp;
    for (const a of this.announced.get(series.service) ?? []) {
      if (Math.abs(at - a.at) > VERSION_ANNOUNCE_MS || (a.environment && a.environment !== series.environment)) continue;
      if (!has(a.version)) return false;
    }
    return true;
  }

  /** Combines the buffered parts into one point and feeds it to the detector and the alert state machine. */
  private combine(series: Series, alerts: Alert[]): void {
    const parts = series.pending!;
    series.pending = null;
    const timestamp = parts[0]!.timestamp;
    const versions: string[] = [];
    for (const part of parts) if (!versions.includes(part.tags!.version!)) versions.push(part.tags!.version!);
    const point = parts.length === 1 ? parts[0]! : { service: series.service, metric: series.metric, timestamp, ...combineParts(parts, metricSemantics(series.metric)) };
    series.versions = versions;
    series.combinedAt = timestamp;
    series.combinedScore = this.observe(series, point, parts, alerts);
  }

  /**
   * Feeds one point (a whole: unversioned, or the combination of `parts`) to the series' detector and
   * alert state machine, and every original point to attribution; returns the detector's score.
   */
  private observe(series: Series, point: TelemetryPoint, parts: TelemetryPoint[] | null, alerts: Alert[]): number {
    // A TelemetryPoint is a detector Point (timestamp, value, count); passing it as is saves an allocation per point.
    const verdict = series.detector.update(point);
    // A counter is judged as its rate: the alert, its band, the chart and attribution all speak of that
    // value, never of the running total (whose "898,218,921 vs expected 377" would also always be critical).
    const value = verdict.judged ?? point.value;
    series.lastValue = value;
    // A detector that misbehaves must not poison alerts: treat a non-finite score as normal.
    const score = Number.isFinite(verdict.score) ? verdict.score : 0;
    // Attribution compares versions: it sees each version's own value, scored as the whole was. A
    // transformed value (a counter's rate) has no per-version counterpart, so it sees the whole.
    if (verdict.judged !== undefined) this.attributor.observePoint({ ...point, value }, score);
    else if (parts) for (const part of parts) this.attributor.observePoint(part, score);
    else this.attributor.observePoint(point, score);
    this.history.record(series.key, series.service, series.metric, point.timestamp, value, verdict, verdict.judged === undefined ? parts : null);

    const anomalous = score >= this.options.alertThreshold;
    const open = series.open;
    if (!open) {
      // A rare point still inside the normal band the alert would show (a burst of noise, a variance
      // change) does not page: every alert's observed value lies outside its expected range. This cut
      // false alarms on the attribution benchmark's quiet periods from 4.0 to 0.4 an hour.
      if (anomalous) {
        const band = clippedBand(series.metric, verdict);
        if (!withinBand(band, value)) alerts.push(this.openAlert(series, point.timestamp, value, score, verdict, false));
      }
      return score;
    }

    const alert = open.alert;
    // An open alert tells the current truth: observed follows the metric, peak keeps the worst of it.
    if (Number.isFinite(value)) {
      alert.peak = extremeOf(alert, value);
      alert.observed = value;
    }
    if (anomalous) {
      open.normalSince = null;
      const band = clippedBand(series.metric, verdict);
      alert.expected = band.expected;
      alert.lower = band.lower;
      alert.upper = band.upper;
      const rising = score >= alert.score + 0.05;
      alert.score = Math.max(alert.score, score);
      // Severity only escalates within an alert: a page does not turn into a warning mid-incident.
      if (alert.severity !== 'critical') alert.severity = this.severityOf(alert.score, value, band);
      alert.updatedAt = iso(point.timestamp);
      // Ranking is the expensive step: redo it when the anomaly grows or evidence has had time to accumulate.
      if (rising || point.timestamp - open.attributedAt >= this.options.reattributeEveryMs) {
        this.applyAttribution(alert, series.key, point.timestamp, value, verdict.reason);
        open.attributedAt = point.timestamp;
      }
    } else if (!withinBaseline(open.baseline, value)) {
      // Adaptive detectors stop being surprised by a level shift that persists; the alert does not
      // resolve until the metric is back where it was before the onset.
      open.normalSince = null;
    } else {
      open.normalSince ??= point.timestamp;
      if (point.timestamp - open.normalSince >= this.options.resolveAfterMs) {
        const expected = clipToDomain(verdict.expected, metricDomain(series.metric));
        alert.status = 'resolved';
        alert.expected = expected;
        alert.updatedAt = iso(point.timestamp);
        alert.resolvedAt = iso(point.timestamp);
        alert.explanation = `${alert.service} ${alert.metric} is back to normal (${formatValue(value)}, expected ${formatValue(expected)}) since ${formatClock(open.normalSince)} after an anomaly that started at ${formatClock(Date.parse(alert.startedAt))}.`;
        series.open = null;
        alerts.push({ ...alert });
        return score;
      }
    }
    this.emitIfChanged(open, point.timestamp, alerts);
    return score;
  }

  /** The point's series, created on its first point; undefined when that would exceed `maxSeries`. */
  private seriesOf(point: TelemetryPoint, shard: string): Series | undefined {
    const tags = point.tags;
    const environment = environmentOf(tags, this.options.defaultEnvironment);
    // Equal scopes of one service and metric mean equal keys.
    const scope = seriesScope(environment, tags);
    let byMetric = this.seriesIndex.get(point.service);
    let byScope = byMetric?.get(point.metric);
    const indexed = byScope?.get(scope);
    if (indexed) return indexed;
    const key = seriesKey({ service: point.service, metric: point.metric, environment, tags });
    const known = this.series.get(key);
    if (known === undefined && this.series.size >= this.options.maxSeries) return undefined;
    const series =
      known ??
      this.track({
        key,
        service: point.service,
        metric: point.metric,
        environment,
        scope,
        shard,
        detector: this.detectors.create({ metric: point.metric }),
        lastTimestamp: point.timestamp,
        lastValue: point.value,
        open: null,
        versions: [],
        pending: null,
        combinedAt: null,
        combinedScore: 0,
      });
    if (!byMetric) this.seriesIndex.set(point.service, (byMetric = new Map()));
    if (!byScope) byMetric.set(point.metric, (byScope = new Map()));
    byScope.set(scope, series);
    return series;
  }

  /** Opens an alert on `series`; its band and baseline are the detector's clipped to the metric's domain. */
  private openAlert(series: Series, at: number, observed: number, score: number, verdict: Band & { reason: string }, silent: boolean): Alert {
    const domain = metricDomain(series.metric);
    const band = clippedBand(series.metric, verdict);
    const alert: Alert = {
      id: alertId(series.key, at),
      status: 'firing',
      severity: this.severityOf(score, observed, band),
      service: series.service,
      environment: series.environment,
      metric: series.metric,
      startedAt: iso(at),
      updatedAt: iso(at),
      observed,
      peak: observed,
      expected: band.expected,
      lower: band.lower,
      upper: band.upper,
      score,
      detector: series.detector.method,
      explanation: '',
      suspects: [],
      noChangeConfidence: 1,
    };
    this.applyAttribution(alert, series.key, at, observed, silent ? `stopped reporting (${verdict.reason})` : verdict.reason);
    const lastEmitted = structuredClone(alert);
    series.open = { alert, baseline: baselineBand(verdict, domain), normalSince: null, lastEmitted, lastEmittedAt: Date.parse(lastEmitted.updatedAt), attributedAt: at, silent };
    return { ...alert };
  }

  /** Stops tracking a series: its entries in the series map and index, its service's clock, and attribution. */
  private untrack(series: Series): void {
    this.forget(series);
    const clock = this.clocks.get(series.service);
    if (clock) {
      const at = clock.series.indexOf(series);
      if (at >= 0) clock.series.splice(at, 1);
      if (clock.series.length === 0) this.clocks.delete(series.service);
    }
  }

  /** Removes a series from the series map, the index and attribution (its clock's list is the caller's). */
  private forget(series: Series): void {
    this.series.delete(series.key);
    this.history.forget(series.key);
    const byScope = this.seriesIndex.get(series.service)?.get(series.metric);
    if (byScope) for (const [scope, indexed] of byScope) if (indexed === series) byScope.delete(scope);
    this.attributor.forgetSeries(refOf(series));
  }

  /** Registers a series with its service's clock. */
  private track(series: Series): Series {
    this.series.set(series.key, series);
    let clock = this.clocks.get(series.service);
    if (!clock) this.clocks.set(series.service, (clock = { watermark: series.lastTimestamp, checkedAt: series.lastTimestamp, series: [] }));
    clock.series.push(series);
    return series;
  }

  /**
   * Resolves `series`' stopped-reporting alert now that a point arrived, and, every `silenceCheckEveryMs`
   * of the service's event time, asks each of its other series' detectors whether their silence is anomalous.
   */
  private checkSilence(series: Series, now: number): Alert[] {
    const alerts: Alert[] = [];
    const resumed = series.open;
    if (resumed?.silent) {
      const alert = resumed.alert;
      alert.status = 'resolved';
      alert.updatedAt = iso(Math.max(now, Date.parse(alert.updatedAt)));
      alert.resolvedAt = alert.updatedAt;
      alert.explanation = `${alert.service} ${alert.metric} is reporting again since ${formatClock(now)} after a silence that started at ${formatClock(Date.parse(alert.startedAt))}.`;
      series.open = null;
      alerts.push({ ...alert });
    }
    const clock = this.clocks.get(series.service)!;
    clock.watermark = Math.max(clock.watermark, now);
    if (clock.watermark - clock.checkedAt < this.options.silenceCheckEveryMs) return alerts;
    clock.checkedAt = clock.watermark;
    this.forgetIdleSeries(clock, series, alerts);
    const announced = this.announced.get(series.service);
    if (announced?.some((a) => a.at < clock.watermark - VERSION_ANNOUNCE_MS)) {
      const current = announced.filter((a) => a.at >= clock.watermark - VERSION_ANNOUNCE_MS);
      if (current.length) this.announced.set(series.service, current);
      else this.announced.delete(series.service);
    }
    for (const other of clock.series) {
      if (other === series) continue;
      // Parts buffered by a series that has not reported since, while its service moved on: no later
      // timestamp will come to complete them, so they are combined now (before its silence is judged).
      if (other.pending && clock.watermark - other.pending[0]!.timestamp >= this.options.silenceCheckEveryMs) {
        this.combine(other, alerts);
        this.markChanged(other);
      }
      if (other.open || !other.detector.silence || other.lastTimestamp >= clock.watermark) continue;
      const verdict = other.detector.silence(clock.watermark);
      if (verdict.score >= this.options.alertThreshold) {
        alerts.push(this.openAlert(other, clock.watermark, other.lastValue, verdict.score, verdict, true));
        this.markChanged(other);
      }
    }
    return alerts;
  }

  /**
   * Forgets the service's series idle for `seriesIdleMs` (never `current`, which just reported). One
   * with an anomaly alert open is kept; one whose open alert says it stopped reporting is forgotten
   * too, and that alert resolves saying so: the service's other series go on, so this one is gone
   * (a pod replaced, a metric renamed), not down.
   */
  private forgetIdleSeries(clock: ServiceClock, current: Series, alerts: Alert[]): void {
    const idleSince = clock.watermark - this.options.seriesIdleMs;
    let kept = 0;
    for (const other of clock.series) {
      const forget = other !== current && other.lastTimestamp <= idleSince && (other.open === null || other.open.silent);
      if (!forget) {
        clock.series[kept++] = other;
        continue;
      }
      if (other.open) {
        const alert = other.open.alert;
        alert.status = 'resolved';
        alert.updatedAt = iso(Math.max(clock.watermark, Date.parse(alert.updatedAt)));
        alert.resolvedAt = alert.updatedAt;
        alert.explanation = `${alert.service} ${alert.metric} has not reported since ${formatClock(other.lastTimestamp)} while the service's other metrics did; it is no longer tracked.`;
        alerts.push({ ...alert });
      }
      this.forget(other);
      this.markRemoved(other.shard, other.key);
    }
    clock.series.length = kept;
  }

  private ingestChange(change: ChangeEvent): Alert[] {
    this.attributor.observeChange(change);
    this.announce(change);
    // A change can arrive after the anomaly it caused (slow producer, skewed clock): re-rank open alerts.
    const emitted: Alert[] = [];
    for (const s of this.series.values()) {
      if (!s.open) continue;
      const alert = s.open.alert;
      const now = Date.parse(alert.updatedAt);
      // The peak, not the current value, says which side the anomaly is on (the metric may be easing back).
      this.applyAttribution(alert, s.key, now, alert.peak ?? alert.observed, null);
      s.open.attributedAt = now;
      this.emitIfChanged(s.open, now, emitted);
      this.markChanged(s);
    }
    return emitted;
  }

  /** True when `change` (its id and time) was seen before; remembers it otherwise. */
  private seenChange(change: ChangeEvent): boolean {
    if (this.changesSeen.get(change.id) === change.timestamp) return true;
    this.changesSeen.delete(change.id);
    this.changesSeen.set(change.id, change.timestamp);
    if (this.changesSeen.size > MAX_SEEN_CHANGES) this.changesSeen.delete(this.changesSeen.keys().next().value!);
    return false;
  }

  /**
   * Remembers a deploy or rollback's version so that its service's versioned series wait for its first
   * parts. A rollback also withdraws the versions announced before it in its environment: they are going away.
   */
  private announce(change: ChangeEvent): void {
    if ((change.type !== 'deploy' && change.type !== 'rollback') || typeof change.version !== 'string' || !Number.isFinite(change.timestamp)) return;
    const environment = change.environment ?? '';
    const list = (this.announced.get(change.service) ?? []).filter(
      (a) => Math.abs(a.at - change.timestamp) <= VERSION_ANNOUNCE_MS && !(a.environment === environment && (change.type === 'rollback' || a.version === change.version)),
    );
    list.push({ version: change.version, environment, at: change.timestamp });
    if (list.length > MAX_ANNOUNCEMENTS) list.splice(0, list.length - MAX_ANNOUNCEMENTS);
    this.announced.set(change.service, list);
  }

  /**
   * Re-ranks suspects and rewrites the explanation of an alert on the series keyed `series`; `observed`
   * is the value attribution takes the anomaly's side from, `reason` the detector's phrase, or null to
   * keep the current one.
   */
  private applyAttribution(alert: Alert, series: string, now: number, observed: number, reason: string | null): void {
    const attribution = this.attributor.attribute({
      service: alert.service,
      environment: alert.environment,
      metric: alert.metric,
      series,
      onset: Date.parse(alert.startedAt),
      now,
      observed,
      expected: alert.expected,
      score: alert.score,
    });
    alert.suspects = attribution.suspects;
    alert.noChangeConfidence = attribution.noChangeConfidence;
    const what = reason ?? `${formatValue(alert.observed)} vs expected ${formatValue(alert.expected)}`;
    alert.explanation = explain(alert, what, attribution);
  }

  /** Emits the alert when something an engineer would care about changed, or as a periodic heartbeat. */
  private emitIfChanged(open: OpenAlert, now: number, into: Alert[]): void {
    const { alert, lastEmitted, lastEmittedAt } = open;
    const material =
      alert.status !== lastEmitted.status ||
      alert.severity !== lastEmitted.severity ||
      alert.score >= lastEmitted.score + 0.05 ||
      suspectsDiffer(alert, lastEmitted) ||
      now - lastEmittedAt >= this.options.reemitEveryMs;
    if (!material) return;
    alert.updatedAt = iso(Math.max(now, lastEmittedAt));
    open.lastEmitted = structuredClone(alert);
    open.lastEmittedAt = Date.parse(open.lastEmitted.updatedAt);
    into.push({ ...alert });
  }

  private severityOf(score: number, observed: number, band: Band): Severity {
    if (score >= this.options.criticalScore) return 'critical';
    return isSevereDeviation(observed, band, this.options.criticalDeviation) ? 'critical' : 'warning';
  }
}

/**
 * True when `observed` lies at least `spreads` times the band's half-width (on its side) from the
 * expected value and has at least doubled or halved (for a non-positive expected value: moved by at
 * least its size): an error rate 14× its usual level, latency 8×, traffic down to a third. A band of
 * zero width (a constant series) says nothing about spread, so it never makes an alert critical.
 */
export function isSevereDeviation(observed: number, band: { expected: number; lower: number; upper: number }, spreads: number): boolean {
  const { expected, lower, upper } = band;
  const distance = Math.abs(observed - expected);
  const halfWidth = observed >= expected ? upper - expected : expected - lower;
  if (!(halfWidth > 0) || distance < spreads * halfWidth) return false;
  if (expected > 0) return observed >= 2 * expected || observed <= expected / 2;
  return distance >= Math.abs(expected);
}

/** How attribution names `series`. */
function refOf(series: Series): SeriesRef {
  return { key: series.key, service: series.service, metric: series.metric, scope: series.scope };
}

/** A series as snapshots and checkpoint rows hold it. */
function seriesJSON(s: Series): SeriesJSON {
  return { ...s, detector: s.detector.toJSON(), open: s.open && openJSON(s.open), versions: [...s.versions], pending: s.pending && [...s.pending] };
}

/** What an open alert's checkpoint holds (its fields as they always were; derived caches are left out). */
function openJSON(open: OpenAlert): Omit<OpenAlert, 'lastEmittedAt'> {
  return { alert: open.alert, baseline: open.baseline, normalSince: open.normalSince, lastEmitted: open.lastEmitted, attributedAt: open.attributedAt, silent: open.silent };
}

/** Alert ids derive from the series and the onset, so a replay or a restarted consumer produces the same ids. */
export function alertId(seriesKey: string, onset: number): string {
  return `alrt-${createHash('sha256').update(`${seriesKey}@${onset}`).digest('hex').slice(0, 16)}`;
}

/**
 * The onset's normal band, widened by half its width so ordinary noise around the old level counts as
 * recovered, then clipped to the metric's domain (an error ratio's band never reaches below 0).
 */
function baselineBand(verdict: Band, domain: MetricDomain): { lower: number; upper: number } {
  const lower = Number.isFinite(verdict.lower) ? verdict.lower : verdict.expected;
  const upper = Number.isFinite(verdict.upper) ? verdict.upper : verdict.expected;
  const margin = Math.max((upper - lower) / 2, Math.abs(verdict.expected) * 0.01);
  return { lower: clipToDomain(lower - margin, domain), upper: clipToDomain(upper + margin, domain) };
}

/** What the detector expected and its normal band. */
interface Band {
  expected: number;
  lower: number;
  upper: number;
}

/** The detector's expected value and band clipped to the values `metric` can take (`metricDomain`). */
function clippedBand(metric: string, verdict: Band): Band {
  const domain = metricDomain(metric);
  return { expected: clipToDomain(verdict.expected, domain), lower: clipToDomain(verdict.lower, domain), upper: clipToDomain(verdict.upper, domain) };
}

/**
 * The alert's peak after `value`: the most extreme value since the onset on the alert's side, the
 * side its peak lies on from the expected value (above: the highest value, below: the lowest).
 */
function extremeOf(alert: Alert, value: number): number {
  const peak = alert.peak ?? alert.observed;
  return peak >= alert.expected ? Math.max(peak, value) : Math.min(peak, value);
}

/**
 * One point's value and count from the per-version parts of one timestamp: `additive` parts are summed;
 * `weighted` parts are averaged, weighted by their `count` when every part has one (and they are not
 * all 0), else plainly. The count is the parts' total when every part has one.
 */
export function combineParts(parts: readonly Pick<TelemetryPoint, 'value' | 'count'>[], semantics: MetricSemantics): { value: number; count?: number } {
  let sum = 0;
  let weighted = 0;
  let count = 0;
  let counted = true;
  for (const part of parts) {
    sum += part.value;
    if (part.count === undefined || !(part.count >= 0)) counted = false;
    else {
      count += part.count;
      weighted += part.value * part.count;
    }
  }
  const value = semantics === 'additive' ? sum : counted && count > 0 ? weighted / count : sum / parts.length;
  return counted ? { value, count } : { value };
}

/** True when `value` lies inside the detector's normal band (a band that is not finite holds nothing). */
function withinBand(verdict: { lower: number; upper: number }, value: number): boolean {
  return value >= verdict.lower && value <= verdict.upper;
}

function withinBaseline(band: { lower: number; upper: number }, value: number): boolean {
  // A band that is not finite (detector gave none) never holds an alert open.
  return !(Number.isFinite(band.lower) && Number.isFinite(band.upper)) || (value >= band.lower && value <= band.upper);
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function suspectsDiffer(a: Alert, b: Alert): boolean {
  if (a.suspects.length !== b.suspects.length) return true;
  for (let i = 0; i < a.suspects.length; i++) {
    const s = a.suspects[i]!;
    const t = b.suspects[i]!;
    if (s.changeId !== t.changeId || Math.abs(s.confidence - t.confidence) >= 0.05) return true;
  }
  return false;
}

/** One sentence: what is wrong, since when, and which change most likely did it (or that none explains it). */
function explain(alert: Alert, what: string, attribution: Attribution): string {
  const cause = attribution.summary || (attribution.suspects.length ? '' : 'no recent change explains it');
  return `${alert.service} ${alert.metric} ${what} since ${formatClock(Date.parse(alert.startedAt))}${cause ? `; ${cause}` : ''}.`;
}
