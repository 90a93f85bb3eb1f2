/**
 * The persist stage: the incident an emission, a timer or a person changed goes to the store with
 * what has been told about it, inside the transaction that recorded the emission (dedup) and its
 * notification (notify), so a crash keeps all or none and the next decision, on any instance, starts
 * from it; and every change seen is stored for the dashboard's history and change-failure rates.
 */
import type { ChangeEvent } from '../../../contract/events.ts';
import type { Repositories } from '../../store/store.ts';
import type { IncidentStep } from './notify.ts';
import type { Stage } from './stage.ts';

/**
 * The persist stage: writes the step's incident and notify state as they now are. With
 * `skipUnchanged` (timer ticks), a step whose notify state the notify stage left as it was writes
 * nothing: the incident itself does not change on a tick.
 */
export function persistStage<T extends IncidentStep>(options: { skipUnchanged?: boolean } = {}): Stage<T> {
  return {
    name: 'persist',
    async run(step) {
      if (options.skipUnchanged && step.state === step.before) return step;
      await step.tx.incidents.upsert(step.incident, step.state);
      return step;
    },
  };
}

/** Stores a change event (idempotent by change id). */
export function persistChange(repositories: Pick<Repositories, 'changes'>, change: ChangeEvent): Promise<void> {
  return repositories.changes.upsert(change);
}
