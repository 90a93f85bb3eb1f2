/**
 * The navigation and attention state classes (address bar, preferences, critical-alert notifier),
 * compiled for the browser and run in Node like the other rune modules, against stand-ins for
 * `window.history`, localStorage, the socket and the Notification API.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as NavigationModule from '../../../../web/src/lib/state/navigation.svelte.ts';
import type * as PreferencesModule from '../../../../web/src/lib/state/preferences.svelte.ts';
import type * as NotifierModule from '../../../../web/src/lib/state/critical-alert-notifier.svelte.ts';
import type { Alert } from '../../../../contract/alert.ts';
import { makeAlert } from '../../support/fixtures.ts';
import { createRuneModuleLoader, type RuneModuleLoader } from '../../support/load-rune-module.ts';

const now = Date.now();
let loader: RuneModuleLoader;
let Navigation: typeof NavigationModule.Navigation;
let Preferences: typeof PreferencesModule.Preferences;
let PREFERENCES_STORAGE_KEY: string;
let CriticalAlertNotifier: typeof NotifierModule.CriticalAlertNotifier;

beforeAll(async () => {
  loader = await createRuneModuleLoader();
  ({ Navigation } = await loader.load<typeof NavigationModule>('/src/lib/state/navigation.svelte.ts'));
  ({ Preferences, PREFERENCES_STORAGE_KEY } = await loader.load<typeof PreferencesModule>('/src/lib/state/preferences.svelte.ts'));
  ({ CriticalAlertNotifier } = await loader.load<typeof NotifierModule>('/src/lib/state/critical-alert-notifier.svelte.ts'));
});

afterAll(async () => {
  await loader?.close();
});

/** A window whose history records pushes and replaces and moves the location like a browser. */
function fakeWindow(path: string) {
  const [pathname, search = ''] = path.split('?');
  const listeners: Array<() => void> = [];
  const entries: string[] = [path];
  const window = {
    location: { pathname: pathname!, search: search ? `?${search}` : '' },
    log: [] as string[],
    history: {
      pushState: (_data: unknown, _unused: string, url: string) => go(url, 'push'),
      replaceState: (_data: unknown, _unused: string, url: string) => go(url, 'replace'),
    },
    addEventListener: (_type: 'popstate', listener: () => void) => listeners.push(listener),
    removeEventListener: (_type: 'popstate', listener: () => void) => listeners.splice(listeners.indexOf(listener), 1),
    /** Simulates Back to an earlier URL. */
    back(url: string) {
      go(url);
      for (const listener of listeners) listener();
    },
    entries,
  };
  function go(url: string, how?: 'push' | 'replace'): void {
    const parsed = new URL(url, 'http://dashboard');
    window.location.pathname = parsed.pathname;
    window.location.search = parsed.search;
    if (how) window.log.push(`${how} ${url}`);
  }
  return window;
}

describe('Navigation', () => {
  it('reads the address, writes selections as new entries and search typing in place, and follows back', () => {
    const window = fakeWindow('/alerts/a1?severity=critical');
    const navigation = new Navigation(window);
    expect(navigation.selection).toEqual({ kind: 'alert', id: 'a1' });
    expect(navigation.filters).toEqual({ severity: 'critical' });
    expect(navigation.revealRequest).toBe(1);
    const stop = navigation.bind();

    navigation.select({ kind: 'incident', id: 'inc 1' });
    navigation.setFilter('search', 'pool');
    navigation.setFilter('search', 'pool size');
    navigation.setFilter('severity', '');
    navigation.select({ kind: 'alert', id: 'a2' }, { mode: 'replace', reveal: true });
    expect(window.log).toEqual([
      'push /incidents/inc%201?severity=critical',
      'replace /incidents/inc%201?severity=critical&q=pool',
      'replace /incidents/inc%201?severity=critical&q=pool+size',
      'push /incidents/inc%201?q=pool+size',
      'replace /alerts/a2?q=pool+size',
    ]);
    expect(navigation.revealRequest).toBe(2);

    window.back('/changes/c1?service=checkout');
    expect(navigation.selection).toEqual({ kind: 'change', id: 'c1' });
    expect(navigation.filters).toEqual({ service: 'checkout' });
    expect(navigation.filtered).toBe(true);
    navigation.clearFilters();
    expect(window.log.at(-1)).toBe('push /changes/c1');
    expect(navigation.filtered).toBe(false);
    stop();
    window.back('/');
    expect(navigation.selection).toEqual({ kind: 'change', id: 'c1' });
  });

  it('does not add a history entry for what is already the address', () => {
    const window = fakeWindow('/alerts/a1');
    const navigation = new Navigation(window);
    navigation.select({ kind: 'alert', id: 'a1' });
    navigation.clearFilters();
    expect(window.log).toEqual([]);
  });
});

