/**
 * The notification contract: one message about one incident for one endpoint, as the outbox stores
 * it and every notifier (PagerDuty, Slack, webhook) encodes it.
 */
import type { Alert } from './alert.ts';
import type { Incident } from './incident.ts';

/** What happened to the incident: PagerDuty's event actions, used by every notifier. */
export const NOTIFICATION_ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
/** What happened to the incident. */
export type NotificationAction = (typeof NOTIFICATION_ACTIONS)[number];

/** One message about one incident for one endpoint, as stored in the outbox. */
export interface Notification {
  /** Stable per outbox row: the same on every retry, sent as the idempotency key (`webhook-id`). */
  id: string;
  action: NotificationAction;
  /** The incident as it was when the notification was enqueued. */
  incident: Incident;
  /** Its child alerts as they were when enqueued, most relevant first. */
  alerts: Alert[];
  /** Link to this incident on the dashboard. */
  dashboardUrl: string;
}
