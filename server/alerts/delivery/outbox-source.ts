/**
 * The notification outbox as a delivery source: one per configured endpoint, sending that
 * endpoint's rows through its notifier. Rows of one incident go out in order (the outbox leases
 * only an incident's oldest pending row); a dead row is audited and logged as `CW_NOTIFY_DEAD`.
 */
import type { OutboxEntry } from '../../store/repositories/outbox.ts';
import type { Store } from '../../store/store.ts';
import type { DeliveryOutcome, Notifier } from '../notifiers/types.ts';
import type { DeliveryClaim, DeliveryLogger, DeliverySource, FinalFailure } from './source.ts';

/** One endpoint's outbox rows, delivered by its notifier. */
export class OutboxSource implements DeliverySource<OutboxEntry> {
  readonly subject = 'notification';
  readonly name: string;

  constructor(
    private readonly store: Store,
    private readonly notifier: Notifier,
    private readonly logger: DeliveryLogger,
  ) {
    this.name = notifier.name;
  }

  /** Leases this endpoint's due rows. */
  claimDue(claim: DeliveryClaim): Promise<OutboxEntry[]> {
    return this.store.outbox.claimDue({ endpoint: this.name, ...claim });
  }

  /** Sends the row's notification through the endpoint's notifier. */
  send(row: OutboxEntry, signal: AbortSignal): Promise<DeliveryOutcome> {
    return this.notifier.send(row.notification, signal);
  }

  /** Marks the row delivered. */
  async markDelivered(row: OutboxEntry, delivery: { at: number }): Promise<void> {
    await this.store.outbox.markDelivered(row.id, delivery.at);
  }

  /** Records the failed attempt and the row's next due time. */
  async scheduleRetry(row: OutboxEntry, retry: { reason: string; nextAttemptAt: number }): Promise<void> {
    await this.store.outbox.scheduleRetry(row.id, { error: retry.reason, nextAttemptAt: retry.nextAttemptAt });
  }

  /** Marks the row dead and audits it in one transaction, and logs it loudly; the incident's later rows proceed. */
  async markDead(row: OutboxEntry, failure: FinalFailure): Promise<void> {
    const reason =
      failure.cause === 'rejected'
        ? `${failure.reason} (not retryable)`
        : `${failure.reason} (gave up after ${failure.attempts} attempts over ${Math.round(failure.ageMs / 1000)} s)`;
    await this.store.transaction(async (tx) => {
      if (!(await tx.outbox.markDead(row.id, { error: reason }))) return;
      await tx.audit.append({
        actor: 'delivery',
        action: 'notification.dead',
        target: `notification:${row.id}`,
        reason: `notification to ${row.endpoint} for incident ${row.incidentId} (${row.action}) was not delivered: ${reason}`,
        evidence: { code: 'CW_NOTIFY_DEAD', endpoint: row.endpoint, incidentId: row.incidentId, action: row.action, attempts: failure.attempts, enqueuedAt: new Date(row.createdAt).toISOString() },
      });
    });
    this.logger.error({ ...this.describe(row), attempt: failure.attempts, code: 'CW_NOTIFY_DEAD', reason }, 'notification is dead: it will not be retried');
  }

  /** Releases the row's lease. */
  releaseLease(row: OutboxEntry): Promise<void> {
    return this.store.outbox.releaseLease(row.id);
  }

  /** The row's id, endpoint, incident and action. */
  describe(row: OutboxEntry): object {
    return { notificationId: row.id, endpoint: row.endpoint, incidentId: row.incidentId, action: row.action };
  }
}
