/**
 * Which alerts, incidents and changes pass the dashboard's filters (see url-state.ts). A filter that
 * does not describe a kind of thing is not applied to it: a change has no severity or status, so
 * those two leave the change list alone.
 */
import type { Alert } from '../../../contract/alert.ts';
import type { AuthorType, ChangeEvent } from '../../../contract/events.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { Filters } from './url-state.ts';

/** Whether `text` (already lower-cased) occurs in any of the fields. */
function mentions(text: string, fields: ReadonlyArray<string | undefined>): boolean {
  return fields.some((field) => field !== undefined && field.toLowerCase().includes(text));
}

/** The author type of the change most likely behind an alert, if it has a suspect. */
function topSuspectAuthorType(alert: Alert): AuthorType | undefined {
  return alert.suspects[0]?.change.author.type;
}

/** Whether an alert passes; the author type is that of its most likely cause. */
export function alertMatches(alert: Alert, filters: Filters): boolean {
  if (filters.service !== undefined && alert.service !== filters.service) return false;
  if (filters.environment !== undefined && alert.environment !== filters.environment) return false;
  if (filters.severity !== undefined && alert.severity !== filters.severity) return false;
  if (filters.status !== undefined && alert.status !== filters.status) return false;
  if (filters.authorType !== undefined && topSuspectAuthorType(alert) !== filters.authorType) return false;
  if (filters.search !== undefined) {
    const text = filters.search.toLowerCase();
    const summaries = alert.suspects.map((suspect) => suspect.change.summary);
    if (!mentions(text, [alert.id, alert.service, alert.environment, alert.metric, alert.explanation, ...summaries])) return false;
  }
  return true;
}

/**
 * Whether an incident passes. The author type and the search also look at the incident's alerts
 * that the page holds (`alertsById`): an incident has no suspects of its own.
 */
export function incidentMatches(incident: Incident, filters: Filters, alertsById: ReadonlyMap<string, Alert>): boolean {
  if (filters.service !== undefined && incident.service !== filters.service) return false;
  if (filters.environment !== undefined && incident.environment !== filters.environment) return false;
  if (filters.severity !== undefined && incident.severity !== filters.severity) return false;
  if (filters.status !== undefined && incident.status !== filters.status) return false;
  const alerts = incident.alertIds.map((id) => alertsById.get(id)).filter((alert) => alert !== undefined);
  if (filters.authorType !== undefined && !alerts.some((alert) => topSuspectAuthorType(alert) === filters.authorType)) return false;
  if (filters.search !== undefined) {
    const text = filters.search.toLowerCase();
    const fromAlerts = alerts.flatMap((alert) => [alert.metric, ...alert.suspects.map((suspect) => suspect.change.summary)]);
    if (!mentions(text, [incident.id, incident.title, incident.service, incident.environment, ...fromAlerts])) return false;
  }
  return true;
}

/** Whether a change passes; severity and status do not apply to changes. */
export function changeMatches(change: ChangeEvent, filters: Filters): boolean {
  if (filters.service !== undefined && change.service !== filters.service) return false;
  if (filters.environment !== undefined && change.environment !== filters.environment) return false;
  if (filters.authorType !== undefined && change.author.type !== filters.authorType) return false;
  if (filters.search !== undefined) {
    const text = filters.search.toLowerCase();
    if (!mentions(text, [change.id, change.service, change.environment, change.summary, change.version, change.author.name])) return false;
  }
  return true;
}

/** The distinct non-empty values, sorted, e.g. every service on the page for the filter's choices. */
export function distinctValues(values: Iterable<string | undefined>): string[] {
  const seen = new Set<string>();
  for (const value of values) if (value) seen.add(value);
  return [...seen].sort((a, b) => a.localeCompare(b));
}
