/**
 * What the dashboard's lists show once the filters apply: the filtered alerts, incidents and
 * changes, how many of each pass, the choices for the filters, the alert order `j`/`k` walk, and
 * whether a deep-linked item is on the page, filtered out, or not held at all.
 */
import type { Alert } from '../../../../contract/alert.ts';
import type { ChangeEvent } from '../../../../contract/events.ts';
import type { Incident } from '../../../../contract/incident.ts';
import { alertMatches, changeMatches, distinctValues, incidentMatches } from '../filters.ts';
import type { Selection } from '../url-state.ts';
import type { LinkedThing } from './linked-item.svelte.ts';
import type { Navigation } from './navigation.svelte.ts';

/** The unfiltered data the view reads (reactive getters). */
export interface DashboardData {
  readonly openAlerts: readonly Alert[];
  readonly resolvedAlerts: readonly Alert[];
  readonly incidents: readonly Incident[];
  readonly changes: readonly ChangeEvent[];
}

/** Where a selection is: in a list as shown, on the page but hidden by the filters, or not on the page. */
export type Placement = { where: 'shown' } | { where: 'filtered'; thing: LinkedThing } | { where: 'absent' };

/** The filtered view of the dashboard's data. */
export class DashboardView {
  readonly #data: DashboardData;
  readonly #navigation: Navigation;

  /** Every alert the page holds, by id. */
  readonly alertsById = $derived.by(() => new Map([...this.#data.openAlerts, ...this.#data.resolvedAlerts].map((alert) => [alert.id, alert])));
  /** Open alerts passing the filters, in feed order. */
  readonly openAlerts = $derived.by(() => this.#data.openAlerts.filter((alert) => alertMatches(alert, this.#navigation.filters)));
  /** Resolved alerts passing the filters. */
  readonly resolvedAlerts = $derived.by(() => this.#data.resolvedAlerts.filter((alert) => alertMatches(alert, this.#navigation.filters)));
  /** Open incidents passing the filters. */
  readonly incidents = $derived.by(() => this.#data.incidents.filter((incident) => incidentMatches(incident, this.#navigation.filters, this.alertsById)));
  /** Recent changes passing the filters. */
  readonly changes = $derived.by(() => this.#data.changes.filter((change) => changeMatches(change, this.#navigation.filters)));

  /** Alerts shown and held. */
  readonly alertCounts = $derived.by(() => ({ shown: this.openAlerts.length + this.resolvedAlerts.length, total: this.alertsById.size }));
  /** Incidents shown and held. */
  readonly incidentCounts = $derived.by(() => ({ shown: this.incidents.length, total: this.#data.incidents.length }));
  /** Changes shown and held. */
  readonly changeCounts = $derived.by(() => ({ shown: this.changes.length, total: this.#data.changes.length }));

  /** Every service on the page, for the service filter. */
  readonly services = $derived.by(() =>
    distinctValues([...this.alertsById.values()].map((alert) => alert.service).concat(this.#data.incidents.map((incident) => incident.service), this.#data.changes.map((change) => change.service))),
  );
  /** Every environment on the page. */
  readonly environments = $derived.by(() =>
    distinctValues(
      [...this.alertsById.values()].map((alert) => alert.environment).concat(this.#data.incidents.map((incident) => incident.environment), this.#data.changes.map((change) => change.environment)),
    ),
  );

  /** The ids `j`/`k` step through: the alerts shown, open then resolved, top to bottom. */
  readonly alertOrder = $derived.by(() => [...this.openAlerts, ...this.resolvedAlerts].map((alert) => alert.id));

  constructor(data: DashboardData, navigation: Navigation) {
    this.#data = data;
    this.#navigation = navigation;
  }

  /** Where the selected item is. */
  place(selection: Selection): Placement {
    switch (selection.kind) {
      case 'alert': {
        const alert = this.alertsById.get(selection.id);
        if (!alert) return { where: 'absent' };
        return this.alertOrder.includes(alert.id) ? { where: 'shown' } : { where: 'filtered', thing: { kind: 'alert', alert } };
      }
      case 'incident': {
        const incident = this.#data.incidents.find((candidate) => candidate.id === selection.id);
        if (!incident) return { where: 'absent' };
        return this.incidents.includes(incident) ? { where: 'shown' } : { where: 'filtered', thing: { kind: 'incident', incident } };
      }
      case 'change': {
        const change = this.#data.changes.find((candidate) => candidate.id === selection.id);
        if (!change) return { where: 'absent' };
        return this.changes.includes(change) ? { where: 'shown' } : { where: 'filtered', thing: { kind: 'change', change } };
      }
    }
  }

  /** The open incident an alert belongs to, if the page holds one. */
  incidentOf(alertId: string): Incident | undefined {
    return this.#data.incidents.find((incident) => incident.alertIds.includes(alertId));
  }
}
