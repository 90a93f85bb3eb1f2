/**
 * A change announced to an endpoint that takes changes (PagerDuty Change Events, Grafana
 * annotations), as the outbox stores it. One per change id per endpoint, whatever the number of
 * instances or re-reads of the changes topic: its `id` derives from both.
 */
import type { ChangeEvent } from './events.ts';

/** One change for one endpoint. */
export interface ChangeNotification {
  /** Deterministic per (endpoint, change id): the outbox row id and the receiver's idempotency key. */
  id: string;
  change: ChangeEvent;
  /** Link to the changewatch dashboard. */
  dashboardUrl: string;
}
