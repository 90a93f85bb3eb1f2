/**
 * The dedup stage: records each alert emission and lets through only those worth routing. The
 * store's conditional upsert (the newest `updatedAt` wins) is the deduplication: an emission older
 * than the stored one — Kafka replaying from a checkpoint — is recorded nowhere and stops here. An
 * emission of an alert a person detached (by resolving its incident while it fired) is recorded
 * and stops here too, so it cannot page again for what someone closed.
 */
import type { Alert } from '../../../contract/alert.ts';
import type { Repositories } from '../../store/store.ts';
import type { IncidentMemory } from '../incident-memory.ts';
import type { Stage } from './stage.ts';

/** An alert emission on its way through the stages, inside the routing transaction. */
export interface EmissionStep {
  tx: Repositories;
  /** Wall clock, epoch ms. */
  now: number;
  alert: Alert;
}

/** The dedup stage over the router's memory. */
export function dedupStage(memory: Pick<IncidentMemory, 'isDetached' | 'reattach' | 'refresh'>): Stage<EmissionStep> {
  return {
    name: 'dedup',
    async run(step) {
      const { tx, alert } = step;
      const stored = await tx.alerts.upsert(alert);
      if (memory.isDetached(alert.id)) {
        if (stored) memory.refresh(alert);
        if (alert.status === 'resolved') memory.reattach(alert.id);
        return undefined;
      }
      return stored ? step : undefined;
    },
  };
}
