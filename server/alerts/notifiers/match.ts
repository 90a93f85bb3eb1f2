/** Routing: which configured endpoints an incident's notification goes to. */
import type { Alert } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { NotifierConfig, RouteMatch } from './config.ts';
import { topSuspect } from './describe.ts';

/** True when the incident satisfies every key of `match` (an absent matcher matches everything). */
export function matchesRoute(match: RouteMatch | undefined, incident: Incident, alerts: readonly Alert[]): boolean {
  if (match === undefined) return true;
  if (match.service && !match.service.includes(incident.service)) return false;
  if (match.environment && !match.environment.includes(incident.environment)) return false;
  if (match.severity && !match.severity.includes(incident.severity)) return false;
  if (match.authorType) {
    const suspect = topSuspect(alerts);
    if (suspect === undefined || !match.authorType.includes(suspect.change.author.type)) return false;
  }
  return true;
}

/** Names of the endpoints whose route matches, in config order. */
export function selectEndpoints(configs: readonly NotifierConfig[], incident: Incident, alerts: readonly Alert[]): string[] {
  return configs.filter((config) => matchesRoute(config.match, incident, alerts)).map((config) => config.name);
}
