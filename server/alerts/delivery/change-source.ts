/**
 * Announced changes as delivery sources: one per endpoint that announces changes, named
 * `changes:<endpoint>` (its circuit breaker and metrics key; endpoint names cannot hold `:`), sending
 * that endpoint's change rows of the outbox through its change sender. The delivery worker owns the
 * backoff, leases and breaker as for notifications; a dead row is audited as `change.dead` and
 * logged as `CW_NOTIFY_DEAD`.
 */
import type { ChangeOutboxEntry } from '../../store/repositories/change-outbox.ts';
import { changeEndpoint } from '../../store/repositories/change-outbox.ts';
import type { Store } from '../../store/store.ts';
import type { ChangeSender } from '../notifiers/changes.ts';
import type { DeliveryOutcome } from '../notifiers/types.ts';
import type { DeliveryClaim, DeliveryLogger, DeliverySource, FinalFailure } from './source.ts';

/** One endpoint's change rows, delivered by its change sender. */
export class ChangeEventSource implements DeliverySource<ChangeOutboxEntry> {
  readonly subject = 'change event';
  readonly name: string;

  constructor(
    private readonly store: Store,
    private readonly sender: ChangeSender,
    private readonly logger: DeliveryLogger,
  ) {
    this.name = changeEndpoint(sender.name);
  }

  claimDue(claim: DeliveryClaim): Promise<ChangeOutboxEntry[]> {
    return this.store.changeOutbox.claimDue({ endpoint: this.name, ...claim });
  }

  send(row: ChangeOutboxEntry, signal: AbortSignal): Promise<DeliveryOutcome> {
    return this.sender.sendChange(row.notification, signal);
  }

  async markDelivered(row: ChangeOutboxEntry, delivery: { at: number }): Promise<void> {
    await this.store.outbox.markDelivered(row.id, delivery.at);
  }

  async scheduleRetry(row: ChangeOutboxEntry, retry: { reason: string; nextAttemptAt: number }): Promise<void> {
    await this.store.outbox.scheduleRetry(row.id, { error: retry.reason, nextAttemptAt: retry.nextAttemptAt });
  }

  async markDead(row: ChangeOutboxEntry, failure: FinalFailure): Promise<void> {
    const reason =
      failure.cause === 'rejected'
        ? `${failure.reason} (not retryable)`
        : `${failure.reason} (gave up after ${failure.attempts} attempts over ${Math.round(failure.ageMs / 1000)} s)`;
    const changeId = row.notification.change.id;
    await this.store.transaction(async (tx) => {
      if (!(await tx.outbox.markDead(row.id, { error: reason }))) return;
      await tx.audit.append({
        actor: 'delivery',
        action: 'change.dead',
        target: `change:${changeId}`,
        reason: `change ${changeId} was not announced to ${this.sender.name}: ${reason}`,
        evidence: { code: 'CW_NOTIFY_DEAD', endpoint: this.sender.name, changeId, attempts: failure.attempts, enqueuedAt: new Date(row.createdAt).toISOString() },
      });
    });
    this.logger.error({ ...this.describe(row), attempt: failure.attempts, code: 'CW_NOTIFY_DEAD', reason }, 'change event is dead: it will not be retried');
  }

  releaseLease(row: ChangeOutboxEntry): Promise<void> {
    return this.store.outbox.releaseLease(row.id);
  }

  describe(row: ChangeOutboxEntry): object {
    return { notificationId: row.id, endpoint: this.sender.name, changeId: row.notification.change.id };
  }
}
