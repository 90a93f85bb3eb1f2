/** The notify stage's entry point: turn one incident change into durable outbox rows, one per endpoint. */
import { randomUUID } from 'node:crypto';
import type { Alert } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { OutboxRepository } from '../../store/repositories/outbox.ts';
import type { Notification, NotificationAction } from '../notifiers/types.ts';

/** What to tell the endpoints. */
export interface NotificationRequest {
  action: NotificationAction;
  incident: Incident;
  alerts: Alert[];
  dashboardUrl: string;
}

/**
 * Writes one outbox row per endpoint and returns the notifications. Pass `tx.outbox` from
 * `store.transaction` to commit them atomically with the incident write that caused them, then
 * call `DeliveryWorker.wake()` after the commit.
 */
export async function enqueueNotifications(
  outbox: OutboxRepository,
  endpoints: readonly string[],
  request: NotificationRequest,
  now: number,
  newId: () => string = () => `ntf_${randomUUID()}`,
): Promise<Notification[]> {
  const notifications = endpoints.map((endpoint) => ({ endpoint, notification: { id: newId(), ...request } }));
  await outbox.enqueue(notifications.map(({ endpoint, notification }) => ({ endpoint, notification, createdAt: now })));
  return notifications.map(({ notification }) => notification);
}
