/**
 * The incident contract: a group of related alerts (the culprit service and the callers it drags
 * down, or several metrics of one service) handled, paged and resolved as one, Alertmanager-style.
 */
import type { AlertStatus, Severity } from './alert.ts';

/** Lifecycle state of an incident; the same states as an alert. */
export type IncidentStatus = AlertStatus;

/** A group of related alerts that pages once and is acknowledged and resolved as one. */
export interface Incident {
  /** Stable id; also the basis of the PagerDuty `dedup_key`, so it never changes once paged. */
  id: string;
  /** Key derived from the configured `groupBy` labels; at most one open incident exists per key. */
  groupKey: string;
  /** The label values behind `groupKey` (e.g. `{ service: 'checkout', environment: 'prod' }`). */
  groupLabels: Record<string, string>;
  /** `firing` until a human acknowledges it or every child alert resolves. */
  status: IncidentStatus;
  /** The highest severity among its child alerts. */
  severity: Severity;
  /** One line naming what broke, for page titles and list views. */
  title: string;
  /** The service most likely at the root (the culprit), or the first affected one. */
  service: string;
  /** Environment of the child alerts (e.g. `prod`). */
  environment: string;
  /** Ids of the child alerts, in the order they joined. */
  alertIds: string[];
  /** Event time the first child alert started, ISO-8601. */
  startedAt: string;
  /** Time of the last change to this record, ISO-8601. */
  updatedAt: string;
  /** When it resolved, ISO-8601; absent while open. */
  resolvedAt?: string;
  /** The user (or token name) who acknowledged it; absent until acknowledged. */
  acknowledgedBy?: string;
  /** When it was acknowledged, ISO-8601. */
  acknowledgedAt?: string;
}
