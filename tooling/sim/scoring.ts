/**
 * Scores the alerts a replay produced for one scenario against its known truth: was the incident
 * detected, how fast, did the top suspect name the culprit, what would the naive rule have said, and
 * how many alerts fired when nothing happened.
 */
import type { ChangeEvent } from '../../contract/events.ts';
import type { Alert } from '../../contract/alert.ts';
import type { Scenario } from './scenarios.ts';

/** An alert's verdict the scorer judges: its last emission while it was still firing. */
export interface JudgedAlert {
  alert: Alert;
  /** Its first emission (the direction of the anomaly when it opened). */
  first: Alert;
  /** Event time of its first emission. */
  firstEmittedAt: number;
  /** Top suspects of its firing emissions in order, collapsed where unchanged ("" for none). */
  topHistory: string[];
}

/** How one scenario went. */
export interface ScenarioScore {
  scenarioId: string;
  kind: Scenario['kind'];
  /** Whether the scenario had an incident caused by a change, one caused by none, or nothing. */
  truth: 'change' | 'no_change' | 'quiet';
  detected: boolean;
  /** From the start of the effect to the first alert on an impacted service, ms. */
  detectionDelayMs: number | null;
  /** The first alert on an impacted service (what an on-call engineer sees first). */
  primary: JudgedAlert | null;
  top1: boolean;
  top3: boolean;
  /** Whether "latest change on the alerted service" names the culprit. */
  baselineTop1: boolean;
  /** No-change incident whose top suspect has confidence ≥ 0.5. */
  falseAttribution: boolean;
  /** The same verdicts for every alert the incident raised (callers' alerts included). */
  alerts: AlertVerdict[];
  /** Every suspect of every alert the incident raised, with whether it is the culprit (for calibration). */
  predictions: Array<{ confidence: number; correct: boolean }>;
  /** Alerts opened on a quiet scenario after its warm-up. */
  falseAlarms: number;
  /** Hours of quiet telemetry after warm-up. */
  quietHours: number;
}

/** How one alert's top suspects compare with the truth. */
export interface AlertVerdict {
  alertId: string;
  /** Times the top suspect changed while the alert was open, and times it returned to an earlier one. */
  topChanges: number;
  topReversals: number;
  top1: boolean;
  top3: boolean;
  baselineTop1: boolean;
  falseAttribution: boolean;
}


/** Scores `alerts` (every emission of a replay of `scenario.records`) against the scenario's truth. */
export function scoreScenario(scenario: Scenario, alerts: readonly Alert[]): ScenarioScore {
  const truth = scenario.truth;
  // Incident alerts are judged on their verdict while the incident lasted, not after its recovery.
  const judged = judge(alerts, truth?.end);
  const base = { scenarioId: scenario.id, kind: scenario.kind, alerts: [], predictions: [] as ScenarioScore['predictions'], falseAlarms: 0, quietHours: 0 };
  const none = { detected: false, detectionDelayMs: null, primary: null, top1: false, top3: false, baselineTop1: false, falseAttribution: false };
  if (!truth) {
    const from = scenario.warmedUpAt;
    const falseAlarms = judged.filter((j) => Date.parse(j.alert.startedAt) >= from).length;
    return { ...base, ...none, truth: 'quiet', falseAlarms, quietHours: (scenario.end - from) / 3_600_000 };
  }
  const impacted = new Set(truth.impactedServices);
  // An incident raises its metric (a surge raises several) on impacted services between its start and its end.
  const related = judged
    .filter(({ alert, first }) => impacted.has(alert.service) && first.observed > first.expected)
    .filter(({ alert }) => truth.metric === 'request_rate' || alert.metric === truth.metric)
    .filter(({ alert }) => Date.parse(alert.startedAt) >= truth.effectStart && Date.parse(alert.startedAt) <= truth.end)
    .sort((a, b) => Date.parse(a.alert.startedAt) - Date.parse(b.alert.startedAt) || a.firstEmittedAt - b.firstEmittedAt);
  const primary = related[0] ?? null;
  const kind = truth.causeChangeId ? 'change' : 'no_change';
  const predictions = related.flatMap((j) => j.alert.suspects.map((s) => ({ confidence: s.confidence, correct: s.changeId === truth.causeChangeId })));
  if (!primary) return { ...base, ...none, truth: kind, predictions };
  const verdict = (alert: Alert): AlertVerdict => {
    const naive = latestChangeBefore(scenario, alert.service, Date.parse(alert.startedAt));
    const history = related.find((j) => j.alert.id === alert.id)?.topHistory ?? [];
    return {
      alertId: alert.id,
      topChanges: Math.max(0, history.length - 1),
      topReversals: reversals(history),
      top1: kind === 'change' && alert.suspects[0]?.changeId === truth.causeChangeId,
      top3: kind === 'change' && alert.suspects.slice(0, 3).some((s) => s.changeId === truth.causeChangeId),
      baselineTop1: kind === 'change' && naive?.id === truth.causeChangeId,
      falseAttribution: kind === 'no_change' && (alert.suspects[0]?.confidence ?? 0) >= 0.5,
    };
  };
  return {
    ...base,
    truth: kind,
    detected: true,
    detectionDelayMs: Math.max(0, primary.firstEmittedAt - truth.effectStart),
    primary,
    ...verdict(primary.alert),
    alerts: related.map((j) => verdict(j.alert)),
    predictions,
  };
}

/** Groups emissions by alert id and keeps each alert's last firing emission up to `until` (what on-call saw while it mattered). */
function judge(alerts: readonly Alert[], until = Infinity): JudgedAlert[] {
  const byId = new Map<string, JudgedAlert>();
  for (const alert of alerts) {
    const seen = byId.get(alert.id);
    const top = alert.suspects[0]?.changeId ?? '';
    if (!seen) {
      byId.set(alert.id, { alert, first: alert, firstEmittedAt: Date.parse(alert.updatedAt), topHistory: [top] });
    } else if (alert.status !== 'resolved' && Date.parse(alert.updatedAt) <= until) {
      seen.alert = alert;
      if (seen.topHistory[seen.topHistory.length - 1] !== top) seen.topHistory.push(top);
    }
  }
  return [...byId.values()];
}

/** How often the top suspect went back to one it had already given up (A → B → A): flip-flopping, not learning. */
function reversals(topHistory: readonly string[]): number {
  return topHistory.filter((top, i) => topHistory.indexOf(top) < i).length;
}

/** The naive rule: the latest change on `service` at or before `onset`. */
function latestChangeBefore(scenario: Scenario, service: string, onset: number): ChangeEvent | undefined {
  let latest: ChangeEvent | undefined;
  for (const record of scenario.records) {
    if (!('change' in record)) continue;
    const change = record.change;
    if (change.service === service && change.timestamp <= onset && (!latest || change.timestamp >= latest.timestamp)) latest = change;
  }
  return latest;
}
