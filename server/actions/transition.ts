/**
 * Status changes of actions, shared by rollbacks and freezes: an action is looked up by kind and id,
 * and moved from an expected status to the next together with the audit entry recording it, in one
 * transaction, so the audit log never misses a change nor records one that did not happen.
 */
import { createError } from '../errors.ts';
import type { ActionKind, ActionOf, ActionRepository, ActionTransition } from '../store/repositories/actions.ts';
import type { Store } from '../store/store.ts';

/** A status change and the audit entry that records it. */
export interface AuditedTransition<K extends ActionKind> extends ActionTransition<K> {
  /** Who the audit entry names: a user or token name, `policy`, `delivery` or `killswitch`. */
  actor: string;
  /** The audit action, e.g. `rollback.approve`. */
  auditAction: string;
  /** The audit entry's reason, when it differs from the status reason. */
  auditReason?: string;
  /** The evidence the audit entry keeps, given the updated action. */
  evidence: (updated: ActionOf<K>) => unknown;
}

/** The action of `kind` with `id`; throws `CW_NOT_FOUND` (e.g. "no rollback rb-1"). */
export async function findAction<K extends ActionKind>(actions: ActionRepository, kind: K, id: string): Promise<ActionOf<K>> {
  const action = await actions.get(id, kind);
  if (!action) throw createError('CW_NOT_FOUND', `no ${kind} ${id}`);
  return action;
}

/**
 * Moves action `id` of `kind` as `change` says, but only from one of `change.from`, and appends its
 * audit entry (target `kind:id`), in one transaction. Returns the updated action, or `undefined`
 * with nothing written when it was not in an expected status (someone else changed it first).
 */
export function transitionWithAudit<K extends ActionKind>(store: Store, kind: K, id: string, change: AuditedTransition<K>): Promise<ActionOf<K> | undefined> {
  const { actor, auditAction, auditReason, evidence, ...transition } = change;
  return store.transaction(async (tx) => {
    const updated = await tx.actions.transition(id, kind, transition);
    if (!updated) return undefined;
    await tx.audit.append({ actor, action: auditAction, target: `${kind}:${id}`, reason: auditReason ?? transition.reason, evidence: evidence(updated), at: transition.at });
    return updated;
  });
}
