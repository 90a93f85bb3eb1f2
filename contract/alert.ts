/**
 * The alert contract shared by the server, the replay CLI and the dashboard: an explained alert,
 * the server's counters and the change-failure statistics.
 */
import type { AuthorType, Suspect } from './events.ts';

/** Lifecycle of an alert. */
export const ALERT_STATUSES = ['firing', 'acknowledged', 'resolved'] as const;
/** Lifecycle state of an alert. */
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** How urgent an alert is. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
/** How urgent an alert is. */
export type Severity = (typeof SEVERITIES)[number];

/** An explained alert: what broke, how badly, and which change most likely did it. Emitted again on every update. */
export interface Alert {
  id: string;
  status: AlertStatus;
  severity: Severity;
  service: string;
  environment: string;
  metric: string;
  /** Event time of the anomaly's onset, ISO-8601. */
  startedAt: string;
  /** Event time of this emission, ISO-8601. */
  updatedAt: string;
  resolvedAt?: string;
  /**
   * The metric's latest value: the onset's when the alert opens, then the value of every point while it
   * is open (in or out of the band), and the first normal value it resolved on. For per-version telemetry,
   * the value of the whole (the versions' parts combined: summed for rates and counters, a count-weighted
   * mean otherwise).
   */
  observed: number;
  /**
   * The most extreme value since the onset, on the alert's side: the highest for an alert above its
   * expected value, the lowest for one below. Set on every alert the pipeline emits; absent on alerts
   * stored before it existed.
   */
  peak?: number;
  /**
   * What the detector expected at the latest anomalous point (and, once resolved, at the point it
   * resolved on), and its normal band, clipped to the values the metric can take: error, failure and success ratios within [0, 1] (`…_pct`/`…_percent` within
   * [0, 100]), latencies, durations, sizes, rates, counters and utilizations never below 0.
   */
  expected: number;
  lower: number;
  upper: number;
  /** Anomaly score in [0, 1] (the highest seen while the alert was open). */
  score: number;
  detector: string;
  /** One plain sentence an on-call engineer understands at 3 a.m. */
  explanation: string;
  /** Candidate causes, most likely first; empty when no change is a plausible cause. */
  suspects: Suspect[];
  /** Probability that no tracked change caused this anomaly. */
  noChangeConfidence: number;
}

/** Counters the server reports to dashboards. */
export interface ServerStats {
  eventsProcessed: number;
  deadLettered: number;
  /** Open alerts nobody acknowledged (the same alerts as `GET /api/v1/alerts?status=firing`). */
  alertsFiring: number;
  /** Open alerts someone acknowledged. */
  alertsAcknowledged: number;
  kafkaConnected: boolean;
}

/** Change failure rate of one group of changes: changes linked to an incident ÷ changes. */
export interface ChangeFailureStats {
  changes: number;
  linkedToIncident: number;
  /** linkedToIncident / changes, 0 when there are no changes. */
  failureRate: number;
}

/** Body of GET /api/v1/stats/changes: change failure rate by author type and per AI agent over a time range. */
export interface ChangeStatsResponse {
  /** ISO-8601 bounds of the event-time range. */
  from: string;
  to: string;
  byAuthorType: Record<AuthorType, ChangeFailureStats>;
  /**
   * AI-authored and AI-assisted changes by their agent: an AI-authored change's `author.agent` (else
   * `author.name`, the agent itself), an AI-assisted one's `author.agent` or `author.model` (else
   * `unnamed agent`), never the human who used it.
   */
  byAgent: Record<string, ChangeFailureStats>;
}
