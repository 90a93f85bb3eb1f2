/**
 * Silences in the built dashboard (web/dist; `npx vite build` first) in Debian's Chromium, against
 * the fake server: the list of silences and what they mute, silencing an incident from its row
 * (prefilled matchers, duration, required comment), Expire now, and the errors, inline.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSnapshot } from '../../web/src/lib/live-updates.ts';
import { openWatchedPage } from '../support/browser.ts';
import { startFakeDashboardServer, type FakeDashboardServer } from './support/fake-dashboard-server.ts';
import { makeAlert, makeAutomation, makeIncident, makeSilence, makeStats } from './support/fixtures.ts';

const now = Date.now();
const HOUR = 60 * 60_000;
const OPERATOR_TOKEN = 'cw_silence-operator-token';
const VIEWER_TOKEN = 'cw_silence-viewer-token';

/** `expect.poll` with room for a busy 2-core machine; a poll that passes returns at once anyway. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

// checkout's incident groups its own errors and the payments latency they cause (grouped by culprit).
const snapshot: DashboardSnapshot = {
  alerts: [
    makeAlert(now, 6, { id: 'alert-checkout-errors', severity: 'critical', metric: 'error_ratio' }),
    makeAlert(now, 5, { id: 'alert-payments-latency', service: 'payments', metric: 'latency_p99_ms' }),
    makeAlert(now, 20, { id: 'alert-search-latency', service: 'search', metric: 'latency_p99_ms' }),
  ],
  changes: [],
  stats: makeStats(),
};

describe('silences in a browser', () => {
  let browser: Browser;
  let server: FakeDashboardServer;
  let page: Page;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    server = await startFakeDashboardServer(() => snapshot);
    server.automation = makeAutomation();
    server.tokens.set(OPERATOR_TOKEN, { name: 'alice', role: 'operator' });
    server.tokens.set(VIEWER_TOKEN, { name: 'wallboard', role: 'viewer' });
    for (const incident of [
      makeIncident(now, 6, {
        id: 'inc-checkout',
        severity: 'critical',
        title: 'checkout: error_ratio 20× normal',
        alertIds: ['alert-checkout-errors', 'alert-payments-latency'],
      }),
      makeIncident(now, 20, { id: 'inc-search', service: 'search', title: 'search: latency_p99_ms above normal', alertIds: ['alert-search-latency'] }),
    ]) {
      server.incidents.set(incident.id, incident);
    }
    const bobs = makeSilence(now, 10, 2, { id: 'sil-search', matchers: { service: ['search'] }, comment: 'reindexing until 06:00' });
    const later = makeSilence(now, -60, 1, { id: 'sil-later', matchers: { environment: ['staging'] }, createdBy: 'carol', comment: 'staging load test' });
    for (const silence of [bobs, later]) server.silences.set(silence.id, silence);

    ({ browser, page } = await openWatchedPage(server.url, { width: 1440, height: 1100 }, pageErrors, dialogs));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const silencesRegion = () => page.getByRole('region', { name: 'Silences' });
  const silenceRow = (matchers: string) => page.getByRole('article', { name: `Silence: ${matchers}` });
  const incident = (title: string) => page.getByRole('list', { name: 'Open incidents' }).getByRole('article').filter({ hasText: title });
  const session = () => page.getByRole('group', { name: 'Operator session' });
  const isFocused = (locator: ReturnType<Page['locator']>) => locator.evaluate((element) => element === document.activeElement);

  async function signIn(token: string): Promise<void> {
    if ((await session().getByRole('button', { name: 'Sign out' }).count()) > 0) await session().getByRole('button', { name: 'Sign out' }).click();
    await session().getByRole('button', { name: 'Sign in with an API token' }).click();
    await page.getByLabel('API token').fill(token);
    await page.getByLabel('API token').press('Enter');
    await poll(() => session().innerText()).toMatch(/Signed in as \w+/);
  }

  it('lists the silences with what they mute, who set them, why and until when, and says they mute notifications only', async () => {
    await poll(() => silencesRegion().getByRole('article').count()).toBe(2);
    const text = await silencesRegion().innerText();
    expect(text).toContain('A silence mutes notifications only: incidents are still recorded, and rollbacks are not stopped.');
    const bobs = await silenceRow('service search').innerText();
    expect(bobs).toContain('“reindexing until 06:00” — bob');
    expect(bobs).toMatch(/until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(1 h 50 min left\)/);
    // One that starts later comes after those in force, with its start.
    const rows = await silencesRegion().getByRole('article').allInnerTexts();
    expect(rows[1]).toMatch(/environment staging[\s\S]*from .* UTC until .* UTC/);
    expect(await silenceRow('service search').getByRole('button', { name: 'Expire now' }).isDisabled()).toBe(true);
    expect(text).toContain('Read-only: sign in with an operator');

    // The search incident is muted by bob's silence; checkout's is not.
    await poll(() => incident('search: latency').innerText()).toContain('Notifications muted until');
    expect(await incident('search: latency').innerText()).toContain('by bob’s silence: “reindexing until 06:00”');
    expect(await incident('checkout: error_ratio').innerText()).not.toContain('muted');
    expect(await incident('checkout: error_ratio').getByRole('button', { name: 'Silence…' }).isDisabled()).toBe(true);
    expect(server.requests.find((request) => request.url === '/api/v1/silences')).toMatchObject({ method: 'GET', status: 200 });
  });

  it('opens a form prefilled with the incident’s services and environment, and checks the choice before sending', async () => {
    await signIn(OPERATOR_TOKEN);
    const checkout = incident('checkout: error_ratio');
    await checkout.getByRole('button', { name: 'Silence…' }).click();
    const form = checkout.getByRole('form', { name: 'Silence notifications' });
    // Every service of the incident's alerts, so the silence covers all of them.
    const service = form.getByRole('checkbox', { name: 'service checkout, payments' });
    const environment = form.getByRole('checkbox', { name: 'environment prod' });
    expect(await service.isChecked()).toBe(true);
    expect(await environment.isChecked()).toBe(true);
    expect(await form.getByRole('radio', { name: '1 hour' }).isChecked()).toBe(true);
    expect(await form.innerText()).toContain('Mutes notifications only: the incident is still recorded, and rollbacks are not stopped');
    // The comment field has the focus; the comment is required.
    const comment = form.getByLabel(/Why silence it\?/);
    await poll(() => isFocused(comment)).toBe(true);
    const create = form.getByRole('button', { name: 'Create silence' });
    expect(await create.isDisabled()).toBe(true);
    await comment.fill('payments is failing over; we are on it');
    expect(await create.isEnabled()).toBe(true);

    // A time in the past is refused in words; with no matcher left there is nothing to silence.
    await form.getByRole('radio', { name: 'until a time' }).check();
    const until = form.getByLabel('Ends at (UTC)');
    await until.fill('2020-01-01T10:00');
    expect(await form.innerText()).toContain('That time has passed: pick one in the future (UTC).');
    expect(await create.isDisabled()).toBe(true);
    await until.fill(new Date(now + 3 * HOUR).toISOString().slice(0, 16));
    await poll(() => form.innerText()).toMatch(/Until \d{4}-\d\d-\d\d \d\d:\d\d:00 UTC \(\d h( \d+ min)? from now\)/);
    await service.uncheck();
    await environment.uncheck();
    expect(await form.innerText()).toContain('Keep at least one: a silence never mutes everything.');
    expect(await create.isDisabled()).toBe(true);

    // Escape cancels, and the focus returns to the button that opened the form.
    await comment.press('Escape');
    expect(await form.count()).toBe(0);
    await poll(() => isFocused(checkout.getByRole('button', { name: 'Silence…' }))).toBe(true);
    expect(server.requests.some((request) => request.method === 'POST')).toBe(false);
  });

  it('answers a refusal inline, next to the form', async () => {
    // A token whose role is lowered to viewer after the sign-in check: only the action can tell.
    server.tokens.set('cw_soon-viewer-token', { name: 'demoted', role: 'operator' });
    await signIn('cw_soon-viewer-token');
    server.tokens.set('cw_soon-viewer-token', { name: 'demoted', role: 'viewer' });
    const checkout = incident('checkout: error_ratio');
    await checkout.getByRole('button', { name: 'Silence…' }).click();
    const form = checkout.getByRole('form', { name: 'Silence notifications' });
    await form.getByLabel(/Why silence it\?/).fill('muting from the wallboard');
    await form.getByRole('button', { name: 'Create silence' }).click();
    const error = form.getByRole('alert');
    await poll(() => error.innerText()).toContain('it needs the operator role');
    expect(await error.getAttribute('data-code')).toBe('CW_AUTH_FORBIDDEN');
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', url: '/api/v1/silences', status: 403 });
    expect(dialogs).toEqual([]);
    await form.getByRole('button', { name: 'Cancel' }).click();
  });

  it('creates a silence for 4 hours: it is listed, and the incident shows its notifications muted', async () => {
    await signIn(OPERATOR_TOKEN);
    const checkout = incident('checkout: error_ratio');
    await checkout.getByRole('button', { name: 'Silence…' }).click();
    const form = checkout.getByRole('form', { name: 'Silence notifications' });
    await form.getByRole('radio', { name: '4 hours' }).check();
    await form.getByLabel(/Why silence it\?/).fill('payments is failing over; we are on it');
    const clicked = Date.now();
    // Enter in the comment field creates it.
    await form.getByLabel(/Why silence it\?/).press('Enter');

    await poll(() => silenceRow('service checkout or payments · environment prod').count()).toBe(1);
    const post = server.requests.find((request) => request.method === 'POST' && request.status === 201)!;
    expect(post).toMatchObject({
      url: '/api/v1/silences',
      token: OPERATOR_TOKEN,
      body: { matchers: { service: ['checkout', 'payments'], environment: ['prod'] }, comment: 'payments is failing over; we are on it' },
    });
    const endsAt = Date.parse((post.body as { endsAt: string }).endsAt);
    expect(endsAt).toBeGreaterThanOrEqual(clicked + 4 * HOUR - 1_000);
    expect(endsAt).toBeLessThanOrEqual(Date.now() + 4 * HOUR);

    expect(await silenceRow('service checkout or payments · environment prod').innerText()).toMatch(/\(4 h left\)[\s\S]*“payments is failing over; we are on it” — alice/);
    await poll(() => checkout.innerText()).toContain('Notifications muted until');
    expect(await checkout.innerText()).toContain('by alice’s silence');
    // The incident is still listed, firing: a silence only mutes its pages.
    expect(await checkout.innerText()).toMatch(/CRITICAL\s*Firing/);
    await poll(() => isFocused(checkout.getByRole('button', { name: 'Silence…' }))).toBe(true);
  });

  it('expires a silence now, and the incident it muted pages again', async () => {
    await silenceRow('service search').getByRole('button', { name: 'Expire now' }).click();
    await poll(() => silenceRow('service search').count()).toBe(0);
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/v1/silences/sil-search', token: OPERATOR_TOKEN, status: 204 });
    expect(await incident('search: latency').innerText()).not.toContain('muted');
  });

  it('takes a silence that had already ended off the list without an error', async () => {
    // Someone else expires carol's silence; this page does not know yet.
    server.silences.delete('sil-later');
    await silenceRow('environment staging').getByRole('button', { name: 'Expire now' }).click();
    await poll(() => silenceRow('environment staging').count()).toBe(0);
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/v1/silences/sil-later', status: 404 });
    expect(await silencesRegion().getByRole('alert').count()).toBe(0);
  });

  it('looks clean (screenshot for review)', async () => {
    await incident('search: latency').getByRole('button', { name: 'Silence…' }).click();
    await page.screenshot({ path: '/tmp/dashboard-silences.png', fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
