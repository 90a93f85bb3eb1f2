/**
 * The `a` shortcut: acknowledge the open incident the selected alert belongs to, or say in a sentence
 * why that cannot be done (nothing selected, not signed in, no open incident, already acknowledged).
 */
import type { Incident } from '../../../contract/incident.ts';
import { explainApiError } from './api.ts';

/** What the shortcut needs to know and do. */
export interface AcknowledgeShortcutContext {
  /** The selected alert's id, if an alert is selected. */
  alertId: string | undefined;
  signedIn: boolean;
  /** The open incident holding an alert, if the page has one. */
  incidentOf: (alertId: string) => Incident | undefined;
  /** Acknowledges an incident; rejects with an ApiError when the server refuses. */
  acknowledge: (incidentId: string) => Promise<void>;
}

/** Runs the shortcut; resolves to what happened, for the person to read. Never rejects. */
export async function acknowledgeSelectedAlert({ alertId, signedIn, incidentOf, acknowledge }: AcknowledgeShortcutContext): Promise<string> {
  if (alertId === undefined) return 'Select an alert first (j or k), then press a to acknowledge its incident.';
  if (!signedIn) return 'Sign in with an operator’s API token to acknowledge: the dashboard is read-only.';
  const incident = incidentOf(alertId);
  if (!incident) return 'This alert is not part of an open incident: there is nothing to acknowledge.';
  if (incident.status !== 'firing') return `Incident “${incident.title}” is already acknowledged${incident.acknowledgedBy ? ` by ${incident.acknowledgedBy}` : ''}.`;
  try {
    await acknowledge(incident.id);
    return `Acknowledged incident “${incident.title}”.`;
  } catch (error) {
    return `Could not acknowledge “${incident.title}”: ${explainApiError(error)}`;
  }
}
