/**
 * The browser tab's title, which an on-call engineer sees with the dashboard in a background tab.
 */
import type { Alert } from '../../../contract/alert.ts';

/** How many of the alerts are critical and still firing (nobody acknowledged them). */
export function countFiringCritical(alerts: readonly Alert[]): number {
  return alerts.filter((alert) => alert.severity === 'critical' && alert.status === 'firing').length;
}

/**
 * "(2 critical · 5 firing) changewatch": firing critical alerts and all firing alerts (the server's
 * count, as in the header); just "changewatch" when nothing fires.
 */
export function tabTitle(criticalFiring: number, firing: number): string {
  if (firing <= 0 && criticalFiring <= 0) return 'changewatch';
  return `(${criticalFiring} critical · ${Math.max(firing, criticalFiring)} firing) changewatch`;
}
