/**
 * The persist stage: the incident an emission changed goes to the store, inside the transaction
 * that recorded the emission (dedup) and its notification (notify), so a crash keeps all or none;
 * and every change seen is stored for the dashboard's history and change-failure rates.
 */
import type { ChangeEvent } from '../../../contract/events.ts';
import type { Repositories } from '../../store/store.ts';
import type { IncidentStep } from './notify.ts';
import type { Stage } from './stage.ts';

/** The persist stage: writes the step's incident as it now is. */
export function persistStage<T extends IncidentStep>(): Stage<T> {
  return {
    name: 'persist',
    async run(step) {
      await step.tx.incidents.upsert(step.incident);
      return step;
    },
  };
}

/** Stores a change event (idempotent by change id). */
export function persistChange(repositories: Pick<Repositories, 'changes'>, change: ChangeEvent): Promise<void> {
  return repositories.changes.upsert(change);
}
