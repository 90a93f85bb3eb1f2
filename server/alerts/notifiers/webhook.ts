/**
 * Generic webhook: the notification as JSON (`{ type, timestamp, data }`), signed per Standard
 * Webhooks. `webhook-id` is the outbox row id, identical on every retry, so receivers can drop
 * duplicates of the at-least-once delivery.
 */
import type { WebhookConfig } from './config.ts';
import { topSuspect } from './describe.ts';
import { post } from './http.ts';
import { Redactor, urlSecrets } from './redact.ts';
import { signWebhook } from './standard-webhooks.ts';
import type { DeliveryOutcome, Notification, NotificationAction, Notifier } from './types.ts';

/** Event type per action, in Standard Webhooks' dotted style. */
const EVENT_TYPES: Record<NotificationAction, string> = {
  trigger: 'incident.triggered',
  acknowledge: 'incident.acknowledged',
  resolve: 'incident.resolved',
};

/** The JSON body receivers get. */
export interface WebhookBody {
  type: string;
  /** When this attempt was sent, ISO-8601. */
  timestamp: string;
  data: Notification & { topSuspect: ReturnType<typeof topSuspect> | null };
}

/** Builds the body for a notification at `now`. */
export function buildWebhookBody(notification: Notification, now: number): WebhookBody {
  return {
    type: EVENT_TYPES[notification.action],
    timestamp: new Date(now).toISOString(),
    data: { ...notification, topSuspect: topSuspect(notification.alerts) ?? null },
  };
}

/** Posts signed notifications to one webhook receiver. */
export class WebhookNotifier implements Notifier {
  readonly type = 'webhook';
  readonly name: string;
  private readonly redactor: Redactor;

  constructor(
    private readonly config: WebhookConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.name = config.name;
    this.redactor = new Redactor([config.secret, config.secret.slice('whsec_'.length), ...urlSecrets(config.url)]);
  }

  send(notification: Notification, signal?: AbortSignal): Promise<DeliveryOutcome> {
    const now = this.now();
    const body = JSON.stringify(buildWebhookBody(notification, now));
    return post({
      url: this.config.url,
      body,
      headers: { ...signWebhook(this.config.secret, notification.id, Math.floor(now / 1000), body) },
      timeoutMs: this.config.timeoutMs,
      redactor: this.redactor,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}
