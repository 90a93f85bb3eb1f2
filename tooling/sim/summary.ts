/**
 * Sums up scenario scores into the attribution benchmark's figures: accuracy per incident and per
 * alert against the naive rule, false attributions, a calibration table, detection delay and false
 * alarms on quiet periods; the headline figures of a seed, their mean and worst over seeds, and
 * breakdowns by the conditions a scenario was generated under.
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

/** The headline figures of one suite (one seed), as the benchmark's JSON line reports them. */
export interface HeadlineFigures {
  /** Change-caused incidents detected / injected (NaN when none was injected). */
  detected: number;
  /** Every alert a change-caused incident raised (the JSON line's historical `top1`). */
  top1: number;
  /** The first alert of each detected change-caused incident. */
  top1PerIncident: number;
  top3: number;
  baselineTop1: number;
  /** Over every alert of the no-change incidents (the JSON line's historical `falseAttribution`). */
  falseAttribution: number;
  /** Over the first alert of each detected no-change incident (NaN when none was detected). */
  falseAttributionPerIncident: number;
  medianDelaySec: number;
  /** NaN when the suite had no quiet period. */
  falseAlarmsPerHour: number;
}

/** Headline figures where lower is worse; the others are worse when higher (baselineTop1 is neither). */
const HIGHER_IS_BETTER = ['detected', 'top1', 'top1PerIncident', 'top3'] as const;
const LOWER_IS_BETTER = ['falseAttribution', 'falseAttributionPerIncident', 'medianDelaySec', 'falseAlarmsPerHour'] as const;
/** The figures that have a worst seed. */
export type WorstFigures = Record<(typeof HIGHER_IS_BETTER)[number] | (typeof LOWER_IS_BETTER)[number], number>;

/** A suite summary's headline figures. */
export function headline(summary: SuiteSummary): HeadlineFigures {
  const { injected, detected } = summary.changeIncidents;
  return {
    detected: injected ? detected / injected : NaN,
    top1: judged(summary.perAlert, summary.perAlert.top1),
    top1PerIncident: judged(summary.perIncident, summary.perIncident.top1),
    top3: judged(summary.perAlert, summary.perAlert.top3),
    baselineTop1: judged(summary.perAlert, summary.perAlert.baselineTop1),
    falseAttribution: summary.falseAttributionPerAlert,
    falseAttributionPerIncident: summary.noChangeIncidents.detected ? summary.falseAttribution : NaN,
    medianDelaySec: summary.medianDelaySec,
    falseAlarmsPerHour: summary.quietHours > 0 ? summary.falseAlarmsPerHour : NaN,
  };
}

function judged(accuracy: Accuracy, value: number): number {
  return accuracy.judged ? value : NaN;
}

/** Mean over seeds of every headline figure (NaN seeds left out), and the worst seed's value of each. */
export function combineSeeds(perSeed: readonly HeadlineFigures[]): { mean: HeadlineFigures; worst: WorstFigures } {
  const values = (key: keyof HeadlineFigures) => perSeed.map((f) => f[key]).filter((v) => !Number.isNaN(v));
  const meanOf = (key: keyof HeadlineFigures) => {
    const v = values(key);
    return v.length ? mean(v) : NaN;
  };
  const extreme = (key: keyof HeadlineFigures, pick: (...v: number[]) => number) => {
    const v = values(key);
    return v.length ? pick(...v) : NaN;
  };
  const keys = Object.keys(headlineTemplate) as Array<keyof HeadlineFigures>;
  const meanFigures = Object.fromEntries(keys.map((k) => [k, meanOf(k)])) as unknown as HeadlineFigures;
  const worst = {} as WorstFigures;
  for (const k of HIGHER_IS_BETTER) worst[k] = extreme(k, Math.min);
  for (const k of LOWER_IS_BETTER) worst[k] = extreme(k, Math.max);
  return { mean: meanFigures, worst };
}

const headlineTemplate: Record<keyof HeadlineFigures, true> = {
  detected: true,
  top1: true,
  top1PerIncident: true,
  top3: true,
  baselineTop1: true,
  falseAttribution: true,
  falseAttributionPerIncident: true,
  medianDelaySec: true,
  falseAlarmsPerHour: true,
};

/** One bucket of a breakdown of the suite by a condition (sampling interval, history, noise, ...). */
export interface BreakdownRow {
  bucket: string;
  scenarios: number;
  /** Change-caused incidents injected and detected. */
  changeInjected: number;
  changeDetected: number;
  /** Top-1 on the first alert of the detected change-caused incidents, and on all their alerts (NaN when none). */
  top1PerIncident: number;
  top1PerAlert: number;
  /** Alerts the no-change incidents raised, and the share whose top suspect has ≥ 0.5 (NaN when none). */
  noChangeAlerts: number;
  falseAttribution: number;
  quietHours: number;
  falseAlarmsPerHour: number;
  medianDelaySec: number;
}

/**
 * Splits scores into buckets by `bucketOf` (null leaves a score out) and sums each bucket up; buckets
 * come in the order of `order`, then as first seen, and empty ones are dropped.
 */
export function breakdown<T>(rows: ReadonlyArray<{ score: ScenarioScore; of: T }>, bucketOf: (of: T, score: ScenarioScore) => string | null, order: readonly string[] = []): BreakdownRow[] {
  const groups = new Map<string, ScenarioScore[]>(order.map((b) => [b, []]));
  for (const { score, of } of rows) {
    const bucket = bucketOf(of, score);
    if (bucket === null) continue;
    if (!groups.has(bucket)) groups.set(bucket, []);
    groups.get(bucket)!.push(score);
  }
  return [...groups].filter(([, scores]) => scores.length).map(([bucket, scores]) => {
    const s = summarize(scores);
    return {
      bucket,
      scenarios: scores.length,
      changeInjected: s.changeIncidents.injected,
      changeDetected: s.changeIncidents.detected,
      top1PerIncident: judged(s.perIncident, s.perIncident.top1),
      top1PerAlert: judged(s.perAlert, s.perAlert.top1),
      noChangeAlerts: scores.reduce((n, score) => n + (score.truth === 'no_change' ? score.alerts.length : 0), 0),
      falseAttribution: scores.some((score) => score.truth === 'no_change' && score.alerts.length) ? s.falseAttributionPerAlert : NaN,
      quietHours: s.quietHours,
      falseAlarmsPerHour: s.quietHours > 0 ? s.falseAlarmsPerHour : NaN,
      medianDelaySec: s.medianDelaySec,
    };
  });
}
