/**
 * Navigation and attention in the built dashboard (web/dist; `npx vite build` first) in Debian's
 * Chromium, against the fake server: deep links that survive a reload, filters and search in the
 * URL, back/forward, keyboard shortcuts, the tab title, opt-in desktop notifications for new critical
 * alerts (the browser's Notification API is replaced by a recorder, the only fake here), the
 * light/dark theme, local/UTC times and the phone layout.
 */
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSnapshot } from '../../web/src/lib/live-updates.ts';
import { TOKEN_STORAGE_KEY } from '../../web/src/lib/state/operator-session.svelte.ts';
import { launchChromium, watchPage } from '../support/browser.ts';
import { startFakeDashboardServer, type FakeDashboardServer } from './support/fake-dashboard-server.ts';
import { makeAlert, makeAutomation, makeChange, makeIncident, makeRollback, makeStats, suspectFor } from './support/fixtures.ts';

const now = Date.now();
const OPERATOR_TOKEN = 'cw_operator-nav';
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

const agentDeploy = makeChange(now, 9, {
  id: 'chg-agent-deploy',
  author: { type: 'ai_agent', name: 'deploy-pilot', agent: 'deploy-pilot', reviewedBy: [] },
  summary: 'Raise payment client pool size',
});
const humanFlag = makeChange(now, 41, {
  id: 'chg-human-flag',
  type: 'feature_flag',
  service: 'search',
  version: undefined,
  previousVersion: undefined,
  author: { type: 'human', name: 'omar.r', reviewedBy: [] },
  summary: 'Enable new-ranking for 10% of traffic',
});
const checkoutErrors = makeAlert(now, 4, {
  id: 'alert-checkout-errors',
  severity: 'critical',
  metric: 'error_ratio',
  explanation: 'checkout error_ratio is 20× its usual level.',
  suspects: [suspectFor(agentDeploy, 0.82, ['Deployed to checkout 5 min before onset'])],
  noChangeConfidence: 0.06,
});
const paymentsQueue = makeAlert(now, 12, {
  id: 'alert-payments-queue',
  service: 'payments',
  environment: 'staging',
  metric: 'queue_depth',
  explanation: 'payments queue_depth is 7× its usual level.',
});
const searchLatency = makeAlert(now, 32, {
  id: 'alert-search-latency',
  status: 'resolved',
  service: 'search',
  resolvedAt: new Date(now - 20 * 60_000).toISOString(),
  updatedAt: new Date(now - 20 * 60_000).toISOString(),
  explanation: 'search latency_p99_ms is back to normal.',
  suspects: [suspectFor(humanFlag, 0.41, ['Flag flipped 9 min before onset'])],
});
/** Resolved days ago: no longer in the snapshot, still held by the server. */
const oldAlert = makeAlert(now, 4_000, {
  id: 'alert-from-last-week',
  status: 'resolved',
  service: 'cart',
  resolvedAt: new Date(now - 3_900 * 60_000).toISOString(),
  updatedAt: new Date(now - 3_900 * 60_000).toISOString(),
  explanation: 'cart latency was high last week.',
});

const snapshot: DashboardSnapshot = {
  alerts: [searchLatency, paymentsQueue, checkoutErrors],
  changes: [humanFlag, agentDeploy],
  stats: makeStats({ alertsFiring: 2 }),
};

/** Records what the page asks of the Notification API; `permission` starts as the browser's default. */
const NOTIFICATION_RECORDER = `
  window.__notifications = { requests: 0, shown: [] };
  class RecordingNotification {
    static permission = localStorage.getItem('test.permission') ?? 'default';
    static async requestPermission() {
      window.__notifications.requests += 1;
      RecordingNotification.permission = 'granted';
      localStorage.setItem('test.permission', 'granted');
      return 'granted';
    }
    constructor(title, options) { window.__notifications.shown.push({ title, body: options?.body }); }
    close() {}
  }
  window.Notification = RecordingNotification;
`;

