/** Each stage of the router's chains on its own, on an in-memory store, and `chain` itself. */
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../../contract/alert.ts';
import { IncidentMemory } from '../../../../server/alerts/incident-memory.ts';
import { notifyConfigSchema } from '../../../../server/alerts/notifiers/config.ts';
import { generateWebhookSecret } from '../../../../server/alerts/notifiers/standard-webhooks.ts';
import { incidentsConfigSchema } from '../../../../server/alerts/stages/config.ts';
import { dedupStage } from '../../../../server/alerts/stages/dedup.ts';
import { groupOf, groupStage, openIncident, type GroupedStep } from '../../../../server/alerts/stages/group.ts';
import { muteStage } from '../../../../server/alerts/stages/mute.ts';
import { freshNotifyState, hasPaged, notifyStage, type IncidentStep } from '../../../../server/alerts/stages/notify.ts';
import { persistStage } from '../../../../server/alerts/stages/persist.ts';
import { chain, type Stage } from '../../../../server/alerts/stages/stage.ts';
import { Store } from '../../../../server/store/store.ts';
import { anAlert } from './fixtures.ts';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const incidents = incidentsConfigSchema.parse({ groupWaitMs: 0 });
const notify = notifyConfigSchema.parse([{ name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: generateWebhookSecret() }]);

// One in-memory store for the file (opening PGlite takes seconds); each test uses its own alert ids.
let shared: Store | undefined;
afterAll(async () => shared?.close());
async function aStore(): Promise<Store> {
  shared ??= await Store.open();
  return shared;
}

/** An incident step for `alert`'s new incident, nothing told yet. */
function incidentStep(store: Store, alerts: Alert[] = [anAlert()]): IncidentStep {
  const incident = openIncident(alerts[0]!, groupOf(alerts[0]!, incidents), new Date(NOW).toISOString());
  const before = freshNotifyState(NOW - 60_000);
  return { tx: store, now: NOW, incident, alerts, settled: true, before, state: before };
}

describe('chain', () => {
  const add = (n: number): Stage<number> => ({ name: `+${n}`, run: async (x) => x + n });
  const stop: Stage<number> = { name: 'stop', run: async () => undefined };

  it('runs stages in order on what the previous returned, and stops at the first undefined', async () => {
    const seen: number[] = [];
    const spy: Stage<number> = { name: 'spy', run: async (x) => (seen.push(x), x) };
    expect(await chain(add(1), spy, add(10)).run(1)).toBe(12);
    expect(seen).toEqual([2]);
    expect(await chain(add(1), stop, spy).run(1)).toBeUndefined();
    expect(seen).toEqual([2]);
    expect(chain(add(1), stop).name).toBe('+1 → stop');
  });
});

describe('dedup stage', () => {
  it('records each emission and stops an older one (a replay)', async () => {
    const store = await aStore();
    const dedup = dedupStage();
    const newer = anAlert({ id: 'alrt-d', updatedAt: '2026-03-02T10:01:00.000Z', observed: 700 });
    expect(await dedup.run({ tx: store, now: NOW, alert: newer })).toBeDefined();
    expect(await dedup.run({ tx: store, now: NOW, alert: anAlert({ id: 'alrt-d' }) })).toBeUndefined();
    expect((await store.alerts.get('alrt-d'))?.observed).toBe(700);
  });
});

