import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAction, transitionWithAudit } from '../../../server/actions/transition.ts';
import { isChangewatchError } from '../../../server/errors.ts';
import type { FreezeRecord, RollbackRecord } from '../../../server/store/repositories/actions.ts';
import { Store } from '../../../server/store/store.ts';

let store: Store;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(async () => {
  await store.close();
});

const AT = '2026-11-23T14:05:00.000Z';

/** A pending rollback with `id`, stored. */
async function pendingRollback(id: string): Promise<RollbackRecord> {
  const rollback: RollbackRecord = {
    id,
    kind: 'rollback',
    status: 'pending',
    service: 'checkout',
    changeId: `chg-${id}`,
    requestedBy: 'policy',
    reason: 'waiting for a human',
    details: { alertId: 'alt-1', environment: 'prod', anomalyService: 'checkout', summary: 'deploy', evidence: ['only v2 fails'], evidenceKinds: ['version_split'], reasons: ['waiting'] },
    createdAt: AT,
    updatedAt: AT,
  };
  await store.actions.insert(rollback);
  return rollback;
}

/** Approving `id` as alice, audited as `rollback.approve` with the evidence lines. */
const approval = {
  from: ['pending'] as const,
  to: 'approved' as const,
  reason: 'approved by alice',
  decidedBy: 'alice',
  at: '2026-11-23T14:06:00.000Z',
  details: { approvedAt: '2026-11-23T14:06:00.000Z' },
  actor: 'alice',
  auditAction: 'rollback.approve',
  evidence: (updated: RollbackRecord) => ({ evidence: updated.details.evidence }),
};

describe('transitionWithAudit', () => {
  it('writes the new status, the merged details and the audit entry together', async () => {
    await pendingRollback('tr-1');
    const updated = await transitionWithAudit(store, 'rollback', 'tr-1', approval);
    expect(updated).toMatchObject({ status: 'approved', decidedBy: 'alice', reason: 'approved by alice', updatedAt: approval.at, details: { approvedAt: approval.at, alertId: 'alt-1' } });
    expect(await store.actions.get('tr-1')).toEqual(updated);
    expect(await store.audit.list({ target: 'rollback:tr-1' })).toMatchObject([
      { actor: 'alice', action: 'rollback.approve', reason: 'approved by alice', at: approval.at, evidence: { evidence: ['only v2 fails'] } },
    ]);
  });

  it('refuses a transition from the wrong status and writes neither the status nor an audit entry', async () => {
    await pendingRollback('tr-2');
    const denial = { from: ['pending'] as const, to: 'denied' as const, reason: 'denied by bob: no', decidedBy: 'bob', at: approval.at, actor: 'bob', auditAction: 'rollback.deny', evidence: () => ({}) };
    await transitionWithAudit(store, 'rollback', 'tr-2', denial);
    expect(await transitionWithAudit(store, 'rollback', 'tr-2', approval)).toBeUndefined();
    expect(await store.actions.get('tr-2')).toMatchObject({ status: 'denied', decidedBy: 'bob', reason: 'denied by bob: no' });
    expect((await store.audit.list({ target: 'rollback:tr-2' })).map((entry) => entry.action)).toEqual(['rollback.deny']);
  });

  it('keeps the status unchanged when the audit entry cannot be written', async () => {
    await pendingRollback('tr-3');
    const broken = { ...approval, evidence: () => ({ bad: 1n }) }; // a bigint cannot be stored as JSON
    await expect(transitionWithAudit(store, 'rollback', 'tr-3', broken)).rejects.toThrow();
    expect(await store.actions.get('tr-3')).toMatchObject({ status: 'pending' });
    expect(await store.audit.list({ target: 'rollback:tr-3' })).toEqual([]);
  });

  it('only moves actions of the given kind, and uses its own audit reason when given one', async () => {
    const freeze: FreezeRecord = {
      id: 'tr-frz',
      kind: 'freeze',
      status: 'executed',
      service: 'checkout',
      requestedBy: 'policy',
      reason: 'AI-authored changes to checkout are frozen',
      details: { scope: 'service', agent: 'kiro', authorTypes: ['ai_agent'], changeType: 'deploy', alertId: 'alt-1', confidence: 0.9, evidence: [] },
      createdAt: AT,
      updatedAt: AT,
    };
    await store.actions.insert(freeze);
    expect(await transitionWithAudit(store, 'rollback', 'tr-frz', { ...approval, from: ['executed'] })).toBeUndefined();
    const lifted = await transitionWithAudit(store, 'freeze', 'tr-frz', {
      from: ['executed'],
      to: 'lifted',
      reason: 'lifted by alice: fixed',
      decidedBy: 'alice',
      at: approval.at,
      actor: 'alice',
      auditAction: 'freeze.lift',
      auditReason: 'fixed',
      evidence: () => ({ freeze: freeze.id }),
    });
    expect(lifted).toMatchObject({ kind: 'freeze', status: 'lifted' });
    expect(await store.audit.list({ target: 'freeze:tr-frz' })).toMatchObject([{ action: 'freeze.lift', reason: 'fixed' }]);
  });
});

describe('findAction', () => {
  it('finds an action of the kind asked for, and answers CW_NOT_FOUND for another kind or none', async () => {
    await pendingRollback('tr-find');
    expect(await findAction(store.actions, 'rollback', 'tr-find')).toMatchObject({ id: 'tr-find', kind: 'rollback' });
    for (const lookup of [findAction(store.actions, 'freeze', 'tr-find'), findAction(store.actions, 'rollback', 'tr-none')]) {
      await expect(lookup).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_NOT_FOUND'));
    }
    await expect(findAction(store.actions, 'freeze', 'tr-find')).rejects.toThrow('no freeze tr-find');
  });
});
