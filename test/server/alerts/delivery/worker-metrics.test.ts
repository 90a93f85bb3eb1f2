/** The delivery worker counts every attempt's outcome per endpoint in `changewatch_deliveries_total`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../../../server/alerts/delivery/worker.ts';
import { DELIVERY_OUTCOMES, ServiceMetrics } from '../../../../server/metrics.ts';
import { Store } from '../../../../server/store/store.ts';
import { Scrape } from '../../../support/prometheus.ts';
import { captureLogger, fail503, notificationFor, ScriptedNotifier } from './support.ts';

let store: Store;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(async () => {
  await store.close();
});

describe('delivery worker metrics', () => {
  it('counts delivered, retried and dead attempts per endpoint, starting every outcome at 0', async () => {
    let clock = 5_000_000;
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const notifier = new ScriptedNotifier('hook', { d1: [fail503()], d2: [{ ok: false, retryable: false, reason: 'HTTP 400' }] });
    const worker = new DeliveryWorker({ store, notifiers: new Map([[notifier.name, notifier]]), logger: captureLogger(), now: () => clock, random: () => 0.5, metrics });
    const deliveries = async () => {
      const scraped = new Scrape((await metrics.render()).body);
      return Object.fromEntries(DELIVERY_OUTCOMES.map((outcome) => [outcome, scraped.value('changewatch_deliveries_total', { endpoint: 'hook', outcome })]));
    };
    expect(await deliveries()).toEqual({ delivered: 0, retried: 0, dead: 0, released: 0, cancelled: 0 });

    await store.outbox.enqueue([
      { endpoint: 'hook', notification: notificationFor('d1', 'inc-d1'), createdAt: clock },
      { endpoint: 'hook', notification: notificationFor('d2', 'inc-d2'), createdAt: clock },
    ]);
    expect(await worker.processDue()).toMatchObject({ retried: 1, dead: 1 });
    expect(await deliveries()).toEqual({ delivered: 0, retried: 1, dead: 1, released: 0, cancelled: 0 });
    clock += 60_000;
    expect(await worker.processDue()).toMatchObject({ delivered: 1 });
    expect(await deliveries()).toEqual({ delivered: 1, retried: 1, dead: 1, released: 0, cancelled: 0 });
  });
});
