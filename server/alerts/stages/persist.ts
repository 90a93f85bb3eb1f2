/**
 * The persist stage: every alert emission and every change seen goes to the store, inside the
 * transaction of the incident write it leads to, so a crash keeps both or neither.
 */
import type { ChangeEvent } from '../../../contract/events.ts';
import type { Alert } from '../../../contract/alert.ts';
import type { Repositories } from '../../store/store.ts';

/** Stores an alert emission; `false` when a newer emission of the same alert is already stored (a replay). */
export function persistAlert(repositories: Pick<Repositories, 'alerts'>, alert: Alert): Promise<boolean> {
  return repositories.alerts.upsert(alert);
}

/** Stores a change event (idempotent by change id). */
export function persistChange(repositories: Pick<Repositories, 'changes'>, change: ChangeEvent): Promise<void> {
  return repositories.changes.upsert(change);
}
