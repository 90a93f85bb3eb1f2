/** Shared helpers for the delivery tests: a scripted notifier, a capturing logger and notifications. */
import type { DeliveryLogger } from '../../../../server/alerts/delivery/worker.ts';
import type { DeliveryOutcome, Notification, Notifier } from '../../../../server/alerts/notifiers/types.ts';
import { makeAlert, makeIncident } from '../../store/fixtures.ts';

/** A scripted answer: an outcome, or a function producing one (e.g. one that never resolves). */
export type ScriptStep = DeliveryOutcome | ((signal?: AbortSignal) => Promise<DeliveryOutcome>);

/**
 * A notifier that answers from a script, then with `fallback`, and records every call. The script
 * is either one queue for all calls or one queue per notification id (deterministic when attempts
 * run concurrently).
 */
export class ScriptedNotifier implements Notifier {
  readonly type = 'scripted';
  readonly calls: Notification[] = [];

  constructor(
    readonly name: string,
    private readonly script: ScriptStep[] | Record<string, ScriptStep[]> = [],
    private readonly fallback: DeliveryOutcome = { ok: true, status: 200 },
  ) {}

  async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryOutcome> {
    this.calls.push(notification);
    const queue = Array.isArray(this.script) ? this.script : this.script[notification.id];
    const step = queue?.shift() ?? this.fallback;
    return typeof step === 'function' ? step(signal) : step;
  }
}

/** A retryable failure. */
export const fail503 = (retryAfterMs?: number): DeliveryOutcome => ({
  ok: false,
  retryable: true,
  reason: 'HTTP 503',
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

/** An answer that never comes until the attempt is aborted. */
export const hangUntilAborted = (signal?: AbortSignal): Promise<DeliveryOutcome> =>
  new Promise((resolve) => {
    signal?.addEventListener('abort', () => resolve({ ok: false, retryable: true, aborted: true, reason: 'aborted' }));
  });

/** A logger that keeps every line for assertions. */
export function captureLogger(): DeliveryLogger & { lines: Array<{ level: string; fields: object; message: string }> } {
  const lines: Array<{ level: string; fields: object; message: string }> = [];
  const at = (level: string) => (fields: object, message: string) => lines.push({ level, fields, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A notification for `incidentId`. */
export function notificationFor(id: string, incidentId: string, action: Notification['action'] = 'trigger'): Notification {
  return {
    id,
    action,
    incident: makeIncident({ id: incidentId, groupKey: `g-${incidentId}` }),
    alerts: [makeAlert({ id: `alert-${incidentId}` })],
    dashboardUrl: `http://changewatch.local/incidents/${incidentId}`,
  };
}
