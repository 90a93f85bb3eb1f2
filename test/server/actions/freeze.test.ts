import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FreezeService, freezeConfigSchema, type FreezeConfig } from '../../../server/actions/freeze.ts';
import { isChangewatchError } from '../../../server/errors.ts';
import { Store } from '../../../server/store/store.ts';
import { candidate, suspect } from './fixtures.ts';

// One store for the file: every test uses its own services and agents, so freezes never overlap.
let store: Store;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(async () => {
  await store.close();
});

let ids = 0;
/** A freeze service with a fixed clock at 14:03 UTC. */
function freezes(config: Partial<FreezeConfig> = {}): FreezeService {
  return new FreezeService({ store, config: freezeConfigSchema.parse(config), now: () => Date.parse('2026-11-23T14:03:00Z'), newId: () => `frz-${++ids}` });
}

describe('FreezeService', () => {
  it('freezes AI-authored changes to the service and explains the block in one sentence', async () => {
    const service = freezes();
    const freeze = await service.considerIncident(candidate());
    expect(freeze).toMatchObject({ active: true, scope: 'service', service: 'checkout', agent: 'kiro', changeId: 'chg-123', incidentId: 'inc-9' });
    const answer = await service.gate({ service: 'checkout', authorType: 'ai_agent', agent: 'other-agent' });
    expect(answer.allow).toBe(false);
    expect(answer.reason).toBe(
      `AI-authored changes to checkout are frozen since 14:03 UTC because deploy chg-123 by kiro likely caused incident inc-9 (0.91); a human must lift the freeze: POST /api/v1/freezes/${freeze!.id}/lift`,
    );
    expect(answer.freezeIds).toEqual([freeze!.id]);
    // Only the gate's answer, read in a pipeline's log, says which API call lifts it; the freeze's own sentence and its audit entry, shown to people, do not.
    expect(freeze!.reason).toBe('AI-authored changes to checkout are frozen since 14:03 UTC because deploy chg-123 by kiro likely caused incident inc-9 (0.91); a human must lift the freeze');
    const [entry] = await store.audit.list({ target: `freeze:${freeze!.id}` });
    expect(entry).toMatchObject({ actor: 'policy', action: 'freeze.create', reason: freeze!.reason });
  });

  it('never blocks human changes or other services', async () => {
    const service = freezes();
    await service.considerIncident(candidate([suspect({ changeId: 'chg-h1', change: { service: 'search' } })]));
    expect(await service.gate({ service: 'search', authorType: 'human' })).toMatchObject({ allow: true, reason: 'no freeze applies to changes to search by a human' });
    expect((await service.gate({ service: 'payments', authorType: 'ai_agent', agent: 'kiro' })).allow).toBe(true);
  });

  it('does not freeze below the confidence threshold or for a human culprit', async () => {
    const service = freezes({ minConfidence: 0.9 });
    expect(await service.considerIncident(candidate([suspect({ confidence: 0.89, change: { service: 'low' } })]))).toBeUndefined();
    expect(await service.considerIncident(candidate([suspect({ change: { service: 'hum', author: { type: 'human', name: 'dana' } } })]))).toBeUndefined();
    expect((await service.gate({ service: 'low', authorType: 'ai_agent', agent: 'kiro' })).allow).toBe(true);
  });

  it('keeps one freeze per service: a second incident returns the existing one', async () => {
    const service = freezes();
    const first = await service.considerIncident(candidate([suspect({ change: { service: 'ledger' } })]));
    const second = await service.considerIncident(candidate([suspect({ changeId: 'chg-999', change: { service: 'ledger' } })], { incidentId: 'inc-77' }));
    expect(second?.id).toBe(first?.id);
  });

  it('with scope agent, freezes that agent on every service and leaves other agents alone', async () => {
    const service = freezes({ scope: 'agent' });
    await service.considerIncident(candidate([suspect({ change: { service: 'mail', author: { type: 'ai_agent', name: 'x', agent: 'rogue' } } })]));
    const blocked = await service.gate({ service: 'anything-else', authorType: 'ai_agent', agent: 'rogue' });
    expect(blocked.allow).toBe(false);
    expect(blocked.reason).toContain('changes by AI agent rogue are frozen on every service');
    expect((await service.gate({ service: 'anything-else', authorType: 'ai_agent', agent: 'polite' })).allow).toBe(true);
  });

  it('stays until a human lifts it; lifting is audited and cannot happen twice', async () => {
    const service = freezes();
    const freeze = await service.considerIncident(candidate([suspect({ change: { service: 'inventory' } })]));
    const lifted = await service.lift(freeze!.id, 'alice', 'agent patched and reviewed');
    expect(lifted).toMatchObject({ active: false, liftedBy: 'alice', liftReason: 'agent patched and reviewed' });
    expect((await service.gate({ service: 'inventory', authorType: 'ai_agent', agent: 'kiro' })).allow).toBe(true);
    await expect(service.lift(freeze!.id, 'bob', 'again')).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_FREEZE_NOT_ACTIVE'));
    await expect(service.lift('frz-missing', 'bob', 'x')).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_NOT_FOUND'));
    const [entry] = await store.audit.list({ action: 'freeze.lift', target: `freeze:${freeze!.id}` });
    expect(entry).toMatchObject({ actor: 'alice', reason: 'agent patched and reviewed' });
    expect((await service.list({ includeLifted: true })).some((item) => item.id === freeze!.id)).toBe(true);
    expect((await service.list()).some((item) => item.id === freeze!.id)).toBe(false);
  });

  it('creates no new freezes when disabled', async () => {
    expect(await freezes({ enabled: false }).considerIncident(candidate([suspect({ change: { service: 'off' } })]))).toBeUndefined();
  });
});