/** A Map-backed Storage stand-in. */
function memoryStorage(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value), items };
}

describe('Preferences', () => {
  it('defaults to the system theme, local time and no notifications, and keeps every change', () => {
    const storage = memoryStorage();
    const preferences = new Preferences(storage);
    expect([preferences.theme, preferences.timeZone, preferences.notifyCritical, preferences.soundCritical]).toEqual(['system', 'local', false, false]);
    preferences.set('theme', 'light');
    preferences.set('timeZone', 'utc');
    const again = new Preferences(storage);
    expect([again.theme, again.timeZone]).toEqual(['light', 'utc']);
  });

  it('ignores a malformed or hand-edited entry', () => {
    expect(new Preferences(memoryStorage({ [PREFERENCES_STORAGE_KEY]: '{not json' })).theme).toBe('system');
    const odd = new Preferences(memoryStorage({ [PREFERENCES_STORAGE_KEY]: JSON.stringify({ theme: 'neon', timeZone: 'mars', notifyCritical: 'yes' }) }));
    expect([odd.theme, odd.timeZone, odd.notifyCritical]).toEqual(['system', 'local', false]);
  });
});

describe('CriticalAlertNotifier', () => {
  function fakeSocket() {
    const handlers = new Map<string, (payload: never) => void>();
    return {
      on: (event: string, handler: (payload: never) => void) => void handlers.set(event, handler),
      off: (event: string) => void handlers.delete(event),
      emit: (event: string, payload: unknown) => handlers.get(event)?.(payload as never),
      handlers,
    };
  }
  function fakeNotificationApi(answer: NotificationPermission) {
    const record = { requests: 0, shown: [] as string[] };
    class Recorder {
      static permission: NotificationPermission = 'default';
      static async requestPermission() {
        record.requests += 1;
        Recorder.permission = answer;
        return answer;
      }
      onclick: (() => void) | null = null;
      constructor(title: string) {
        record.shown.push(title);
      }
      close() {}
    }
    return { api: Recorder as unknown as NotifierModule.NotificationApi, record };
  }
  const beeper = () => ({ plays: 0, prime() {}, play() { this.plays += 1; } });

  it('asks only when opted in, and notifies news after the snapshot, summing a storm up', async () => {
    vi.useFakeTimers();
    try {
      const { api, record } = fakeNotificationApi('granted');
      const sound = beeper();
      const preferences = new Preferences(memoryStorage());
      const notifier = new CriticalAlertNotifier(preferences, { notification: api, beeper: sound as never, gatherMs: 100 });
      const socket = fakeSocket();
      const stop = notifier.bind(socket as never);
      expect(record.requests).toBe(0);

      const known = makeAlert(now, 5, { id: 'known', severity: 'critical' });
      socket.emit('alert', makeAlert(now, 1, { id: 'before-snapshot', severity: 'critical' }));
      socket.emit('snapshot', { alerts: [known], changes: [], stats: {} });
      socket.emit('alert', makeAlert(now, 1, { id: 'not-opted-in', severity: 'critical' }));
      vi.advanceTimersByTime(200);
      expect(record.shown).toEqual([]);

      await notifier.enableNotifications();
      expect([record.requests, notifier.permission, notifier.notifying, preferences.notifyCritical]).toEqual([1, 'granted', true, true]);
      socket.emit('alert', known);
      const burst: Alert[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => makeAlert(now, 1, { id, severity: 'critical', service: `svc-${id}` }));
      for (const alert of burst) socket.emit('alert', alert);
      vi.advanceTimersByTime(200);
      expect(record.shown).toEqual(['Critical: svc-a prod', 'Critical: svc-b prod', 'Critical: svc-c prod', '3 more critical alerts']);
      expect(sound.plays).toBe(0);

      notifier.setSound(true);
      expect(sound.plays).toBe(1);
      notifier.disableNotifications();
      socket.emit('alert', makeAlert(now, 1, { id: 'later', severity: 'critical' }));
      vi.advanceTimersByTime(200);
      expect(record.shown).toHaveLength(4);
      expect(sound.plays).toBe(2);
      stop();
      expect(socket.handlers.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says why when the browser refuses or has no notifications', async () => {
    const { api } = fakeNotificationApi('denied');
    const preferences = new Preferences(memoryStorage());
    const denied = new CriticalAlertNotifier(preferences, { notification: api });
    await denied.enableNotifications();
    expect([denied.notifying, preferences.notifyCritical]).toEqual([false, false]);
    expect(denied.problem).toContain('blocks notifications');

    const none = new CriticalAlertNotifier(preferences, { notification: undefined });
    expect(none.permission).toBe('unsupported');
    await none.enableNotifications();
    expect(none.problem).toBe('This browser cannot show desktop notifications.');
  });
});
