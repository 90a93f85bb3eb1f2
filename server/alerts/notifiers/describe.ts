/** Shared wording for the human-readable parts of notifications (PagerDuty, Slack, webhooks). */
import type { Alert } from '../../../contract/alert.ts';
import type { AuthorType, Suspect } from '../../../contract/events.ts';
import type { Notification } from './types.ts';

/** How each author type reads in a page. */
const AUTHOR_TYPE_LABELS: Record<AuthorType, string> = {
  ai_agent: 'AI agent',
  ai_assisted: 'AI-assisted human',
  human: 'human',
};

/** "AI agent", "AI-assisted human" or "human". */
export function authorTypeLabel(type: AuthorType): string {
  return AUTHOR_TYPE_LABELS[type];
}

/** The most likely culprit across the incident's alerts (highest confidence), if any. */
export function topSuspect(alerts: readonly Alert[]): Suspect | undefined {
  let best: Suspect | undefined;
  for (const alert of alerts) {
    for (const suspect of alert.suspects) {
      if (best === undefined || suspect.confidence > best.confidence) best = suspect;
    }
  }
  return best;
}

/** The alert whose explanation leads the message: the highest-scoring one. */
export function leadAlert(alerts: readonly Alert[]): Alert | undefined {
  return alerts.reduce<Alert | undefined>((best, alert) => (best === undefined || alert.score > best.score ? alert : best), undefined);
}

/** "deploy chg-42 (v2.3.9 → v2.4.0) by AI agent kiro", for one-line summaries. */
export function describeSuspect(suspect: Suspect): string {
  const { change } = suspect;
  const versions =
    change.version === undefined ? '' : ` (${change.previousVersion === undefined ? '' : `${change.previousVersion} → `}${change.version})`;
  const who = change.author.agent ?? change.author.name;
  return `${change.type} ${suspect.changeId}${versions} by ${authorTypeLabel(change.author.type)} ${who}`;
}

/** Confidence as a percentage, e.g. "86%". */
export function formatConfidence(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

/**
 * The one-line headline of a notification, e.g. "[RESOLVED] checkout error_rate anomaly". A trigger
 * for an incident already resolved (it fired and resolved while the service caught up on a backlog)
 * says so, so nobody starts on a fire that is out.
 */
export function headline(notification: Notification): string {
  const late = notification.action === 'trigger' && notification.incident.status === 'resolved';
  const prefix = late ? '[LATE, ALREADY RESOLVED] ' : { trigger: '', acknowledge: '[ACKNOWLEDGED] ', resolve: '[RESOLVED] ' }[notification.action];
  return `${prefix}${notification.incident.title}`;
}

/** Truncates to `max` characters, ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
