/**
 * Sums up scenario scores into the attribution benchmark's figures: accuracy per incident and per
 * alert against the naive rule, false attributions, a calibration table, detection delay and false
 * alarms on quiet periods.
 */
import type { ScenarioKind } from './scenarios.ts';
import type { AlertVerdict, ScenarioScore } from './scoring.ts';

/** One row of the calibration table: suspects whose confidence fell in [from, to). */
export interface CalibrationBin {
  from: number;
  to: number;
  suspects: number;
  meanConfidence: number;
  /** Share of them that were the real cause; NaN when the bin is empty. */
  accuracy: number;
}

/** Accuracy of a set of verdicts. */
export interface Accuracy {
  judged: number;
  top1: number;
  top3: number;
  baselineTop1: number;
}

/** The benchmark's figures. */
export interface SuiteSummary {
  scenarios: number;
  /** Change-caused incidents detected / injected. */
  changeIncidents: { injected: number; detected: number };
  noChangeIncidents: { injected: number; detected: number };
  /** Judged on the first alert of each detected change-caused incident. */
  perIncident: Accuracy;
  /** Judged on every alert a change-caused incident raised (the broken service's and its callers'). */
  perAlert: Accuracy;
  /** Share of detected no-change incidents whose first alert's top suspect has confidence ≥ 0.5. */
  falseAttribution: number;
  /** The same over every alert those incidents raised. */
  falseAttributionPerAlert: number;
  calibration: CalibrationBin[];
  /** Over every incident alert: how often its top suspect changed while open, and how often it went back to an earlier one. */
  topChangesPerAlert: number;
  topReversalsPerAlert: number;
  medianDelaySec: number;
  falseAlarmsPerHour: number;
  quietHours: number;
  byKind: Record<string, Accuracy & { scenarios: number; detected: number }>;
}

const BIN_EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1.0001];

/** Computes the benchmark figures from every scenario's score. */
export function summarize(scores: readonly ScenarioScore[]): SuiteSummary {
  const change = scores.filter((s) => s.truth === 'change');
  const noChange = scores.filter((s) => s.truth === 'no_change');
  const detectedNoChange = noChange.filter((s) => s.detected);
  const noChangeAlerts = noChange.flatMap((s) => s.alerts);
  const incidentAlerts = scores.flatMap((s) => s.alerts);
  const quiet = scores.filter((s) => s.truth === 'quiet');
  const quietHours = quiet.reduce((sum, s) => sum + s.quietHours, 0);
  const delays = scores.flatMap((s) => (s.truth !== 'quiet' && s.detectionDelayMs !== null ? [s.detectionDelayMs / 1000] : []));
  const byKind: SuiteSummary['byKind'] = {};
  for (const kind of new Set<ScenarioKind>(scores.map((s) => s.kind))) {
    const ofKind = scores.filter((s) => s.kind === kind);
    const detected = ofKind.filter((s) => s.detected);
    byKind[kind] = { scenarios: ofKind.length, detected: detected.length, ...accuracy(detected.filter((s) => s.truth === 'change')) };
  }
  return {
    scenarios: scores.length,
    changeIncidents: { injected: change.length, detected: change.filter((s) => s.detected).length },
    noChangeIncidents: { injected: noChange.length, detected: detectedNoChange.length },
    perIncident: accuracy(change.filter((s) => s.detected)),
    perAlert: accuracy(change.flatMap((s) => s.alerts)),
    falseAttribution: share(detectedNoChange, (s) => s.falseAttribution),
    falseAttributionPerAlert: share(noChangeAlerts, (a) => a.falseAttribution),
    calibration: calibrate(scores.flatMap((s) => s.predictions)),
    topChangesPerAlert: mean(incidentAlerts.map((a) => a.topChanges)),
    topReversalsPerAlert: mean(incidentAlerts.map((a) => a.topReversals)),
    medianDelaySec: median(delays),
    falseAlarmsPerHour: quietHours > 0 ? quiet.reduce((sum, s) => sum + s.falseAlarms, 0) / quietHours : 0,
    quietHours,
    byKind,
  };
}

function accuracy(verdicts: ReadonlyArray<Pick<AlertVerdict, 'top1' | 'top3' | 'baselineTop1'>>): Accuracy {
  return {
    judged: verdicts.length,
    top1: share(verdicts, (v) => v.top1),
    top3: share(verdicts, (v) => v.top3),
    baselineTop1: share(verdicts, (v) => v.baselineTop1),
  };
}

function calibrate(predictions: ReadonlyArray<{ confidence: number; correct: boolean }>): CalibrationBin[] {
  return BIN_EDGES.slice(0, -1).map((from, i) => {
    const to = BIN_EDGES[i + 1]!;
    const inBin = predictions.filter((p) => p.confidence >= from && p.confidence < to);
    return {
      from,
      to: Math.min(to, 1),
      suspects: inBin.length,
      meanConfidence: inBin.length ? inBin.reduce((sum, p) => sum + p.confidence, 0) / inBin.length : NaN,
      accuracy: inBin.length ? share(inBin, (p) => p.correct) : NaN,
    };
  });
}

function share<T>(items: readonly T[], test: (item: T) => boolean): number {
  return items.length ? items.filter(test).length / items.length : 0;
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((sum, v) => sum + v, 0) / values.length : 0;
}

function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
