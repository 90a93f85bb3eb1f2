/**
 * The operator controls of the built dashboard (web/dist; `npx vite build` first) in Debian's
 * Chromium, against the fake server: signing in with an API token, deciding rollbacks, the kill
 * switch and its banner, freezes, incidents, and the errors the API answers with, shown inline.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSnapshot } from '../../web/src/lib/live-updates.ts';
import { TOKEN_STORAGE_KEY } from '../../web/src/lib/state/operator-session.svelte.ts';
import { launchChromium, openWatchedPage } from '../support/browser.ts';
import { startFakeDashboardServer, type FakeDashboardServer } from './support/fake-dashboard-server.ts';
import { makeAlert, makeAutomation, makeFreeze, makeIncident, makeRollback, makeStats } from './support/fixtures.ts';

const now = Date.now();
const OPERATOR_TOKEN = 'cw_operator-token-that-must-never-be-rendered';
const VIEWER_TOKEN = 'cw_viewer-token';

/**
 * `expect.poll` with room for a busy 2-core machine (other test runs, 5,000 socket messages): the
 * default second is too short there, and a poll that passes returns as soon as it does anyway.
 */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

const snapshot: DashboardSnapshot = {
  alerts: [makeAlert(now, 4, { id: 'alert-checkout-errors', severity: 'critical', metric: 'error_ratio' })],
  changes: [],
  stats: makeStats(),
};

function automationFixture() {
  return makeAutomation({
    rollbacks: [
      makeRollback(now, 2, { id: 'rb-checkout' }),
      makeRollback(now, 4, {
        id: 'rb-payments',
        service: 'payments',
        anomalyService: 'checkout',
        changeId: 'chg-payments-config',
        fromVersion: 'v5.2.0',
        toVersion: 'v5.1.9',
        confidence: 0.84,
        author: { type: 'ai_assisted', name: 'lena.w', model: 'copilot', reviewedBy: ['sam.o'] },
        summary: 'config chg-payments-config (ai_assisted lena.w) likely caused the anomaly on checkout (confidence 0.84; evidence: before_after, topology)',
        evidence: ['checkout errors point at payments calls', 'payments latency doubled right after the change'],
        evidenceKinds: ['before_after', 'topology'],
      }),
      makeRollback(now, 6, { id: 'rb-search', service: 'search', anomalyService: 'search', changeId: 'chg-search-flag' }),
      makeRollback(now, 40, {
        id: 'rb-cart',
        status: 'suppressed',
        service: 'cart',
        reason: 'suppressed: the evidence is timing only; confidence 0.62 is below 0.8',
        updatedAt: new Date(now - 40 * 60_000).toISOString(),
        expiresAt: undefined,
      }),
    ],
    freezes: [makeFreeze(now, 7, { id: 'frz-checkout' })],
  });
}

