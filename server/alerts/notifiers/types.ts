/**
 * The notifier contract: a notifier turns one notification into one HTTP request and classifies the
 * result. It never sleeps or retries; the delivery worker owns backoff, ordering and the circuit breaker.
 */
import type { Notification } from '../../../contract/notification.ts';

export { NOTIFICATION_ACTIONS, type Notification, type NotificationAction } from '../../../contract/notification.ts';

/** The result of one delivery attempt. */
export type DeliveryOutcome =
  | { ok: true; status: number }
  | {
      ok: false;
      /** Worth trying again: network errors, timeouts, 408, 429 and 5xx. */
      retryable: boolean;
      /** The receiver's `Retry-After`, in ms from now, when it sent one. */
      retryAfterMs?: number;
      /** Why it failed, free of secrets (safe to log, store and show). */
      reason: string;
      /** True when the caller's signal aborted the attempt (shutdown), not the receiver. */
      aborted?: boolean;
    };

/** Sends notifications to one configured endpoint. */
export interface Notifier {
  /** The endpoint name from the `notify:` config; the outbox and circuit breaker key. */
  readonly name: string;
  /** `pagerduty`, `slack`, `webhook`, `alertmanager` or `grafana`. */
  readonly type: string;
  /**
   * Makes one attempt. Never throws and never retries: every failure becomes an outcome. `signal`
   * aborts the attempt (shutdown); the notifier adds its own timeout.
   */
  send(notification: Notification, signal?: AbortSignal): Promise<DeliveryOutcome>;
}
