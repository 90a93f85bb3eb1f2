/**
 * The contract between the pipeline and the change-attribution engine.
 *
 * The engine watches every change, catalog entry and telemetry point (in event time) and, when the
 * pipeline opens or updates an anomaly, ranks the recent changes that may have caused it. It tracks
 * telemetry per series as the pipeline splits it (detectors/series-key.ts). It is pure and
 * deterministic, and its state serializes to JSON for checkpoints.
 */
import type { ChangeEvent, ServiceEntry, Suspect, TelemetryPoint } from '../../contract/events.ts';

/** What the pipeline knows about an anomaly when it asks who caused it. */
export interface AnomalyContext {
  service: string;
  /** Environment of the alerted series; changes of other environments are not candidates. Absent: the engine's default environment's series, and changes of every environment. */
  environment?: string;
  metric: string;
  /**
   * Key of the alerted series (`seriesKey` in detectors/series-key.ts): its environment and tags say
   * which tracks the evidence reads. Absent: the environment's series without splitting tags.
   */
  series?: string;
  /** Event time of the first anomalous point, epoch ms. */
  onset: number;
  /** Event time of the latest point, epoch ms ("now" in event time). */
  now: number;
  observed: number;
  expected: number;
  /** Detector score of the latest point, [0, 1]. */
  score: number;
}

/** The engine's answer: ranked suspects plus how likely it is that none of them is the cause. */
export interface Attribution {
  /** Most likely first; empty when no change is a plausible cause. */
  suspects: Suspect[];
  /** Probability in [0, 1] that no tracked change caused the anomaly. */
  noChangeConfidence: number;
  /** One clause for the alert's sentence, e.g. "most likely deploy chg-1 (v2.4.0) by AI agent kiro, 0.86". */
  summary: string;
}

/** A change-attribution engine. */
export interface Attributor {
  observeChange(change: ChangeEvent): void;
  observeService(service: ServiceEntry): void;
  /** Sees every telemetry point with its detector score, so it can compare versions and see which service moved first. */
  observePoint(point: TelemetryPoint, score: number): void;
  attribute(anomaly: AnomalyContext): Attribution;
  /** Recent changes, newest first (for the API and dashboard). */
  recentChanges(limit: number): ChangeEvent[];
  toJSON(): unknown;
  /**
   * What the engine keeps about one series (its samples, and the top suspect of its alert at `onset`
   * when given), for a checkpoint of that series alone; undefined when it keeps nothing.
   */
  exportSeries(series: SeriesRef, onset?: number): unknown;
  /** Restores what `exportSeries` returned (on the instance that takes over the series' partition). */
  importSeries(series: SeriesRef, state: unknown, onset?: number): void;
  /** Forgets one series (its pipeline forgot it, or its partition moved to another instance). */
  forgetSeries(series: SeriesRef): void;
}

/** One series as the pipeline and the engine both split them (detectors/series-key.ts). */
export interface SeriesRef {
  /** The whole key (`seriesKey`). */
  key: string;
  service: string;
  metric: string;
  /** Environment and splitting tags (`seriesScope`). */
  scope: string;
}
