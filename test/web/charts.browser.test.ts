/**
 * The metric charts of the built dashboard (web/dist; `npx vite build` first) in Debian's Chromium,
 * against the fake server: the chart is drawn with its band, the onset and change markers sit at the
 * x positions of their times, hovering a marker tells who changed what, a live update goes into the
 * same chart, and charts load lazily as their cards come on screen.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../contract/alert.ts';
import type { ChangeEvent } from '../../contract/events.ts';
import type { SeriesPointsResponse } from '../../contract/series.ts';
import type { DashboardSnapshot } from '../../web/src/lib/live-updates.ts';
import { Changewatch } from '../../server/core.ts';
import { createHttpApp } from '../../server/http/app.ts';
import { attachSocketGateway } from '../../server/http/socket-gateway.ts';
import { createLogger } from '../../server/log.ts';
import { createPipeline } from '../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../server/pipeline/pipeline.ts';
import { launchChromium, openWatchedPage } from '../support/browser.ts';
import { aChange, httpDeadLetterOf, stepSeries } from '../support/factories.ts';
import { testAuthenticator } from '../support/tokens.ts';
import { DASHBOARD_DIST, startFakeDashboardServer, type FakeDashboardServer } from './support/fake-dashboard-server.ts';
import { makeAlert, makeChange, makeStats } from './support/fixtures.ts';

const MINUTE = 60_000;
const STEP = 3 * MINUTE;
const now = Date.now();
const to = Math.floor(now / STEP) * STEP + STEP;
const from = to - 60 * STEP;

const agentDeploy = makeChange(now, 45, {
  id: 'chg-agent',
  author: { type: 'ai_agent', name: 'deploy-pilot', agent: 'deploy-pilot', model: 'gpt-x' },
  summary: 'Raise payment client pool size',
  links: { pr: 'https://git.example.com/shop/checkout/pull/812', commit: 'https://git.example.com/shop/checkout/commit/9f2c1e' },
});
const humanConfig = makeChange(now, 95, { id: 'chg-human', type: 'config', service: 'payments', author: { type: 'human', name: 'omar.r' }, summary: 'payments.retry.max_attempts 3 → 5' });
const assistedInfra = makeChange(now, 150, { id: 'chg-assisted', type: 'infra', service: 'ledger', author: { type: 'ai_assisted', name: 'lena.w', model: 'copilot' }, summary: 'Resize ledger pool' });

const charted = makeAlert(now, 40, { id: 'alert-charted', severity: 'critical', metric: 'latency_p99_ms', explanation: 'checkout latency_p99_ms is 4× its usual level.' });
const onset = Date.parse(charted.startedAt);
/** Lower-severity alerts without history, many more than fit on screen. */
const others: Alert[] = Array.from({ length: 40 }, (_, i) => makeAlert(now, 60 + i, { id: `alert-other-${i}`, service: `svc-${i}`, explanation: `svc-${i} latency_p99_ms is high.` }));

/** A series response: 200 until the onset, 800 after, a band around 200, and two versions for the last 5 steps. */
function seriesResponse(points = 60): SeriesPointsResponse {
  const rows = Array.from({ length: points }, (_, i) => from + i * STEP + STEP / 2);
  return {
    series: { key: 'checkout\u0000latency_p99_ms\u0000prod', service: 'checkout', metric: 'latency_p99_ms', kind: 'latency' },
    from,
    to: points > 60 ? to + (points - 60) * STEP : to,
    step: STEP,
    points: rows.map((time) => ({ time, value: time < onset ? 200 : 800, expected: 205, lower: 160, upper: 250 })),
    versions: [
      { version: 'v2.13.2', values: rows.map((_, i) => (i >= points - 5 ? 210 : null)) },
      { version: 'v2.14.0', values: rows.map((_, i) => (i >= points - 5 ? 1400 : null)) },
    ],
    services: ['checkout', 'payments', 'ledger'],
    changes: [assistedInfra, humanConfig, agentDeploy],
  };
}

const snapshot: DashboardSnapshot = { alerts: [...others, charted], changes: [agentDeploy, humanConfig, assistedInfra], stats: makeStats() };

