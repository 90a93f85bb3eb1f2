/**
 * Which alerts are news worth interrupting someone for: an alert that is firing and critical and was
 * not already known as critical. The snapshot sent on (re)connect only teaches what is known (the
 * person is looking at the page then), and the fleet replaying alerts already seen is not news either.
 */
import type { Alert } from '../../../contract/alert.ts';

/** How many alert ids are remembered; past this the oldest are forgotten (an alert storm must not grow memory forever). */
const DEFAULT_MEMORY = 10_000;

/** Remembers which alerts have been seen, and whether as critical. */
export class CriticalAlertWatch {
  readonly #memory: number;
  /** Alert id → whether it has been seen firing and critical. Insertion order is age, for forgetting. */
  readonly #seen = new Map<string, boolean>();

  constructor(memory = DEFAULT_MEMORY) {
    this.#memory = memory;
  }

  /** Records alerts without reporting any (the snapshot on connect). */
  learn(alerts: Iterable<Alert>): void {
    for (const alert of alerts) this.#record(alert);
  }

  /** Records alerts and returns those that just became critical news, in the order given. */
  news(alerts: Iterable<Alert>): Alert[] {
    const fresh: Alert[] = [];
    for (const alert of alerts) {
      const wasCritical = this.#seen.get(alert.id) === true;
      if (isFiringCritical(alert) && !wasCritical) fresh.push(alert);
      this.#record(alert);
    }
    return fresh;
  }

  #record(alert: Alert): void {
    // Once seen as critical it stays so: a later warning version does not make a re-escalation news.
    const critical = this.#seen.get(alert.id) === true || isFiringCritical(alert);
    this.#seen.delete(alert.id);
    this.#seen.set(alert.id, critical);
    if (this.#seen.size > this.#memory) this.#seen.delete(this.#seen.keys().next().value!);
  }
}

/** Whether the alert is critical and nobody has acknowledged it yet. */
function isFiringCritical(alert: Alert): boolean {
  return alert.severity === 'critical' && alert.status === 'firing';
}
