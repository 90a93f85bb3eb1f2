/**
 * The dedup/hysteresis stage: a flapping series does not page twice in a row. An incident whose
 * alerts all resolved stays "recently resolved" for `flapWindowMs` (wall clock) before its resolve
 * notification goes out; an alert of the same group firing in that window re-opens the same
 * incident, so the pager sees one continuous incident instead of resolve + a new page.
 */

/** Incidents resolved recently enough to re-open, by group key. */
export class FlapWindow {
  private readonly resolvedAt = new Map<string, { incidentId: string; at: number }>();

  constructor(private readonly windowMs: number) {}

  /** Notes that an incident resolved at wall-clock `at`. */
  resolved(groupKey: string, incidentId: string, at: number): void {
    this.resolvedAt.set(groupKey, { incidentId, at });
  }

  /** Forgets an incident (re-opened, or its resolve was notified). */
  forget(groupKey: string): void {
    this.resolvedAt.delete(groupKey);
  }

  /** The incident of this group that may still re-open at wall-clock `now`, if any. */
  reopenable(groupKey: string, now: number): string | undefined {
    const entry = this.resolvedAt.get(groupKey);
    return entry !== undefined && now - entry.at < this.windowMs ? entry.incidentId : undefined;
  }

  /** True once the incident has stayed resolved for the whole window. */
  settled(groupKey: string, now: number): boolean {
    const entry = this.resolvedAt.get(groupKey);
    return entry === undefined || now - entry.at >= this.windowMs;
  }
}