describe('metric charts in a browser', () => {
  let browser: Browser;
  let server: FakeDashboardServer;
  let page: Page;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    server = await startFakeDashboardServer(() => snapshot);
    server.series.set(charted.id, seriesResponse());
    ({ browser, page } = await openWatchedPage(server.url, { width: 1440, height: 1000 }, pageErrors, dialogs));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const chartOf = (alertId: string): Locator => page.locator(`figure.chart[data-alert-id="${alertId}"]`);
  const pointRequests = () => server.requests.filter((request) => request.url.endsWith('/points'));

  /** Where `time` must fall on the chart's canvas: the plotting area's left edge plus its share of the window. */
  async function expectedX(chart: Locator, time: number, window: { from: number; to: number } = { from, to }): Promise<number> {
    const area = (await chart.locator('.u-over').boundingBox())!;
    return area.x + ((time - window.from) / (window.to - window.from)) * area.width;
  }

  it('draws the chart of an alert: canvas with the line and band, a summary for screen readers, and a legend with the versions', async () => {
    const chart = chartOf(charted.id);
    await chart.locator('canvas').waitFor();
    await expect.poll(() => chart.getAttribute('data-points')).toBe('60');
    const painted = await chart.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) count++;
      return count;
    });
    expect(painted).toBeGreaterThan(2_000);
    const label = (await chart.getAttribute('aria-label'))!;
    expect(label).toContain('latency_p99_ms of checkout over 3 h');
    expect(label).toContain('latest 800 against an expected 205, normal band 160 to 250');
    expect(label).toContain('3 changes marked');
    expect(label).toContain('one line per version: v2.13.2, v2.14.0');
    expect(await chart.locator('.legend').innerText()).toMatch(/v2\.13\.2[\s\S]*v2\.14\.0/);
  });

  it('puts the onset mark and every change marker at the x position of its time', async () => {
    const chart = chartOf(charted.id);
    await chart.locator('.marker').first().waitFor();
    const onsetBox = (await chart.locator('.onset-mark').boundingBox())!;
    expect(Math.abs(onsetBox.x + onsetBox.width / 2 - (await expectedX(chart, onset)))).toBeLessThan(1.5);
    for (const change of [agentDeploy, humanConfig, assistedInfra]) {
      const marker = chart.locator(`.marker[data-change-id="${change.id}"]`);
      const box = (await marker.boundingBox())!;
      const x = box.x + box.width / 2;
      expect([change.id, Math.abs(x - (await expectedX(chart, change.timestamp))) < 1.5]).toEqual([change.id, true]);
      expect(await marker.getAttribute('class')).toContain(`author-${change.author.type}`);
      // The timeline tick of the change sits at the same x, in its service's lane.
      const tick = chart.locator(`.lane[data-service="${change.service}"] .tick[data-change-id="${change.id}"]`);
      const tickBox = (await tick.boundingBox())!;
      expect(Math.abs(tickBox.x + tickBox.width / 2 - x)).toBeLessThan(1.5);
    }
    // Markers are ordered in time: the earliest change is leftmost.
    const xs = await chart.locator('.marker').evaluateAll((markers) => markers.map((m) => m.getBoundingClientRect().left));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(await chart.locator('.lane').allInnerTexts()).toEqual([expect.stringContaining('checkout'), expect.stringContaining('payments'), expect.stringContaining('ledger')]);
  });

  it('shows who changed what on hover and focus: summary, author, agent, pull request and commit', async () => {
    const chart = chartOf(charted.id);
    const marker = chart.locator('.marker[data-change-id="chg-agent"]');
    await marker.hover({ timeout: 5_000 });
    const details = marker.getByRole('tooltip');
    await details.waitFor({ timeout: 5_000 });
    const text = await details.innerText();
    expect(text).toContain('Raise payment client pool size');
    expect(text).toMatch(/AI agent\s*deploy-pilot/);
    expect(text).toContain('agent: deploy-pilot (gpt-x)');
    expect(await details.getByRole('link', { name: 'Pull request' }).getAttribute('href')).toBe(agentDeploy.links!.pr);
    expect(await details.getByRole('link', { name: 'Commit' }).getAttribute('href')).toBe(agentDeploy.links!.commit);
    await page.mouse.move(0, 0);
    await details.waitFor({ state: "detached", timeout: 5_000 });

    const human = chart.getByRole('button', { name: /^Human change by omar\.r to payments at .*: payments\.retry\.max_attempts/ });
    await human.focus();
    expect(await chart.locator('.marker[data-change-id="chg-human"]').getByRole('tooltip').innerText()).toContain('payments.retry.max_attempts 3 → 5');
    await page.keyboard.press('Escape');
    await human.blur();
  });

  it('appends a live update to the same chart (setData, not a new chart) when the alert is updated', async () => {
    const chart = chartOf(charted.id);
    await chart.locator('canvas').evaluate((canvas) => ((canvas as HTMLCanvasElement & { __first?: boolean }).__first = true));
    const before = pointRequests().length;
    const next = seriesResponse(61);
    server.series.set(charted.id, next);
    server.io.emit('alert', { ...charted, updatedAt: new Date(now + MINUTE).toISOString(), observed: 900 });
    await expect.poll(() => chart.getAttribute('data-points')).toBe('61');
    expect(pointRequests().length).toBe(before + 1);
    expect(await chart.locator('canvas').count()).toBe(1);
    expect(await chart.locator('canvas').evaluate((canvas) => (canvas as HTMLCanvasElement & { __first?: boolean }).__first)).toBe(true);
    // The new window moved right: the markers follow it.
    const box = (await chart.locator('.marker[data-change-id="chg-agent"]').boundingBox())!;
    expect(Math.abs(box.x + box.width / 2 - (await expectedX(chart, agentDeploy.timestamp, next)))).toBeLessThan(1.5);
  });

  it('loads charts lazily: only the cards on screen ask, the others when scrolled to, and a series without history says so', async () => {
    const asked = new Set(pointRequests().map((request) => request.url));
    expect(asked.size).toBeLessThan(10);
    const last = others.at(-1)!;
    expect(asked.has(`/api/v1/alerts/${last.id}/points`)).toBe(false);
    const lastChart = chartOf(last.id);
    await lastChart.scrollIntoViewIfNeeded();
    await expect.poll(() => pointRequests().some((request) => request.url === `/api/v1/alerts/${last.id}/points`)).toBe(true);
    await expect.poll(() => lastChart.innerText()).toContain('No history for this series here yet');
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
  it('tells the axis and the onset in the page\'s time zone: local by default, UTC on demand', async () => {
    const local = await browser.newPage({ viewport: { width: 1440, height: 1000 }, timezoneId: 'Asia/Kolkata' });
    await local.goto(server.url);
    const key = local.locator(`figure.chart[data-alert-id="${charted.id}"] .key.onset`);
    const utcClock = new Date(onset).toISOString().slice(11, 16);
    const kolkata = new Date(onset + 330 * MINUTE).toISOString().slice(11, 16);
    await expect.poll(() => key.textContent()).toBe(`onset ${kolkata}`);
    await local.getByRole('button', { name: 'Times: local' }).click();
    await expect.poll(() => key.textContent()).toBe(`onset ${utcClock}`);
    await local.close();
  });
});

