/**
 * Tunables of the attribution engine. The defaults are general (not fitted to one benchmark seed):
 * delays are in event time and the calibration was fitted on scenario seeds the benchmark never uses.
 */
import { DEFAULT_ENVIRONMENT } from '../series-key.ts';
import { ALERT_THRESHOLD } from '../types.ts';

/** Options of the attribution engine; every field has a default in ATTRIBUTION_DEFAULTS. */
export interface AttributorOptions {
  /** How far before an onset a change is still a candidate, default 6 h. */
  lookbackMs: number;
  /** How long after the onset a change may be stamped and still count, to tolerate skewed producer clocks, default 2 min. */
  clockSkewToleranceMs: number;
  /** Typical delay from a change to a visible effect (mean of the main timing component), default 8 min. */
  typicalDelayMs: number;
  /** Mean of the long-tail timing component for slow-burning effects, default 90 min. */
  slowDelayMs: number;
  /** Share of causing changes whose effect follows the long tail rather than the typical delay, default 0.15. */
  slowShare: number;
  /** Changes kept per service (oldest dropped first), default 100. */
  maxChangesPerService: number;
  /** Changes older than this, relative to the newest telemetry, are forgotten, default 24 h. */
  changeRetentionMs: number;
  /** Samples kept per series for the rank tests, default 360 (an hour at 10 s). */
  historySize: number;
  /** Samples kept per version of a series, default 180. */
  versionHistorySize: number;
  /** Versions of a series tracked at once (older versions dropped), default 4. */
  maxVersionsPerSeries: number;
  /** Detector score at or above which a point counts as anomalous, default ALERT_THRESHOLD; the pipeline sets its `alertThreshold`. */
  anomalyScore: number;
  /** Environment of telemetry without an `environment` or `env` tag, default DEFAULT_ENVIRONMENT ("prod"); the pipeline sets its `defaultEnvironment`. */
  defaultEnvironment: string;
  /** Anomalous points further apart than this start a new episode, default 5 min. */
  episodeGapMs: number;
  /** Slack when comparing when things started to move (about one sampling interval), default 30 s. */
  departureToleranceMs: number;
  /** Dependency hops searched from the alerted service, default 4 (cycles are fine). */
  maxHops: number;
  /** Log-odds bonus for the suspect ranked first at the previous update of the same anomaly, so noise cannot flip it, default 0.7. */
  stickiness: number;
  /** Calibration: multiplier of every log-odds before normalization (below 1 tempers overconfidence), default 1. */
  calibrationScale: number;
  /** Calibration: log-odds of "no tracked change" before evidence, default 2. */
  noChangeLogOdds: number;
  /** Suspects below this confidence are left out, default 0.02. */
  minConfidence: number;
  /** At most this many suspects are returned, default 5. */
  maxSuspects: number;
}

/** Defaults of AttributorOptions. */
export const ATTRIBUTION_DEFAULTS: Readonly<AttributorOptions> = Object.freeze({
  lookbackMs: 6 * 3_600_000,
  clockSkewToleranceMs: 2 * 60_000,
  typicalDelayMs: 8 * 60_000,
  slowDelayMs: 90 * 60_000,
  slowShare: 0.15,
  maxChangesPerService: 100,
  changeRetentionMs: 24 * 3_600_000,
  historySize: 360,
  versionHistorySize: 180,
  maxVersionsPerSeries: 4,
  anomalyScore: ALERT_THRESHOLD,
  defaultEnvironment: DEFAULT_ENVIRONMENT,
  episodeGapMs: 5 * 60_000,
  departureToleranceMs: 30_000,
  maxHops: 4,
  stickiness: 0.7,
  calibrationScale: 1,
  noChangeLogOdds: 2,
  minConfidence: 0.02,
  maxSuspects: 5,
});
