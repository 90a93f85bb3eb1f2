/**
 * The dashboard's view of alerts: the newest version of each alert id, in the order an on-call
 * engineer should read them, capped so an incident storm cannot grow the page without bound.
 */
import type { Alert, Severity } from '../../../contract/alert.ts';

/** How many alerts the dashboard keeps by default. */
export const DEFAULT_ALERT_LIMIT = 500;

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Whether `candidate` is at least as recent as `current` (two versions of the same alert). */
export function supersedes(candidate: Alert, current: Alert): boolean {
  // Ties go to the later arrival: the server emits in order, so it is the later word on the alert.
  return Date.parse(candidate.updatedAt) >= Date.parse(current.updatedAt);
}

/** Whether the alert still needs attention (firing or acknowledged, not resolved). */
export function isOpen(alert: Alert): boolean {
  return alert.status !== 'resolved';
}

/**
 * Feed order: open alerts first, most severe first, then newest onset first; resolved alerts after,
 * most recently resolved first. Onset rather than update time keeps cards from jumping around while
 * an alert keeps updating.
 */
export function compareForFeed(a: Alert, b: Alert): number {
  const aOpen = isOpen(a);
  if (aOpen !== isOpen(b)) return aOpen ? -1 : 1;
  if (aOpen) {
    const bySeverity = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
    if (bySeverity !== 0) return bySeverity;
    return Date.parse(b.startedAt) - Date.parse(a.startedAt) || a.id.localeCompare(b.id);
  }
  return resolvedTime(b) - resolvedTime(a) || a.id.localeCompare(b.id);
}

function resolvedTime(alert: Alert): number {
  return Date.parse(alert.resolvedAt ?? alert.updatedAt);
}

/** Open alerts grouped by the change that is their top suspect, in the order given; alerts without suspects are left out. */
export function openAlertsByTopSuspect(alerts: readonly Alert[]): Map<string, Alert[]> {
  const byChange = new Map<string, Alert[]>();
  for (const alert of alerts) {
    const top = alert.suspects[0];
    if (!isOpen(alert) || top === undefined) continue;
    const group = byChange.get(top.changeId);
    if (group) group.push(alert);
    else byChange.set(top.changeId, [alert]);
  }
  return byChange;
}

/** The newest version of each alert, ordered by {@link compareForFeed} and capped at a limit. */
export class AlertIndex {
  readonly #limit: number;
  #byId = new Map<string, Alert>();
  #ordered: Alert[] = [];

  constructor(limit = DEFAULT_ALERT_LIMIT) {
    this.#limit = limit;
  }

  /** Alerts in feed order; a new array after every change, so it can be handed to reactive state as is. */
  get ordered(): readonly Alert[] {
    return this.#ordered;
  }

  /** Replaces everything with a server snapshot. */
  replaceAll(alerts: readonly Alert[]): void {
    this.#byId = new Map();
    this.upsert(alerts);
  }

  /** Adds new alerts and replaces older versions of known ones; stale versions are ignored. */
  upsert(alerts: Iterable<Alert>): void {
    for (const alert of alerts) {
      const current = this.#byId.get(alert.id);
      if (current === undefined || supersedes(alert, current)) this.#byId.set(alert.id, alert);
    }
    const ordered = [...this.#byId.values()].sort(compareForFeed);
    // Past the limit the tail goes: the oldest resolved alerts first, then the oldest low-severity ones.
    for (const evicted of ordered.splice(this.#limit)) this.#byId.delete(evicted.id);
    this.#ordered = ordered;
  }
}
