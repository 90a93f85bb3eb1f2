/** Routing: which configured endpoints an incident's notification goes to. */
import type { Alert } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { NotifierConfig, RouteMatch } from './config.ts';
import { topSuspect } from './describe.ts';
import type { NotificationAction } from './types.ts';

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

/** What is about to be told: the action, and whether it repeats a trigger already sent (groupInterval, repeatInterval). */
export interface Notice {
  action: NotificationAction;
  repeat: boolean;
}

/**
 * Whether an endpoint type has a use for a notice. Alertmanager receivers know no acknowledgement;
 * a Grafana annotation marks the onset and the resolution only, so an acknowledgement or a repeated
 * trigger would only pile duplicate annotations on the same moment. Every other type takes all.
 */
export function takesNotice(config: NotifierConfig, notice: Notice): boolean {
  switch (config.type) {
    case 'alertmanager':
      return notice.action !== 'acknowledge';
    case 'grafana':
      return notice.action === 'resolve' || (notice.action === 'trigger' && !notice.repeat);
    default:
      return true;
  }
}

/** Names of the endpoints whose route matches (and, given the notice, that take it), in config order. */
export function selectEndpoints(configs: readonly NotifierConfig[], incident: Incident, alerts: readonly Alert[], notice?: Notice): string[] {
  return configs
    .filter((config) => matchesRoute(config.match, incident, alerts) && (notice === undefined || takesNotice(config, notice)))
    .map((config) => config.name);
}
