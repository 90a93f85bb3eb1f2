/** The fleet feed: packing within PostgreSQL's payload limit, and two instances' feeds on one real PostgreSQL. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../contract/alert.ts';
import type { AutomationSnapshot } from '../../contract/automation.ts';
import type { Incident } from '../../contract/incident.ts';
import { EMPTY_EMISSION, type Emission } from '../../server/emission.ts';
import { FleetFeed, packFleetMessages, type FleetMessage } from '../../server/fleet-feed.ts';
import { createLogger } from '../../server/log.ts';
import type { Store } from '../../server/store/store.ts';
import { PERSISTENT_STORE_BACKENDS } from './store/backends.ts';
import { anAlert } from './alerts/stages/fixtures.ts';

const postgres = PERSISTENT_STORE_BACKENDS.find((backend) => backend.name === 'postgres')!;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** An alert whose explanation makes its JSON about `bytes` long. */
const aBigAlert = (id: string, bytes: number): Alert => ({ ...anAlert({ id }), explanation: 'x'.repeat(bytes) });

describe('packFleetMessages', () => {
  it('packs items in order into as few payloads as fit, each within the limit, and sends an item too large alone as its id', () => {
    const items = [
      { alert: aBigAlert('a1', 3_000) },
      { alert: aBigAlert('a2', 3_000) },
      { alert: aBigAlert('huge', 9_000) },
      { alert: aBigAlert('a3', 3_000) },
      { automation: true as const },
    ];
    const payloads = packFleetMessages('inst-1', items, 7_999);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(7_999);
    const messages = payloads.map((payload) => JSON.parse(payload) as FleetMessage);
    expect(messages.every((message) => message.from === 'inst-1')).toBe(true);
    const flat = messages.flatMap((message) => message.items.map((item) => ('alert' in item ? item.alert.id : 'alertId' in item ? `id:${item.alertId}` : Object.keys(item)[0])));
    expect(flat).toEqual(['a1', 'a2', 'id:huge', 'a3', 'automation']);
    expect(payloads).toHaveLength(2);
  });

  it('counts bytes, not characters', () => {
    const payloads = packFleetMessages('inst-1', [{ alert: { ...anAlert({ id: 'ü' }), explanation: 'é'.repeat(3_000) } }, { alert: { ...anAlert({ id: 'ß' }), explanation: 'é'.repeat(3_000) } }], 7_999);
    expect(payloads).toHaveLength(2);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(7_999);
  });
});

describe('fleet feeds of two instances on one PostgreSQL', { timeout: 30_000 }, () => {
  /** One instance: its store, a core that records what it absorbed, and its feed. */
  async function instance(open: () => Promise<Store>, id: string, automation: AutomationSnapshot = { rollbacks: [], freezes: [], killSwitch: { engaged: false } } as unknown as AutomationSnapshot) {
    const store = await open();
    const absorbed: Array<{ alerts: Alert[]; incidents: Incident[]; automation?: AutomationSnapshot }> = [];
    const core = { absorbFleet: (part: { alerts?: readonly Alert[]; incidents?: readonly Incident[]; automation?: AutomationSnapshot }) => void absorbed.push({ alerts: [...(part.alerts ?? [])], incidents: [...(part.incidents ?? [])], ...(part.automation ? { automation: part.automation } : {}) }) };
    const feed = await FleetFeed.start({ notifications: store.notifications!, core, store, automation: async () => automation, instanceId: id, log: createLogger('silent') });
    cleanup.push(async () => {
      await feed.stop();
      await store.close();
    });
    return { store, feed, absorbed };
  }
  /** Waits until `check` passes (notifications arrive on their own connection). */
  async function eventually(check: () => void): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        return check();
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  it('shows each instance what the other produced, never its own, and reads from the store what was too large to carry', async () => {
    const database = await postgres.create();
    cleanup.push(() => database.cleanup());
    const a = await instance(database.open, 'inst-a');
    const b = await instance(database.open, 'inst-b', { marker: 'b-store' } as unknown as AutomationSnapshot);
    const alert = anAlert({ id: 'alrt-fleet' });
    const emission: Emission = { ...EMPTY_EMISSION, alerts: [alert] };
    a.feed.accept(emission);
    await eventually(() => expect(b.absorbed.flatMap((part) => part.alerts)).toEqual([alert]));

    // Too large for a notification: B reads it from the store (where A's router stored it).
    const big = aBigAlert('alrt-big', 10_000);
    await a.store.alerts.upsert(big);
    const incident = { id: 'inc-1', status: 'firing' } as unknown as Incident;
    a.feed.accept({ ...EMPTY_EMISSION, alerts: [big], incidents: [incident], automation: {} as AutomationSnapshot });
    await eventually(() => expect(b.absorbed.flatMap((part) => part.alerts.map((x) => x.id))).toEqual(['alrt-fleet', 'alrt-big']));
    expect(b.absorbed.at(-1)!.alerts[0]!.explanation).toHaveLength(10_000);
    expect(b.absorbed.flatMap((part) => part.incidents)).toEqual([incident]);
    // The automation panel's state is read from the store, by the instance that shows it.
    expect(b.absorbed.at(-1)!.automation).toEqual({ marker: 'b-store' });

    // Another instance's emission is not announced again (no echo), and nobody hears itself.
    b.feed.accept({ ...EMPTY_EMISSION, alerts: [anAlert({ id: 'alrt-echo' })], origin: 'fleet' });
    b.feed.accept({ ...EMPTY_EMISSION, alerts: [anAlert({ id: 'alrt-from-b' })] });
    await eventually(() => expect(a.absorbed.flatMap((part) => part.alerts.map((x) => x.id))).toEqual(['alrt-from-b']));
    await a.feed.idle();
    await b.feed.idle();
    expect(a.absorbed.flatMap((part) => part.alerts.map((x) => x.id))).toEqual(['alrt-from-b']);
    expect(b.absorbed.flatMap((part) => part.alerts.map((x) => x.id))).toEqual(['alrt-fleet', 'alrt-big']);
  });

  it('does not cross deployments: two schemas in one database do not hear each other', async () => {
    const first = await postgres.create();
    const second = await postgres.create();
    cleanup.push(() => first.cleanup(), () => second.cleanup());
    const here = await instance(first.open, 'inst-1');
    const sameDeployment = await instance(first.open, 'inst-2');
    const elsewhere = await instance(second.open, 'inst-3');
    here.feed.accept({ ...EMPTY_EMISSION, alerts: [anAlert({ id: 'alrt-here' })] });
    await eventually(() => expect(sameDeployment.absorbed).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(elsewhere.absorbed).toEqual([]);
  });
});