describe('group stage', () => {
  it('opens an incident for a new alert, joins the next alert of its group to it, and drops a resolve it never grouped', async () => {
    const store = await aStore();
    const memory = new IncidentMemory(60_000);
    const group = groupStage(memory, incidents);
    const first = await group.run({ tx: store, now: NOW, alert: anAlert({ id: 'alrt-g1', service: 'cart' }) });
    expect(first).toMatchObject({ isNew: true, incident: { status: 'firing', alertIds: ['alrt-g1'] } });
    await persistStage<GroupedStep>().run(first!);
    const second = await group.run({ tx: store, now: NOW, alert: anAlert({ id: 'alrt-g2', service: 'cart', metric: 'error_rate' }) });
    expect(second).toMatchObject({ isNew: false, incident: { id: first!.incident.id, alertIds: ['alrt-g1', 'alrt-g2'] } });
    expect(await group.run({ tx: store, now: NOW, alert: anAlert({ id: 'alrt-9', service: 'search', status: 'resolved' }) })).toBeUndefined();
  });

  it('stops an alert its stored incident detached, and lets it go once it resolves', async () => {
    const store = await aStore();
    const memory = new IncidentMemory(60_000);
    const group = groupStage(memory, incidents);
    const first = await group.run({ tx: store, now: NOW, alert: anAlert({ id: 'alrt-d', service: 'cart' }) });
    // As a person's resolve writes it: resolved, with the still-firing alert detached.
    await store.incidents.upsert({ ...first!.incident, status: 'resolved', resolvedAt: '2026-03-02T10:01:00.000Z' }, { ...first!.state, detached: ['alrt-d'] });
    expect(await group.run({ tx: store, now: NOW, alert: anAlert({ id: 'alrt-d', service: 'cart', updatedAt: '2026-03-02T10:02:00.000Z' }) })).toBeUndefined();
    const resolved = anAlert({ id: 'alrt-d', service: 'cart', status: 'resolved', updatedAt: '2026-03-02T10:03:00.000Z' });
    expect(await group.run({ tx: store, now: NOW, alert: resolved })).toBeUndefined();
    expect((await store.incidents.lock(first!.incident.id))?.notify?.detached).toEqual([]);
  });
});

describe('mute stage', () => {
  it('notes the silence that covers every alert of the incident, and nothing otherwise', async () => {
    const store = await aStore();
    const silence = { id: 'sil_1', matchers: { service: ['checkout'] }, startsAt: '2026-03-02T09:00:00.000Z', endsAt: '2026-03-02T11:00:00.000Z', createdBy: 'alice', comment: 'load test', createdAt: '2026-03-02T09:00:00.000Z' };
    const mute = muteStage<IncidentStep>({ silences: { list: () => [silence] }, maintenance: [] });
    expect((await mute.run(incidentStep(store)))?.muted).toBe('silence sil_1 by alice: load test');
    expect((await mute.run(incidentStep(store, [anAlert({ service: 'search' })])))?.muted).toBeUndefined();
  });
});

describe('notify stage', () => {
  it('writes the due trigger to the outbox, records a muted one as suppressed, and writes nothing when nothing is due', async () => {
    const store = await aStore();
    const stage = notifyStage<IncidentStep>({ notify, publicUrl: 'http://dash.test', incidents });
    const paged = await stage.run(incidentStep(store, [anAlert({ id: 'alrt-n' })]));
    expect(paged?.state).toMatchObject({ lastAction: 'trigger', lastSentAt: NOW });
    expect(hasPaged(paged!.state)).toBe(true);
    expect((await store.outbox.list({ incidentId: paged!.incident.id })).map((row) => row.action)).toEqual(['trigger']);

    const again = await stage.run({ ...paged!, before: paged!.state });
    expect(again?.state).toBe(paged!.state);

    const muted = await stage.run({ ...incidentStep(store, [anAlert({ id: 'alrt-m', service: 'search' })]), muted: 'silence sil_1' });
    expect(muted?.state.suppressedAction).toBe('trigger');
    expect(hasPaged(muted!.state)).toBe(false);
    expect((await store.audit.list({ action: 'notification.suppressed' })).length).toBe(1);
    expect(await store.outbox.list({ incidentId: muted!.incident.id })).toEqual([]);
  });
});

describe('persist stage', () => {
  it('writes the incident and its notify state as the step has them, and on a tick only when the state changed', async () => {
    const store = await aStore();
    const step = incidentStep(store, [anAlert({ id: 'alrt-p' })]);
    await persistStage<IncidentStep>({ skipUnchanged: true }).run(step);
    expect(await store.incidents.get(step.incident.id)).toBeUndefined();
    await persistStage<IncidentStep>().run(step);
    expect(await store.incidents.lock(step.incident.id)).toEqual({ incident: expect.objectContaining({ id: step.incident.id, status: 'firing' }), notify: step.state });
  });
});