describe('operator controls in a browser', () => {
  let browser: Browser;
  let server: FakeDashboardServer;
  let page: Page;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    server = await startFakeDashboardServer(() => snapshot);
    server.automation = automationFixture();
    server.tokens.set(OPERATOR_TOKEN, { name: 'alice', role: 'operator' });
    server.tokens.set(VIEWER_TOKEN, { name: 'wallboard', role: 'viewer' });
    for (const incident of [
      makeIncident(now, 4, { id: 'inc-checkout', severity: 'critical', title: 'checkout: error_ratio 20× normal', alertIds: ['a1', 'a2', 'a3'] }),
      makeIncident(now, 15, {
        id: 'inc-search',
        status: 'acknowledged',
        service: 'search',
        title: 'search: latency_p99_ms above normal',
        acknowledgedBy: 'bob',
        acknowledgedAt: new Date(now - 10 * 60_000).toISOString(),
      }),
      makeIncident(now, 50, { id: 'inc-old', status: 'resolved', title: 'resolved long ago' }),
    ]) {
      server.incidents.set(incident.id, incident);
    }
    ({ browser, page } = await openWatchedPage(server.url, { width: 1440, height: 1100 }, pageErrors, dialogs));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const automation = () => page.getByRole('region', { name: 'Guarded automation' });
  const pendingRollback = (service: string) => page.getByRole('article', { name: `Pending rollback of ${service}` });
  const incidents = () => page.getByRole('list', { name: 'Open incidents' });
  const session = () => page.getByRole('group', { name: 'Operator session' });
  const killSwitch = () => page.getByRole('group', { name: 'Kill switch' });

  it('shows every panel to a reader, with the action buttons disabled and a hint', async () => {
    await poll(() => incidents().getByRole('article').count()).toBe(2);
    await poll(() => automation().innerText()).toContain('Kill switch');

    expect(await killSwitch().innerText()).toMatch(/Kill switch\s*OFF/);
    expect(await killSwitch().getByRole('button', { name: 'Engage kill switch…' }).isDisabled()).toBe(true);
    expect(await automation().innerText()).toContain('Read-only: sign in with an operator');
    expect(await automation().innerText()).toMatch(/mode\s*require-approval/);
    const checkout = pendingRollback('checkout');
    expect(await checkout.getByRole('button', { name: 'Approve…' }).isDisabled()).toBe(true);
    expect(await checkout.getByRole('button', { name: 'Deny…' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Lift freeze…' }).isDisabled()).toBe(true);

    const rows = await incidents().getByRole('article').allInnerTexts();
    expect(rows[0]).toMatch(/CRITICAL\s*Firing\s*checkout: error_ratio 20× normal/);
    expect(rows[0]).toContain('3 alerts');
    expect(rows[1]).toContain('acknowledged by bob');
    expect(await incidents().getByRole('button', { name: 'Acknowledge' }).isDisabled()).toBe(true);
    expect(await page.getByRole('region', { name: 'Incidents' }).innerText()).toContain('Read-only');

    const listed = server.requests.find((request) => request.url.startsWith('/api/v1/incidents?'));
    expect(listed).toMatchObject({ method: 'GET', url: '/api/v1/incidents?status=firing%2Cacknowledged', token: undefined });
  });

  it('shows a pending rollback with versions, author, confidence, evidence and its deadline', async () => {
    const text = await pendingRollback('checkout').innerText();
    expect(text).toMatch(/v2\.14\.0\s*→\s*v2\.13\.2/);
    expect(text).toContain('chg-agent-deploy');
    expect(text).toMatch(/AI agent\s*deploy-pilot/);
    expect(text).toContain('91%');
    expect(text).toContain('likely caused the anomaly on checkout');
    expect(text).toContain('Errors come from hosts running v2.14.0');
    expect(text).toMatch(/expires in 1[23] min/);
    expect(await pendingRollback('payments').innerText()).toContain('anomaly on checkout');
    const suppressed = page.getByRole('list', { name: 'Recently decided rollbacks' });
    expect(await suppressed.innerText()).toMatch(/SUPPRESSED[\s\S]*Why:\s*suppressed: the evidence is timing only/);
  });

  it('signs in with an API token without ever showing it, and reconnects the socket with it', async () => {
    const handshakesBefore = server.handshakeTokens.length;
    await session().getByRole('button', { name: 'Sign in with an API token' }).click();
    const field = page.getByLabel('API token');
    expect(await field.getAttribute('type')).toBe('password');
    await field.fill(OPERATOR_TOKEN);
    await field.press('Enter');

    await poll(() => session().innerText()).toMatch(/Signed in as (operator|admin)/);
    expect(await page.evaluate((key) => localStorage.getItem(key), TOKEN_STORAGE_KEY)).toBe(OPERATOR_TOKEN);
    expect(await page.content()).not.toContain(OPERATOR_TOKEN);
    await poll(() => server.handshakeTokens.slice(handshakesBefore)).toContain(OPERATOR_TOKEN);
    // The reconnect reloads the incidents, now with the token.
    await expect
      .poll(() => server.requests.filter((request) => request.url.startsWith('/api/v1/incidents?')).at(-1)?.token)
      .toBe(OPERATOR_TOKEN);
    await poll(() => pendingRollback('checkout').getByRole('button', { name: 'Approve…' }).isEnabled()).toBe(true);
    expect(await automation().innerText()).not.toContain('Read-only');
  });

  it('approves a pending rollback with a comment', async () => {
    const checkout = pendingRollback('checkout');
    // Escape closes a decision form and gives the focus back to the button that opened it.
    await checkout.getByRole('button', { name: 'Deny…' }).click();
    await checkout.getByLabel('Why deny this rollback?').press('Escape');
    await poll(() => checkout.getByRole('button', { name: 'Deny…' }).evaluate((element) => element === document.activeElement)).toBe(true);
    await checkout.getByRole('button', { name: 'Approve…' }).click();
    const comment = checkout.getByLabel('Comment for the audit log');
    // The form takes the focus, so a keyboard user types straight away.
    await poll(() => comment.evaluate((element) => element === document.activeElement)).toBe(true);
    await comment.fill('confirmed in grafana');
    await checkout.getByRole('button', { name: 'Approve rollback' }).click();

    await poll(() => pendingRollback('checkout').count()).toBe(0);
    // The keyboard focus does not fall to the top of the page: it moves to the next pending rollback.
    await poll(() => pendingRollback('payments').evaluate((element) => element === document.activeElement)).toBe(true);
    const approve = server.requests.find((request) => request.url === '/api/v1/rollbacks/rb-checkout/approve');
    expect(approve).toMatchObject({ method: 'POST', token: OPERATOR_TOKEN, body: { comment: 'confirmed in grafana' }, status: 200 });
    const approved = page.getByRole('list', { name: 'Approved rollbacks' });
    expect(await approved.innerText()).toMatch(/APPROVED, SENDING\s*checkout[\s\S]*approved by alice: confirmed in grafana/);
  });

  it('denies another only with a reason', async () => {
    const payments = pendingRollback('payments');
    await payments.getByRole('button', { name: 'Deny…' }).click();
    const deny = payments.getByRole('button', { name: 'Deny rollback' });
    expect(await deny.isDisabled()).toBe(true);
    await payments.getByLabel('Why deny this rollback?').fill('the spike is the load test we announced');
    await deny.click();

    await poll(() => pendingRollback('payments').count()).toBe(0);
    await poll(() => pendingRollback('search').evaluate((element) => element === document.activeElement)).toBe(true);
    expect(server.requests.find((request) => request.url === '/api/v1/rollbacks/rb-payments/deny')).toMatchObject({
      token: OPERATOR_TOKEN,
      body: { reason: 'the spike is the load test we announced' },
      status: 200,
    });
    const decided = await page.getByRole('list', { name: 'Recently decided rollbacks' }).getByRole('article').first().innerText();
    expect(decided).toMatch(/DENIED\s*payments/);
    expect(decided).toContain('denied by alice: the spike is the load test we announced');
  });

  it('says inline, next to the button, when someone else decided first (409)', async () => {
    // Another operator approves rb-search; this dashboard has not heard of it yet.
    Object.assign(server.automation!.rollbacks.find((rollback) => rollback.id === 'rb-search')!, {
      status: 'approved',
      decidedBy: 'bob',
      reason: 'approved by bob',
      updatedAt: new Date().toISOString(),
    });
    const search = pendingRollback('search');
    await search.getByRole('button', { name: 'Approve…' }).click();
    await search.getByRole('button', { name: 'Approve rollback' }).click();

    const error = search.getByRole('alert');
    await poll(() => error.innerText()).toMatch(/^Already decided: bob approved this rollback at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/);
    expect(await error.getAttribute('data-code')).toBe('CW_ROLLBACK_NOT_PENDING');
    expect(server.requests.at(-1)).toMatchObject({ url: '/api/v1/rollbacks/rb-search/approve', status: 409 });
    expect(dialogs).toEqual([]);

    // The server's next snapshot tells the page what bob decided.
    server.publishAutomation();
    await poll(() => pendingRollback('search').count()).toBe(0);
    // No pending rollback is left: the focus goes to the section's heading.
    await poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Rollbacks');
    expect(await page.getByRole('list', { name: 'Approved rollbacks' }).innerText()).toContain('approved by bob');
  });

  it('engages the kill switch after a reason, and a red banner says rollbacks are stopped', async () => {
    expect(await page.getByRole('alert', { name: 'Kill switch' }).count()).toBe(0);
    await killSwitch().getByRole('button', { name: 'Engage kill switch…' }).click();
    const engage = killSwitch().getByRole('button', { name: 'Engage kill switch' });
    expect(await engage.isDisabled()).toBe(true);
    await killSwitch().getByLabel('Why stop all automated rollbacks?').fill('rollbacks are flapping checkout');
    await engage.click();

    const banner = page.getByRole('alert', { name: 'Kill switch' });
    await poll(() => banner.count()).toBe(1);
    const text = await banner.innerText();
    expect(text).toContain('Kill switch ON: automated rollbacks are stopped.');
    expect(text).toContain('Engaged by alice');
    expect(text).toContain('rollbacks are flapping checkout');
    expect(await killSwitch().innerText()).toMatch(/Kill switch\s*ON\s*engaged by alice/);
    expect(server.requests.at(-1)).toMatchObject({
      url: '/api/v1/killswitch',
      body: { engaged: true, reason: 'rollbacks are flapping checkout' },
      status: 200,
    });
    // Approved rollbacks not yet sent were cancelled, and say why.
    await expect
      .poll(() => page.getByRole('list', { name: 'Recently decided rollbacks' }).innerText())
      .toMatch(/SUPPRESSED\s*checkout[\s\S]*Why:\s*cancelled by the kill switch/);
  });

  it('lifts a freeze only with a reason', async () => {
    const freeze = page.getByRole('article', { name: 'Freeze: AI changes to checkout' });
    expect(await freeze.innerText()).toContain("AI-authored changes to checkout are frozen because deploy-pilot's deploy likely caused an incident on checkout (91%).");
    // The gate's sentence for pipelines quotes the lift route; a person gets the button instead.
    expect(await freeze.innerText()).not.toContain('/api/v1/');
    await freeze.getByRole('button', { name: 'Lift freeze…' }).click();
    await freeze.getByLabel('Why lift this freeze?').fill('fixed forward in v2.14.1');
    await freeze.getByRole('button', { name: 'Lift freeze' }).click();
    await poll(() => freeze.count()).toBe(0);
    expect(await automation().innerText()).toContain('No freeze in force');
    expect(server.requests.at(-1)).toMatchObject({ url: '/api/v1/freezes/frz-checkout/lift', body: { reason: 'fixed forward in v2.14.1' } });
  });

  it('acknowledges an incident, and follows live incident events', async () => {
    const checkout = incidents().getByRole('article').first();
    await checkout.getByRole('button', { name: 'Acknowledge' }).click();
    await poll(() => checkout.innerText()).toContain('acknowledged by alice');
    expect(await checkout.innerText()).toContain('Acknowledged');
    expect(server.requests.at(-1)).toMatchObject({ url: '/api/v1/incidents/inc-checkout/acknowledge', token: OPERATOR_TOKEN, status: 200 });

    server.publishIncident(makeIncident(Date.now(), 0, { id: 'inc-cart', severity: 'critical', title: 'cart: latency 3× normal' }));
    await poll(() => incidents().getByRole('article').first().innerText()).toContain('cart: latency 3× normal');
    server.publishIncident({ ...server.incidents.get('inc-cart')!, status: 'resolved', updatedAt: new Date(Date.now() + 1_000).toISOString() });
    await poll(() => incidents().innerText()).not.toContain('cart: latency');
  });

  it('is usable from the keyboard: the form takes focus, Escape cancels and focus returns', async () => {
    const release = killSwitch().getByRole('button', { name: 'Release kill switch…' });
    await release.focus();
    await page.keyboard.press('Enter');
    const field = killSwitch().getByLabel('Why resume automated rollbacks?');
    await poll(() => field.evaluate((element) => element === document.activeElement)).toBe(true);
    await page.keyboard.press('Escape');
    await poll(() => release.evaluate((element) => element === document.activeElement)).toBe(true);
    // The focus ring is visible.
    expect(await release.evaluate((element) => getComputedStyle(element).outlineStyle)).toBe('solid');
  });

  it('keeps the page steady under a storm of incident events', async () => {
    const firstIncident = incidents().getByRole('article').first();
    const topBefore = (await firstIncident.boundingBox())!.y;
    const automationTop = (await automation().boundingBox())!.y;
    await page.evaluate(() => {
      const counter = { callbacks: 0 };
      (window as unknown as { incidentMutations: typeof counter }).incidentMutations = counter;
      new MutationObserver(() => (counter.callbacks += 1)).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    // 5,000 events in about a second: 50 incidents, each growing by 100 alerts.
    const base = Date.now();
    for (let round = 1; round <= 100; round += 1) {
      for (let index = 0; index < 50; index += 1) {
        server.io.emit(
          'incident',
          makeIncident(base, 30, {
            id: `storm-${index}`,
            severity: 'info',
            status: 'acknowledged',
            title: `svc-${index}: queue depth above normal`,
            alertIds: Array.from({ length: round }, (_, alert) => `storm-${index}-${alert}`),
            updatedAt: new Date(base + round).toISOString(),
          }),
        );
      }
    }
    // 20 rendered: the two real incidents (more urgent), then 18 of the storm's.
    await poll(() => page.getByText('100 alerts').count()).toBe(18);
    const callbacks = await page.evaluate(() => (window as unknown as { incidentMutations: { callbacks: number } }).incidentMutations.callbacks);
    expect(callbacks).toBeLessThan(100);
    // Most urgent first, and nothing above them moved: acknowledged info incidents sort below.
    expect((await firstIncident.boundingBox())!.y).toBe(topBefore);
    expect((await automation().boundingBox())!.y).toBe(automationTop);
    expect(await page.getByRole('button', { name: /Show 20 more \(32 incidents not shown\)/ }).count()).toBe(1);
  });

  it('shows a token revoked while signed in inline and in the session (401), and signing out forgets it', async () => {
    await session().getByRole('button', { name: 'Sign out' }).click();
    expect(await page.evaluate((key) => localStorage.getItem(key), TOKEN_STORAGE_KEY)).toBeNull();
    server.tokens.set('cw_revoked-token', { name: 'carol', role: 'operator' });
    await session().getByRole('button', { name: 'Sign in with an API token' }).click();
    await page.getByLabel('API token').fill('cw_revoked-token');
    await page.getByLabel('API token').press('Enter');
    await poll(() => session().innerText()).toContain('Signed in as operator (carol)');
    // The sign-in reconnects the socket and reloads incidents and silences with the token; once those are done,
    // it is revoked: only the next request can tell.
    const withToken = (path: string) => server.requests.some((request) => request.token === 'cw_revoked-token' && request.url.startsWith(path) && request.status === 200);
    await poll(() => withToken('/api/v1/incidents') && withToken('/api/v1/silences') && server.handshakeTokens.includes('cw_revoked-token')).toBe(true);
    await poll(() => page.getByRole('status', { name: 'Connection' }).innerText()).toContain('Connected');
    server.tokens.delete('cw_revoked-token');

    const checkout = incidents().getByRole('article').filter({ hasText: 'checkout: error_ratio' });
    await checkout.getByRole('button', { name: 'Resolve…' }).click();
    await checkout.getByLabel('How was it resolved?').fill('rolled back by hand');
    await checkout.getByRole('button', { name: 'Resolve incident' }).click();
    await poll(() => checkout.getByRole('alert').innerText()).toContain('The server did not accept your API token');
    expect(server.requests.at(-1)).toMatchObject({ url: '/api/v1/incidents/inc-checkout/resolve', status: 401, token: 'cw_revoked-token' });
    await poll(() => session().innerText()).toContain('Token rejected (401)');
    // A rejected token may not try again: the buttons are disabled, and the hint says why.
    await checkout.getByRole('button', { name: 'Cancel' }).click();
    expect(await checkout.getByRole('button', { name: 'Resolve…' }).isDisabled()).toBe(true);
    expect(await automation().innerText()).toContain('Read-only: the server rejected your API token');
    expect(dialogs).toEqual([]);
  });

  it('keeps the action buttons disabled for a viewer token, saying its role', async () => {
    await session().getByRole('button', { name: 'Sign out' }).click();
    await session().getByRole('button', { name: 'Sign in with an API token' }).click();
    await page.getByLabel('API token').fill(VIEWER_TOKEN);
    await page.getByLabel('API token').press('Enter');
    await poll(() => session().innerText()).toContain('Signed in as viewer (wallboard)');
    await poll(() => automation().innerText()).toContain('Read-only: your token has the viewer role');
    // Earlier tests decided the rollbacks and lifted the freeze; the kill switch and the incidents are left.
    expect(await killSwitch().getByRole('button').first().isDisabled()).toBe(true);
    expect(await incidents().getByRole('button', { name: 'Resolve…' }).first().isDisabled()).toBe(true);
  });

  it('looks clean (screenshot for review)', async () => {
    await session().getByRole('button', { name: 'Sign out' }).click();
    await session().getByRole('button', { name: 'Sign in with an API token' }).click();
    await page.getByLabel('API token').fill(OPERATOR_TOKEN);
    await page.getByLabel('API token').press('Enter');
    server.automation = automationFixture();
    server.automation.killSwitch = { engaged: true, by: 'alice', reason: 'rollbacks are flapping checkout', since: new Date().toISOString() };
    await page.reload();
    await poll(() => pendingRollback('checkout').count()).toBe(1);
    await page.screenshot({ path: '/tmp/dashboard-operator.png', fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});

describe('dashboard of a server that requires a token to read', () => {
  it('asks to sign in, then connects with the token and loads everything', async () => {
    const server = await startFakeDashboardServer(() => snapshot);
    server.requireReadToken = true;
    server.automation = automationFixture();
    server.tokens.set(VIEWER_TOKEN, { name: 'wallboard', role: 'viewer' });
    server.incidents.set('inc-1', makeIncident(now, 3, { title: 'checkout: error_ratio 20× normal' }));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await poll(() => page.getByText('This server shows live data only to signed-in users').count()).toBe(1);
      expect(await page.getByRole('status', { name: 'Connection' }).innerText()).toMatch(/^Disconnected/);
      expect(await page.getByRole('region', { name: 'Incidents' }).innerText()).toContain('Waiting for the server');

      await page.getByRole('button', { name: 'Sign in with an API token' }).click();
      await page.getByLabel('API token').fill(VIEWER_TOKEN);
      await page.getByLabel('API token').press('Enter');
      await poll(() => page.getByRole('status', { name: 'Connection' }).innerText()).toContain('Connected');
      await poll(() => page.getByRole('list', { name: 'Open incidents' }).getByRole('article').count()).toBe(1);
      expect(await page.getByText('This server shows live data only to signed-in users').count()).toBe(0);
      expect(server.handshakeTokens).toEqual([undefined, VIEWER_TOKEN]);
      await poll(() => page.getByRole('article', { name: 'Pending rollback of checkout' }).count()).toBe(1);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
