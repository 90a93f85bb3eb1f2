/**
 * End-to-end check of the built dashboard (web/dist; `npx vite build` first) in Debian's Chromium,
 * against a fake server: what an on-call engineer sees for a snapshot, live updates, an event storm,
 * expanded evidence, change failure rates and a server going away.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSnapshot } from '../../web/src/lib/live-updates.ts';
import { launchChromium } from '../support/browser.ts';
import { startFakeDashboardServer, type FakeDashboardServer } from './support/fake-dashboard-server.ts';
import { makeAlert, makeChange, makeChangeStats, makeStats, suspectFor } from './support/fixtures.ts';

const now = Date.now();

const agentDeploy = makeChange(now, 9, {
  id: 'chg-agent-deploy',
  version: 'v2.14.0',
  previousVersion: 'v2.13.2',
  author: { type: 'ai_agent', name: 'deploy-pilot', agent: 'deploy-pilot', model: 'gpt-x', reviewedBy: [] },
  summary: 'Raise payment client pool size and shorten retry backoff',
  links: { pr: 'https://git.example.com/shop/checkout/pull/812' },
});
const assistedConfig = makeChange(now, 26, {
  id: 'chg-assisted-config',
  type: 'config',
  service: 'payments',
  version: undefined,
  previousVersion: undefined,
  author: { type: 'ai_assisted', name: 'lena.w', model: 'copilot', reviewedBy: ['sam.o'] },
  summary: 'payments.retry.max_attempts 3 → 5',
  diff: undefined,
});
const humanFlag = makeChange(now, 41, {
  id: 'chg-human-flag',
  type: 'feature_flag',
  service: 'search',
  version: undefined,
  previousVersion: undefined,
  author: { type: 'human', name: 'omar.r', reviewedBy: ['ines.p'] },
  summary: 'Enable new-ranking for 10% of traffic',
  diff: undefined,
  links: { pr: 'javascript:alert(1)' },
});

const checkoutErrors = makeAlert(now, 4, {
  id: 'alert-checkout-errors',
  severity: 'critical',
  metric: 'error_ratio',
  observed: 0.087,
  expected: 0.004,
  lower: 0.001,
  upper: 0.009,
  score: 0.99,
  explanation: 'checkout error_ratio is 20× its usual level since 03:12; deploy v2.14.0 by AI agent deploy-pilot landed 5 min before.',
  suspects: [
    suspectFor(agentDeploy, 0.82, [
      'Deployed to checkout 5 min before onset',
      'Errors come from hosts running v2.14.0 (97% of 5xx)',
      'Touches payment client, which checkout errors point at',
    ]),
    suspectFor(assistedConfig, 0.09, ['payments is a dependency of checkout', 'Landed 22 min before onset']),
  ],
  noChangeConfidence: 0.06,
});
const paymentsQueue = makeAlert(now, 12, {
  id: 'alert-payments-queue',
  service: 'payments',
  metric: 'queue_depth',
  observed: 1840,
  expected: 240,
  lower: 90,
  upper: 420,
  score: 0.88,
  explanation: 'payments queue_depth is 7× its usual level since 03:04; no recent change explains it.',
  noChangeConfidence: 0.91,
});
const resolvedLatency = makeAlert(now, 32, {
  id: 'alert-search-latency',
  status: 'resolved',
  service: 'search',
  resolvedAt: new Date(now - 20 * 60_000).toISOString(),
  updatedAt: new Date(now - 20 * 60_000).toISOString(),
  explanation: 'search latency_p99_ms is back to normal (212, expected 205) since 03:01.',
  suspects: [suspectFor(humanFlag, 0.41, ['Flag flipped 9 min before onset'])],
  noChangeConfidence: 0.5,
});

const snapshot: DashboardSnapshot = {
  alerts: [resolvedLatency, paymentsQueue, checkoutErrors],
  changes: [humanFlag, assistedConfig, agentDeploy],
  stats: makeStats(),
};


describe('dashboard in a browser', () => {
  let browser: Browser;
  let server: FakeDashboardServer;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await startFakeDashboardServer(() => snapshot);
    server.changeStats = makeChangeStats(now);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // Chromium logs every 4xx as "Failed to load resource"; charts of alerts without history get 404s by design.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    await page.goto(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const connection = () => page.getByRole('status', { name: 'Connection' });
  const openAlerts = () => page.getByRole('list', { name: 'Open alerts' });
  const recentChanges = () => page.getByRole('list', { name: 'Recent changes, newest first' });

  it('connects and shows the snapshot: alert, explanation, top suspect with author and confidence', async () => {
    await expect.poll(() => connection().innerText()).toContain('Connected');

    const card = openAlerts().getByRole('article').first();
    await card.waitFor();
    const text = await card.innerText();
    expect(text).toContain('CRITICAL');
    expect(text).toContain('Firing');
    expect(text).toContain('checkout');
    expect(text).toContain('error_ratio is 20× its usual level');
    expect(text).toMatch(/most likely cause/i);
    expect(text).toContain('Raise payment client pool size');
    expect(text).toContain('5 min before onset');
    expect(await card.locator('.author').first().innerText()).toMatch(/AI agent\s*deploy-pilot/);
    const meter = card.getByRole('meter', { name: 'Probability this change caused the alert' });
    expect(await meter.getAttribute('aria-valuenow')).toBe('82');
    expect(text).toContain('82%');
    expect(text).toContain('High');
    expect(text).toContain('started 4 min ago');

    const resolved = page.getByRole('list', { name: 'Recently resolved alerts' });
    expect(await resolved.innerText()).toContain('back to normal');
    const counts = await page.getByRole('region', { name: 'Alerts' }).locator('.counts').innerText();
    expect(counts).toMatch(/1\s*critical\s*1\s*warning\s*0\s*info/);
    expect(await openAlerts().getByRole('article').nth(1).innerText()).toContain('No tracked change looks responsible (91%');
  });

  it('lists recent changes newest first with their author types', async () => {
    const items = recentChanges().getByRole('article');
    expect(await items.count()).toBe(3);
    const texts = await items.allInnerTexts();
    expect(texts[0]).toContain('Raise payment client pool size');
    expect(texts[0]).toMatch(/AI agent\s*deploy-pilot/);
    expect(texts[0]).toContain('Likely cause of an open alert on checkout');
    expect(texts[1]).not.toContain('Likely cause');
    expect(texts[1]).toMatch(/AI-assisted\s*lena\.w/);
    expect(texts[2]).toMatch(/Human\s*omar\.r/);
    expect(texts[2]).toContain('41 min ago');
    const links = recentChanges().getByRole('link', { name: 'Pull request' });
    // Only the http(s) link is rendered; the `javascript:` one is dropped.
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://git.example.com/shop/checkout/pull/812');
  });

  it('shows change failure rates by author type and per agent', async () => {
    const rates = page.getByRole('region', { name: 'Change failure rate' });
    await expect.poll(() => rates.innerText()).toContain('Per AI agent');
    const rows = await rates.getByRole('row').allInnerTexts();
    expect(rows).toContainEqual(expect.stringMatching(/AI agent\s+48\s+6\s+13%/));
    expect(rows).toContainEqual(expect.stringMatching(/Human\s+55\s+2\s+4%/));
    expect(rows).toContainEqual(expect.stringMatching(/deploy-pilot\s+31\s+5\s+16%/));
  });

  it('expands an alert to every suspect with its evidence and the no-change probability', async () => {
    const card = openAlerts().getByRole('article').first();
    await card.getByRole('button', { name: 'Show evidence (2 suspects)' }).click();
    const evidence = card.getByRole('list', { name: 'Evidence' });
    expect(await evidence.count()).toBe(2);
    expect(await evidence.first().innerText()).toContain('Errors come from hosts running v2.14.0');
    expect(await evidence.nth(1).innerText()).toContain('payments is a dependency of checkout');
    const text = await card.innerText();
    expect(text).toMatch(/AI-assisted\s*lena\.w/);
    expect(text).toContain('9%');
    expect(text).toMatch(/No tracked change caused this\s*6%/);
  });

  it('adds live alerts and changes as they arrive', async () => {
    const canary = makeChange(Date.now(), 0, {
      id: 'chg-live',
      service: 'cart',
      version: 'v8.1.0',
      previousVersion: 'v8.0.9',
      author: { type: 'ai_assisted', name: 'dev.j', model: 'claude', reviewedBy: [] },
      summary: 'Cache cart totals for 30 s',
    });
    server.io.emit('change', canary);
    server.io.emit(
      'alert',
      makeAlert(Date.now(), 0, {
        id: 'alert-cart-latency',
        service: 'cart',
        explanation: 'cart latency_p99_ms is 3× its usual level since 03:20; cache change by dev.j landed just before.',
        suspects: [suspectFor(canary, 0.64, ['Deployed to cart 1 min before onset'])],
        noChangeConfidence: 0.2,
      }),
    );

    await expect.poll(() => openAlerts().getByRole('article').count()).toBe(3);
    // Critical sorts above warning however recent the warning; among warnings the newest onset comes first.
    const second = await openAlerts().getByRole('article').nth(1).innerText();
    expect(second).toContain('cart latency_p99_ms is 3×');
    expect(second).toMatch(/AI-assisted\s*dev\.j/);
    expect(second).toContain('64%');
    expect(second).toContain('Medium');
    expect(await recentChanges().getByRole('article').first().innerText()).toContain('Cache cart totals');
  });

  it('coalesces an event storm into a few renders and shows the latest version of each alert', async () => {
    await page.evaluate(() => {
      const counter = { callbacks: 0 };
      (window as unknown as { mutationCounter: typeof counter }).mutationCounter = counter;
      new MutationObserver(() => (counter.callbacks += 1)).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
    });
    const storms = 20;
    const updatesPerAlert = 100;
    const start = Date.now();
    for (let version = 1; version <= updatesPerAlert; version += 1) {
      for (let index = 0; index < storms; index += 1) {
        server.io.emit(
          'alert',
          makeAlert(start, 1, {
            id: `storm-${index}`,
            severity: 'info',
            service: `svc-${String(index).padStart(2, '0')}`,
            updatedAt: new Date(start + version).toISOString(),
            explanation: `svc-${index} queue depth rising, update ${version} of ${updatesPerAlert}.`,
          }),
        );
      }
    }

    await expect.poll(() => openAlerts().getByRole('article').count()).toBe(3 + storms);
    const finalVersions = () => openAlerts().getByText(`update ${updatesPerAlert} of ${updatesPerAlert}`).count();
    await expect.poll(finalVersions).toBe(storms);
    expect(await openAlerts().innerText()).not.toContain(`update ${updatesPerAlert - 1} of`);
    const callbacks = await page.evaluate(
      () => (window as unknown as { mutationCounter: { callbacks: number } }).mutationCounter.callbacks,
    );
    // Rendering per event would mean about one DOM update per message (2,000 here).
    expect(callbacks).toBeLessThan(100);
  });

  it('renders open alerts 50 at a time', async () => {
    // 23 alerts are open after the storm; 40 more make 63.
    for (let index = 0; index < 40; index += 1) {
      server.io.emit('alert', makeAlert(Date.now(), 30, { id: `extra-${index}`, severity: 'info', service: `extra-${index}` }));
    }
    await expect.poll(() => openAlerts().getByRole('article').count()).toBe(50);
    const more = page.getByRole('button', { name: 'Show 13 more (13 open alerts not shown)' });
    await more.click();
    expect(await openAlerts().getByRole('article').count()).toBe(63);
    expect(await more.count()).toBe(0);
  });

  it('offers a manual reconnect when the server closes the connection on purpose', async () => {
    // socket.io does not retry a disconnect the server asked for, so the page must not pretend it will.
    server.io.disconnectSockets(true);
    await expect.poll(() => connection().innerText()).toMatch(/^Disconnected\b(?! · reconnecting)/);
    await connection().getByRole('button', { name: 'Reconnect' }).click();
    await expect.poll(() => connection().innerText()).toContain('Connected');
    // The fresh snapshot replaces what the page had accumulated.
    await expect.poll(() => openAlerts().getByRole('article').count()).toBe(2);
  });

  it('looks clean (screenshot for review)', async () => {
    // Drop the storm so the screenshot shows a realistic incident, then take it for a human to look at.
    await page.reload();
    await expect.poll(() => connection().innerText()).toContain('Connected');
    await openAlerts().getByRole('article').first().getByRole('button', { name: /Show evidence/ }).click();
    await page.screenshot({ path: '/tmp/dashboard.png' });
    expect(pageErrors).toEqual([]);
  });

  it('reports the loss of the server and flags the data as stale', async () => {
    await server.stop();
    await expect.poll(() => connection().innerText()).toContain('Disconnected');
    expect(await page.getByText('Live updates stopped').isVisible()).toBe(true);
    // The last known state stays on screen.
    expect(await openAlerts().getByRole('article').count()).toBe(2);
  });
});

describe('dashboard without change statistics', () => {
  it('says the failure rates are unavailable instead of breaking', async () => {
    const server = await startFakeDashboardServer(() => snapshot);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      const rates = page.getByRole('region', { name: 'Change failure rate' });
      await expect.poll(() => rates.innerText()).toContain('unavailable: server answered HTTP 503');
      // The snapshot comes over the socket, independently of the stats request: wait for it too.
      await expect.poll(() => page.getByRole('list', { name: 'Open alerts' }).getByRole('article').count()).toBe(2);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
