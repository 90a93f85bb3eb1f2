/**
 * The rune-based state classes, compiled for the browser and run in Node: their derived values must
 * follow every update, as the components rely on.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as AlertFeedModule from '../../../../web/src/lib/state/alert-feed.svelte.ts';
import type * as ChangeFailureRatesModule from '../../../../web/src/lib/state/change-failure-rates.svelte.ts';
import type * as ChangeLogModule from '../../../../web/src/lib/state/change-log.svelte.ts';
import type * as ConnectionStateModule from '../../../../web/src/lib/state/connection-state.svelte.ts';
import type * as LiveDashboardModule from '../../../../web/src/lib/state/live-dashboard.svelte.ts';
import { makeAlert, makeChange, makeChangeStats, makeStats, suspectFor } from '../../support/fixtures.ts';
import { createRuneModuleLoader, type RuneModuleLoader } from '../../support/load-rune-module.ts';

const now = Date.now();

let loader: RuneModuleLoader;
let AlertFeed: typeof AlertFeedModule.AlertFeed;
let ChangeLog: typeof ChangeLogModule.ChangeLog;
let ConnectionState: typeof ConnectionStateModule.ConnectionState;
let LiveDashboard: typeof LiveDashboardModule.LiveDashboard;
let ChangeFailureRates: typeof ChangeFailureRatesModule.ChangeFailureRates;

beforeAll(async () => {
  loader = await createRuneModuleLoader();
  ({ AlertFeed } = await loader.load<typeof AlertFeedModule>('/src/lib/state/alert-feed.svelte.ts'));
  ({ ChangeLog } = await loader.load<typeof ChangeLogModule>('/src/lib/state/change-log.svelte.ts'));
  ({ ConnectionState } = await loader.load<typeof ConnectionStateModule>('/src/lib/state/connection-state.svelte.ts'));
  ({ LiveDashboard } = await loader.load<typeof LiveDashboardModule>('/src/lib/state/live-dashboard.svelte.ts'));
  ({ ChangeFailureRates } = await loader.load<typeof ChangeFailureRatesModule>('/src/lib/state/change-failure-rates.svelte.ts'));
});

afterAll(async () => {
  await loader?.close();
});

describe('AlertFeed', () => {
  it('keeps open and resolved alerts, severity counts and suspected changes in step with updates', () => {
    const feed = new AlertFeed();
    const deploy = makeChange(now, 10, { id: 'deploy' });
    feed.replaceAll([
      makeAlert(now, 5, { id: 'a', severity: 'critical', suspects: [suspectFor(deploy, 0.8, [])] }),
      makeAlert(now, 6, { id: 'b' }),
    ]);
    expect(feed.open.map((alert) => alert.id)).toEqual(['a', 'b']);
    expect(feed.openBySeverity).toEqual({ critical: 1, warning: 1, info: 0 });
    expect([...feed.openByTopSuspect.keys()]).toEqual(['deploy']);

    feed.upsert([makeAlert(now, 5, { id: 'a', status: 'resolved', updatedAt: new Date(now).toISOString(), suspects: [suspectFor(deploy, 0.8, [])] })]);
    expect(feed.open.map((alert) => alert.id)).toEqual(['b']);
    expect(feed.resolved.map((alert) => alert.id)).toEqual(['a']);
    expect(feed.openBySeverity).toEqual({ critical: 0, warning: 1, info: 0 });
    expect(feed.openByTopSuspect.size).toBe(0);
  });

  it('caps the number of alerts it holds', () => {
    const feed = new AlertFeed(2);
    feed.upsert([makeAlert(now, 1, { id: 'a' }), makeAlert(now, 2, { id: 'b' }), makeAlert(now, 3, { id: 'c' })]);
    expect(feed.open.map((alert) => alert.id)).toEqual(['a', 'b']);
  });
});

describe('ChangeLog', () => {
  it('replaces and extends its newest-first list', () => {
    const log = new ChangeLog(2);
    log.replaceAll([makeChange(now, 5)]);
    log.add([makeChange(now, 1), makeChange(now, 9)]);
    expect(log.all.map((change) => change.id)).toEqual(['chg-1', 'chg-5']);
  });
});

describe('ConnectionState', () => {
  it('moves through connecting, connected, reconnecting and disconnected', () => {
    const connection = new ConnectionState();
    expect(connection.phase).toBe('connecting');
    expect(connection.hasConnected).toBe(false);

    connection.markConnected();
    expect(connection.phase).toBe('connected');
    expect(connection.hasConnected).toBe(true);

    connection.markDisconnected('transport close', true);
    expect(connection.phase).toBe('reconnecting');
    expect(connection.problem).toBe('transport close');
    const lostAt = connection.since;

    connection.markReconnecting(3);
    connection.markConnectFailed('xhr poll error');
    expect(connection.attempt).toBe(3);
    expect(connection.problem).toBe('xhr poll error');
    expect(connection.since).toBe(lostAt);

    connection.markConnected();
    expect(connection.attempt).toBe(0);
    expect(connection.problem).toBeUndefined();

    connection.markDisconnected('io server disconnect', false);
    expect(connection.phase).toBe('disconnected');
  });
});

describe('LiveDashboard', () => {
  it('routes snapshots, batches, stats and connection events to its parts', () => {
    const live = new LiveDashboard();
    live.snapshot({ alerts: [makeAlert(now, 3, { id: 'a' })], changes: [makeChange(now, 4)], stats: makeStats() });
    live.batch({ alerts: [makeAlert(now, 1, { id: 'b', severity: 'critical' })], changes: [makeChange(now, 2)] });
    live.stats(makeStats({ alertsFiring: 2 }));
    live.connected();

    expect(live.alerts.open.map((alert) => alert.id)).toEqual(['b', 'a']);
    expect(live.changes.all.map((change) => change.id)).toEqual(['chg-2', 'chg-4']);
    expect(live.serverStats?.alertsFiring).toBe(2);
    expect(live.connection.phase).toBe('connected');

    live.snapshot({ alerts: [], changes: [], stats: makeStats({ alertsFiring: 0 }) });
    expect(live.alerts.open).toEqual([]);
    expect(live.changes.all).toEqual([]);
  });
});

describe('ChangeFailureRates', () => {
  it('polls, keeps the last good figures through a failure, and stops when told', async () => {
    const stats = makeChangeStats(now);
    // Scripted answers; once they run out, a request waits until `release` answers it or it is aborted.
    const script: Response[] = [Response.json(stats), new Response('down', { status: 502 })];
    let release: ((response: Response) => void) | undefined;
    let aborted = 0;
    let requests = 0;
    const fetchStub: typeof fetch = async (_input, init) => {
      requests += 1;
      const scripted = script.shift();
      if (scripted) return scripted;
      return new Promise<Response>((resolve, reject) => {
        let settled = false;
        release = (response) => {
          settled = true;
          resolve(response);
        };
        init?.signal?.addEventListener('abort', () => {
          if (settled) return;
          aborted += 1;
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
    };
    const rates = new ChangeFailureRates(fetchStub, 10);

    const stop = rates.start();
    await vi.waitFor(() => expect(requests).toBe(3));
    expect(rates.problem).toBe('server answered HTTP 502');
    expect(rates.stats).toEqual(stats);
    const receivedAt = rates.receivedAt;
    expect(receivedAt).toBeTypeOf('number');

    release!(Response.json(stats));
    await vi.waitFor(() => expect(requests).toBe(4));
    expect(rates.problem).toBeUndefined();
    expect(rates.receivedAt).toBeGreaterThanOrEqual(receivedAt!);

    stop();
    await vi.waitFor(() => expect(aborted).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests).toBe(4);
    // An aborted request is not a failure worth showing.
    expect(rates.problem).toBeUndefined();
  });
});
