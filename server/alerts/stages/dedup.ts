/**
 * The dedup stage: records each alert emission and lets through only those worth routing. The
 * store's conditional upsert (the newest `updatedAt` wins) is the deduplication: an emission older
 * than the stored one — Kafka replaying from a checkpoint, or another instance that got there
 * first — is recorded nowhere and stops here. (An emission of an alert a person detached is
 * recorded, then stopped by the group stage, which reads the incident that detached it.)
 */
import type { Alert } from '../../../contract/alert.ts';
import type { Repositories } from '../../store/store.ts';
import type { Stage } from './stage.ts';

/** An alert emission on its way through the stages, inside the routing transaction. */
export interface EmissionStep {
  tx: Repositories;
  /** Wall clock, epoch ms. */
  now: number;
  alert: Alert;
}

/** The dedup stage: the store's conditional upsert. */
export function dedupStage(): Stage<EmissionStep> {
  return {
    name: 'dedup',
    async run(step) {
      return (await step.tx.alerts.upsert(step.alert)) ? step : undefined;
    },
  };
}