describe('a metric chart from the real server', () => {
  let browser: Browser;
  let http: Server;
  let close: () => Promise<void>;
  let url: string;
  let core: Changewatch;

  beforeAll(async () => {
    // The real pipeline, HTTP app and socket gateway, fed a step on checkout's latency 40 minutes ago
    // (event time) and changes on checkout and on payments, which it depends on.
    core = new Changewatch(createPipeline(DEFAULT_PIPELINE_OPTIONS, [{ name: 'checkout', dependsOn: ['payments'] }]));
    const start = Math.floor((Date.now() - 40 * MINUTE) / 10_000) * 10_000;
    const points = stepSeries({ start, stepMs: 10_000, normal: 200, anomalous: 30 });
    const onsetAt = points[200]!.timestamp;
    const changes = [
      aChange({ id: 'chg-real-config', type: 'config', service: 'payments', timestamp: onsetAt - 12 * MINUTE, author: { type: 'human', name: 'omar.r' }, summary: 'payments pool 20 → 5' }),
      aChange({ id: 'chg-real-deploy', service: 'checkout', timestamp: onsetAt - 2 * MINUTE, summary: 'Refactor payment retries' }),
    ];
    const records = [...points.map((metric) => ({ metric })), ...changes.map((change) => ({ change }))].sort(
      (a, b) => ('metric' in a ? a.metric.timestamp : a.change.timestamp) - ('metric' in b ? b.metric.timestamp : b.change.timestamp),
    );
    for (const record of records) core.handle(record, httpDeadLetterOf());
    const publisher = { ready: true, publish: async () => {}, consumedOffsets: () => ({}), assignedPartitions: () => [] };
    const app = createHttpApp({ core, publisher, log: createLogger('silent'), authenticator: testAuthenticator(), maxBodyBytes: 100_000, maxFutureSkewMs: 3_600_000, dashboardDir: DASHBOARD_DIST });
    http = createServer(app);
    const gateway = attachSocketGateway(http, core, () => core.stats(true));
    close = () => gateway.close();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
    http?.close();
  });

  it("draws the alert's real history with its changes at their times", async () => {
    const alert = core.alerts.list({ limit: 10 }).find((candidate) => candidate.metric === 'latency_p99')!;
    expect(alert).toBeDefined();
    const served = (await (await fetch(`${url}/api/v1/alerts/${alert.id}/points`)).json()) as SeriesPointsResponse;
    expect(served.changes.map((change) => change.id)).toEqual(['chg-real-config', 'chg-real-deploy']);

    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(url);
    const chart = page.locator(`figure.chart[data-alert-id="${alert.id}"]`);
    await chart.locator('canvas').waitFor();
    await expect.poll(() => chart.getAttribute('data-points')).toBe(String(served.points.length));
    expect(served.points.length).toBeGreaterThanOrEqual(13);
    const area = (await chart.locator('.u-over').boundingBox())!;
    for (const change of served.changes) {
      const box = (await chart.locator(`.marker[data-change-id="${change.id}"]`).boundingBox())!;
      const expected = area.x + ((change.timestamp - served.from) / (served.to - served.from)) * area.width;
      expect([change.id, Math.abs(box.x + box.width / 2 - expected) < 1.5]).toEqual([change.id, true]);
    }
    const onsetBox = (await chart.locator('.onset-mark').boundingBox())!;
    const onsetExpected = area.x + ((Date.parse(alert.startedAt) - served.from) / (served.to - served.from)) * area.width;
    expect(Math.abs(onsetBox.x + onsetBox.width / 2 - onsetExpected)).toBeLessThan(1.5);
    expect(await chart.getAttribute('aria-label')).toContain('latency_p99 of checkout over 3 h');
    await page.close();
  });
});

