/**
 * The dashboard's view of open incidents: the newest version of each, in the order an on-call
 * engineer should handle them, merging a (slow) load from the API with the live `incident` events
 * that arrive while it is in flight.
 */
import type { Severity } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';

/** How many open incidents the dashboard keeps. */
export const DEFAULT_INCIDENT_LIMIT = 300;

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Whether `candidate` is at least as recent as `current` (two versions of the same incident). */
export function incidentSupersedes(candidate: Incident, current: Incident): boolean {
  return Date.parse(candidate.updatedAt) >= Date.parse(current.updatedAt);
}

/**
 * Board order: firing before acknowledged (someone is already on those), most severe first, then
 * the newest start first. Start time, not update time, so rows do not jump while alerts join.
 */
export function compareIncidents(a: Incident, b: Incident): number {
  const aFiring = a.status === 'firing';
  if (aFiring !== (b.status === 'firing')) return aFiring ? -1 : 1;
  const bySeverity = (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3);
  if (bySeverity !== 0) return bySeverity;
  return Date.parse(b.startedAt) - Date.parse(a.startedAt) || a.id.localeCompare(b.id);
}

/** Open incidents, newest version of each, in {@link compareIncidents} order. */
export class IncidentIndex {
  readonly #limit: number;
  #byId = new Map<string, Incident>();
  #ordered: Incident[] = [];
  /** Versions received while a load is in flight, applied over its (possibly older) answer. */
  #sinceLoad: Map<string, Incident> | undefined;

  constructor(limit = DEFAULT_INCIDENT_LIMIT) {
    this.#limit = limit;
  }

  /** Open incidents in board order; a new array after every change. */
  get ordered(): readonly Incident[] {
    return this.#ordered;
  }

  /** A load from the API has started: remember live versions until {@link finishLoad}. */
  beginLoad(): void {
    this.#sinceLoad = new Map();
  }

  /** Replaces everything with a loaded list, keeping any newer version received since {@link beginLoad}. */
  finishLoad(loaded: readonly Incident[]): void {
    const sinceLoad = this.#sinceLoad;
    this.#sinceLoad = undefined;
    this.#byId = new Map();
    for (const incident of loaded) this.#apply(incident);
    if (sinceLoad) for (const incident of sinceLoad.values()) this.#apply(incident);
    this.#reorder();
  }

  /** The load failed or was abandoned: keep what is shown. */
  abandonLoad(): void {
    this.#sinceLoad = undefined;
  }

  /** Applies live versions: new and changed incidents are added or replaced, resolved ones leave. */
  upsert(incidents: Iterable<Incident>): void {
    for (const incident of incidents) {
      if (this.#sinceLoad) {
        const seen = this.#sinceLoad.get(incident.id);
        if (seen === undefined || incidentSupersedes(incident, seen)) this.#sinceLoad.set(incident.id, incident);
      }
      this.#apply(incident);
    }
    this.#reorder();
  }

  #apply(incident: Incident): void {
    const current = this.#byId.get(incident.id);
    if (current !== undefined && !incidentSupersedes(incident, current)) return;
    if (incident.status === 'resolved') this.#byId.delete(incident.id);
    else this.#byId.set(incident.id, incident);
  }

  #reorder(): void {
    const ordered = [...this.#byId.values()].sort(compareIncidents);
    // Past the limit the least urgent go: acknowledged before firing, low severity, oldest.
    for (const evicted of ordered.splice(this.#limit)) this.#byId.delete(evicted.id);
    this.#ordered = ordered;
  }
}
