/**
 * Reactive alert feed: the newest version of each alert in feed order, split into open and resolved.
 */
import type { Alert, Severity } from '../../../../contract/alert.ts';
import { AlertIndex, DEFAULT_ALERT_LIMIT, isOpen, openAlertsByTopSuspect } from '../alert-index.ts';

/** The alerts the dashboard shows, updated in batches. */
export class AlertFeed {
  readonly #index: AlertIndex;
  // Raw state: each update swaps in a new array, so Svelte need not proxy hundreds of alert objects.
  #alerts = $state.raw<readonly Alert[]>([]);

  /** Alerts still needing attention, most severe and newest first. */
  readonly open = $derived(this.#alerts.filter(isOpen));
  /** Resolved alerts, most recently resolved first. */
  readonly resolved = $derived(this.#alerts.filter((alert) => !isOpen(alert)));
  /** Number of open alerts per severity. */
  readonly openBySeverity = $derived(countBySeverity(this.open));
  /** Open alerts keyed by the id of the change that most likely caused them, to flag those changes. */
  readonly openByTopSuspect = $derived(openAlertsByTopSuspect(this.open));

  constructor(limit = DEFAULT_ALERT_LIMIT) {
    this.#index = new AlertIndex(limit);
  }

  /** Replaces the feed with a server snapshot. */
  replaceAll(alerts: readonly Alert[]): void {
    this.#index.replaceAll(alerts);
    this.#alerts = this.#index.ordered;
  }

  /** Applies a batch of alert versions. */
  upsert(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    this.#index.upsert(alerts);
    this.#alerts = this.#index.ordered;
  }
}

function countBySeverity(alerts: readonly Alert[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  for (const alert of alerts) counts[alert.severity] += 1;
  return counts;
}