describe('navigation and attention in a browser', () => {
  let browser: Browser;
  let server: FakeDashboardServer;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    server = await startFakeDashboardServer(() => snapshot);
    server.archivedAlerts.set(oldAlert.id, oldAlert);
    server.automation = makeAutomation({
      rollbacks: [
        makeRollback(now, 2, {
          id: 'rb-checkout',
          // As long as a real one: five lines for and one against (the phone folds them away under Approve).
          evidence: [
            'error_rate of v2.14.0 is 4.1× v2.13.2 over the same minutes, p < 0.001',
            'landed 1 min before the onset, a typical delay for a change to show',
            'deploy by AI agent deploy-pilot (claude-opus-4.1), reviewed by nobody, 52 lines',
            'on checkout itself',
            'error_rate of checkout rose after the change (rank test p < 0.001)',
          ],
          evidenceAgainst: ['latency_p99 of checkout did not move after the change (rank test p = 0.41)'],
        }),
      ],
    });
    server.tokens.set(OPERATOR_TOKEN, { name: 'alice', role: 'operator' });
    server.incidents.set(
      'inc-checkout',
      makeIncident(now, 4, { id: 'inc-checkout', severity: 'critical', title: 'checkout: error_ratio 20× normal', alertIds: [checkoutErrors.id] }),
    );
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(path: string, options: BrowserContextOptions = {}, initScript?: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
    contexts.push(context);
    if (initScript) await context.addInitScript(initScript);
    const page = await context.newPage();
    watchPage(page, pageErrors, dialogs);
    await page.goto(new URL(path, server.url).href);
    // The server counters appear with the first snapshot.
    await poll(() => page.locator('dl[aria-label="Server counters"]').count()).toBe(1);
    return page;
  }

  const pathOf = (page: Page) => {
    const url = new URL(page.url());
    return `${url.pathname}${url.search}`;
  };
  const selected = (page: Page) => page.locator('article[aria-current="true"]');
  const openAlertServices = (page: Page) => page.getByRole('list', { name: 'Open alerts' }).locator('article h3 .service').allInnerTexts();
  const inViewport = (page: Page, selector: string) =>
    page.locator(selector).evaluate((element) => {
      const box = element.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight + 1 && box.height > 0;
    });

  it('opens a deep-linked alert, expanded and in view, and again after a reload', async () => {
    const page = await open('/alerts/alert-checkout-errors', { viewport: { width: 1440, height: 500 } });
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-checkout-errors');
    expect(await selected(page).getByRole('button', { name: /Hide evidence/ }).count()).toBe(1);
    await poll(() => inViewport(page, '#alert-alert-checkout-errors')).toBe(true);

    await page.reload();
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-checkout-errors');
    expect(pathOf(page)).toBe('/alerts/alert-checkout-errors');
  });

  it('fetches a linked alert the live feed no longer holds, and says when one does not exist', async () => {
    const page = await open('/alerts/alert-from-last-week');
    const linked = page.getByRole('region', { name: 'Linked alert' });
    await poll(() => linked.innerText()).toContain('cart latency was high last week.');
    expect(server.requests.some((request) => request.url === '/api/v1/alerts/alert-from-last-week' && request.status === 200)).toBe(true);

    await page.goto(new URL('/alerts/alert-nobody-knows', server.url).href);
    await poll(() => page.getByRole('region', { name: 'Linked alert' }).innerText()).toContain('Not found: the server has no alert “alert-nobody-knows”');

    await page.goto(new URL('/incidents/inc-missing', server.url).href);
    await poll(() => page.getByRole('region', { name: 'Linked incident' }).innerText()).toContain('Not found: the server has no incident “inc-missing”');

    await page.goto(new URL('/changes/chg-human-flag', server.url).href);
    await poll(() => selected(page).getAttribute('id')).toBe('change-chg-human-flag');
  });

  it('puts clicked alerts, incidents and changes in the URL, and follows back and forward', async () => {
    const page = await open('/');
    await page.locator('#alert-alert-payments-queue').getByRole('link').click();
    await poll(() => pathOf(page)).toBe('/alerts/alert-payments-queue');
    expect(await selected(page).getAttribute('id')).toBe('alert-alert-payments-queue');

    await page.locator('#incident-inc-checkout').getByRole('link').click();
    await poll(() => pathOf(page)).toBe('/incidents/inc-checkout');
    await page.locator('#change-chg-agent-deploy').getByRole('link').click();
    await poll(() => pathOf(page)).toBe('/changes/chg-agent-deploy');

    await page.goBack();
    await poll(() => pathOf(page)).toBe('/incidents/inc-checkout');
    await poll(() => selected(page).getAttribute('id')).toBe('incident-inc-checkout');
    await page.goBack();
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-payments-queue');
    await page.goForward();
    await poll(() => selected(page).getAttribute('id')).toBe('incident-inc-checkout');
  });

  it('filters from the URL, says how many are shown, survives a reload and clears in one click', async () => {
    const page = await open('/');
    const filters = page.getByRole('search', { name: 'Search and filters' });
    const shown = filters.getByRole('status', { name: 'Shown by the filters' });
    expect(await shown.innerText()).toContain('3 alerts');

    await filters.getByLabel('Severity').selectOption('critical');
    await poll(() => pathOf(page)).toBe('/?severity=critical');
    await poll(() => openAlertServices(page)).toEqual(['checkout']);
    expect(await shown.innerText()).toMatch(/1 of 3 alerts · 1 of 1 incidents · 2 of 2 changes/);

    await filters.getByLabel('Environment').selectOption('staging');
    await poll(() => pathOf(page)).toBe('/?environment=staging&severity=critical');
    await poll(() => page.getByRole('region', { name: 'Alerts' }).innerText()).toContain('No open alerts match the filters.');

    await page.reload();
    await poll(() => page.getByRole('region', { name: 'Alerts' }).innerText()).toContain('No open alerts match the filters.');
    expect(await filters.getByLabel('Severity').inputValue()).toBe('critical');
    expect(await shown.innerText()).toContain('0 of 3 alerts');

    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await poll(() => pathOf(page)).toBe('/');
    await poll(() => openAlertServices(page)).toEqual(['checkout', 'payments']);
    await page.goBack();
    await poll(() => pathOf(page)).toBe('/?environment=staging&severity=critical');

    const authored = await open('/?author=human');
    expect(await openAlertServices(authored)).toEqual([]);
    expect(await authored.getByRole('list', { name: 'Recently resolved alerts' }).innerText()).toContain('search');
    expect(await authored.getByRole('list', { name: 'Recent changes, newest first' }).getByRole('article').count()).toBe(1);

    const bad = await open('/?severity=urgent');
    expect(await bad.getByRole('search', { name: 'Search and filters' }).innerText()).toContain('Ignored severity "urgent" from the address');
    expect(await openAlertServices(bad)).toEqual(['checkout', 'payments']);
  });

  it('searches service, metric and change summary, keeping the text in the URL', async () => {
    const page = await open('/');
    const search = page.getByRole('searchbox');
    await search.fill('pool size');
    await poll(() => pathOf(page)).toBe('/?q=pool+size');
    await poll(() => openAlertServices(page)).toEqual(['checkout']);
    expect(await page.getByRole('list', { name: 'Recent changes, newest first' }).getByRole('article').count()).toBe(1);

    await search.fill('queue_depth');
    await poll(() => openAlertServices(page)).toEqual(['payments']);
    await page.reload();
    await poll(() => openAlertServices(page)).toEqual(['payments']);
    expect(await page.getByRole('searchbox').inputValue()).toBe('queue_depth');
  });

  it('moves with j and k, searches with /, shows help with ? and closes it with Escape, never while typing', async () => {
    const page = await open('/');
    await page.keyboard.press('j');
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-checkout-errors');
    await page.keyboard.press('j');
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-payments-queue');
    expect(pathOf(page)).toBe('/alerts/alert-payments-queue');
    await page.keyboard.press('j');
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-search-latency');
    await page.keyboard.press('k');
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-payments-queue');

    await page.keyboard.press('/');
    await poll(() => page.getByRole('searchbox').evaluate((element) => element === document.activeElement)).toBe(true);
    await page.keyboard.type('jk?');
    expect(await page.getByRole('searchbox').inputValue()).toBe('jk?');
    expect(await selected(page).getAttribute('id')).toBe('alert-alert-payments-queue');
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.getByRole('searchbox').fill('');
    await page.keyboard.press('Escape');

    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await poll(() => help.innerText()).toContain('Acknowledge the incident of the selected alert');
    await page.keyboard.press('Escape');
    await poll(() => help.count()).toBe(0);
  });

  it('acknowledges the selected alert’s incident with a, only when signed in', async () => {
    const page = await open('/alerts/alert-checkout-errors');
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-checkout-errors');
    await page.keyboard.press('a');
    await poll(() => page.getByRole('status', { name: 'Shortcut' }).innerText()).toContain('Sign in with an operator’s API token to acknowledge');
    expect(server.requests.filter((request) => request.method === 'POST')).toEqual([]);

    await page.evaluate(([key, token]) => localStorage.setItem(key!, token!), [TOKEN_STORAGE_KEY, OPERATOR_TOKEN]);
    await page.reload();
    await poll(() => selected(page).getAttribute('id')).toBe('alert-alert-checkout-errors');
    await poll(() => page.locator('#incident-inc-checkout').getByRole('button', { name: 'Acknowledge' }).isEnabled()).toBe(true);
    await page.keyboard.press('a');
    await poll(() => page.getByRole('status', { name: 'Shortcut' }).innerText()).toContain('Acknowledged incident “checkout: error_ratio 20× normal”');
    expect(server.requests.filter((request) => request.method === 'POST').map((request) => [request.url, request.status])).toEqual([
      ['/api/v1/incidents/inc-checkout/acknowledge', 200],
    ]);
    await poll(() => page.locator('#incident-inc-checkout').innerText()).toContain('acknowledged by alice');
    await page.keyboard.press('a');
    await poll(() => page.getByRole('status', { name: 'Shortcut' }).innerText()).toContain('already acknowledged by alice');
  });

  it('shows firing critical and firing counts in the tab title', async () => {
    const page = await open('/');
    await poll(() => page.title()).toBe('(1 critical · 2 firing) changewatch');
    server.io.emit('stats', makeStats({ alertsFiring: 7 }));
    await poll(() => page.title()).toBe('(1 critical · 7 firing) changewatch');
  });

  it('asks for notification permission only after the opt-in, then notifies new critical alerts only', async () => {
    const page = await open('/', {}, NOTIFICATION_RECORDER);
    const recorded = () => page.evaluate(() => (window as unknown as { __notifications: { requests: number; shown: Array<{ title: string }> } }).__notifications);
    await page.waitForTimeout(500);
    expect((await recorded()).requests).toBe(0);

    // Not opted in: a new critical alert shows nothing.
    server.io.emit('alert', makeAlert(now, 1, { id: 'alert-new-1', severity: 'critical', service: 'ledger' }));
    await poll(() => page.locator('#alert-alert-new-1').count()).toBe(1);
    await page.waitForTimeout(1_500);
    expect((await recorded()).shown).toEqual([]);

    await page.getByRole('button', { name: 'Notify me' }).click();
    await poll(async () => (await recorded()).requests).toBe(1);
    await poll(() => page.getByRole('button', { name: 'Notifying on critical' }).count()).toBe(1);

    server.io.emit('alert', makeAlert(now, 1, { id: 'alert-warning', severity: 'warning', service: 'inventory' }));
    server.io.emit('alert', { ...checkoutErrors, updatedAt: new Date().toISOString() }); // a fleet replay of a known alert
    server.io.emit('alert', makeAlert(now, 1, { id: 'alert-new-2', severity: 'critical', service: 'billing', explanation: 'billing errors 9×' }));
    await poll(async () => (await recorded()).shown).toEqual([{ title: 'Critical: billing prod', body: 'billing errors 9×' }]);
    await page.waitForTimeout(1_500);
    expect((await recorded()).shown).toHaveLength(1);

    // The choice is kept; a reload neither asks again nor notifies the snapshot.
    await page.reload();
    await poll(() => page.getByRole('button', { name: 'Notifying on critical' }).count()).toBe(1);
    await page.waitForTimeout(1_500);
    expect(await recorded()).toEqual({ requests: 0, shown: [] });
  });

  it('beeps for a new critical alert once the sound is on, and not for a warning', async () => {
    // The real WebAudio API, with its oscillators counted (each beep is two tones).
    const countOscillators = `
      window.__tones = 0;
      const create = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function () { window.__tones += 1; return create.call(this); };
    `;
    const page = await open('/', {}, countOscillators);
    const tones = () => page.evaluate(() => (window as unknown as { __tones: number }).__tones);
    server.io.emit('alert', makeAlert(now, 1, { id: 'alert-silent', severity: 'critical', service: 'quiet' }));
    await page.waitForTimeout(1_500);
    expect(await tones()).toBe(0);

    await page.getByLabel('Sound').check();
    expect(await tones()).toBe(2);
    server.io.emit('alert', makeAlert(now, 1, { id: 'alert-warning-2', severity: 'warning' }));
    await page.waitForTimeout(1_500);
    expect(await tones()).toBe(2);
    server.io.emit('alert', makeAlert(now, 1, { id: 'alert-loud', severity: 'critical', service: 'loud' }));
    await poll(() => tones()).toBe(4);
  });

  it('follows the system colour scheme, and keeps a chosen theme across a reload', async () => {
    const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await open('/', { colorScheme: 'light' });
    expect(await background(light)).toBe('rgb(246, 248, 250)');
    const dark = await open('/', { colorScheme: 'dark' });
    expect(await background(dark)).toBe('rgb(13, 17, 23)');

    await light.getByLabel('Theme').selectOption('dark');
    await poll(() => background(light)).toBe('rgb(13, 17, 23)');
    await light.reload();
    await poll(() => background(light)).toBe('rgb(13, 17, 23)');
    expect(await light.getByLabel('Theme').inputValue()).toBe('dark');
    await light.getByLabel('Theme').selectOption('system');
    await poll(() => background(light)).toBe('rgb(246, 248, 250)');
  });

  it('shows times in local time, and in UTC on demand, kept across a reload', async () => {
    const page = await open('/', { timezoneId: 'Asia/Kolkata' });
    const onset = page.locator('#alert-alert-checkout-errors time').first();
    const utc = new Date(Date.parse(checkoutErrors.startedAt)).toISOString().slice(0, 19).replace('T', ' ');
    await poll(() => onset.getAttribute('title')).toMatch(/ GMT\+5:30$/);
    expect(await onset.getAttribute('title')).not.toContain(utc);

    await page.getByRole('button', { name: 'Times: local' }).click();
    await poll(() => onset.getAttribute('title')).toBe(`${utc} UTC`);
    await page.reload();
    await poll(() => page.locator('#alert-alert-checkout-errors time').first().getAttribute('title')).toBe(`${utc} UTC`);
    expect(await page.getByRole('button', { name: 'Times: UTC' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('puts a pending rollback’s Approve button on the first screen of a 390 px phone', async () => {
    const page = await open('/', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const approve = page.getByRole('article', { name: 'Pending rollback of checkout' }).getByRole('button', { name: 'Approve…' });
    await poll(() => approve.count()).toBe(1);
    const box = await approve.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y + box!.height).toBeLessThanOrEqual(844);
    // Then the incidents, before the kill switch and the alert feed.
    const top = async (locator: ReturnType<Page['getByRole']>) => (await locator.boundingBox())!.y;
    const incidentsTop = await top(page.getByRole('region', { name: 'Incidents' }));
    expect(incidentsTop).toBeGreaterThan(box!.y);
    expect(incidentsTop).toBeLessThan(await top(page.getByRole('group', { name: 'Kill switch' })));
    expect(incidentsTop).toBeLessThan(await top(page.getByRole('region', { name: 'Alerts' })));
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });
});
