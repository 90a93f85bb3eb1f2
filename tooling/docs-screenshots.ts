/**
 * `npm run docs:screenshots`: takes the dashboard screenshots docs/dashboard.md embeds, from the real
 * service, and records what it took. The npm script runs `vite build --logLevel warn` first; run
 * alone (`node --import tsx tooling/docs-screenshots.ts`), it uses whatever web/dist holds.
 *
 * It starts the scene of tooling/docs-shots/scene.ts (the real service on a random port, fed a
 * simulated fleet with a fixed seed and fixed times, this process's clock running from the scene's
 * end), opens Debian's Chromium (playwright-core, the browser tests' flags) with its clock fixed at
 * the same instant, and writes PNGs to docs/img: the whole desktop page at 1440 px in the dark and the
 * light theme, an alert card with its chart, a change marker's tooltip, the pending rollback, the phone
 * layout's first screen at 390 px and the keyboard-shortcut help. Then docs/img/manifest.json and
 * docs/img/README.md (commit, date, command, what each image shows) and the caption line of
 * docs/dashboard.md's Screenshots section. test/tooling/docs-screenshots.test.ts checks them.
 *
 * Take them from a committed tree: the manifest records `git rev-parse --short HEAD`, with `+dirty`
 * when the tree has changes, and the test refuses a dirty record.
 */
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium } from '../test/support/browser.ts';
import { DASHBOARD_DIR } from '../server/service.ts';
import {
  DOCS_PAGE,
  IMAGES_DIR,
  MANIFEST_PATH,
  SCREENSHOTS_COMMAND,
  describeCommit,
  pngSize,
  renderReadme,
  withCaption,
  type ScreenshotManifest,
  type ScreenshotRecord,
} from './docs-shots/manifest.ts';
import { SCENE_END, startScene, type Scene } from './docs-shots/scene.ts';
import { runClockFrom } from './docs-shots/shifted-clock.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Above this, the images weigh down the repository; the script says so. */
const SIZE_BUDGET_BYTES = 1_500_000;

/** What a shot needs: the scene, the browser, the dashboard's address and the instant its pages show. */
interface ShotContext {
  scene: Scene;
  browser: Browser;
  url: string;
  /** The instant every page's clock is fixed at: the server's clock once the scene is ready. */
  now: number;
}

/** One screenshot to take. */
interface Shot {
  file: string;
  shows: string;
  take(context: ShotContext): Promise<Buffer>;
}

/** Every screenshot, in the order docs/img/README.md lists them. */
const SHOTS: readonly Shot[] = [
  {
    file: 'dashboard-desktop-dark.png',
    shows: 'The whole page at 1440 px in the dark theme, signed in as an operator: incidents, the alert feed with charts, guarded automation with the pending rollback and the AI-change freeze, recent changes, change failure rates.',
    take: async (context) => withPage(context, { width: 1440, height: 1000, colorScheme: 'dark' }, wholePage),
  },
  {
    file: 'dashboard-desktop-light.png',
    // The first screen only: the whole page twice would be most of the images' weight.
    shows: 'The first screen of the same page (1440 × 1000) in the light theme.',
    take: async (context) => withPage(context, { width: 1440, height: 1000, colorScheme: 'light' }, (page) => page.screenshot()),
  },
  {
    file: 'alert-card-chart.png',
    shows: "The alert on checkout's error rate naming the AI agent's deploy: its chart with the normal band, the onset mark, change markers, one line per version and the changes' timeline.",
    take: async (context) =>
      withPage(context, { width: 1440, height: 1000, colorScheme: 'dark' }, async (page) => {
        const card = alertCard(page, context.scene);
        await card.scrollIntoViewIfNeeded();
        return card.screenshot();
      }),
  },
  {
    file: 'change-marker-tooltip.png',
    shows: "Hovering the AI agent's deploy marker on that chart: what changed, who (agent and model) and when.",
    take: async (context) =>
      withPage(context, { width: 1440, height: 1000, colorScheme: 'dark' }, async (page) => {
        const chart = alertChart(page, context.scene);
        await chart.scrollIntoViewIfNeeded();
        const marker = chart.locator(`.marker[data-change-id="${context.scene.aiChangeId}"]`);
        await marker.hover();
        const tooltip = marker.getByRole('tooltip');
        await tooltip.waitFor();
        return page.screenshot({ clip: union(await boxOf(chart), await boxOf(tooltip), 12) });
      }),
  },
  {
    file: 'pending-rollback.png',
    shows: "The rollback of the AI agent's deploy awaiting an operator's decision: versions, confidence, evidence, deadline, Approve and Deny.",
    take: async (context) =>
      withPage(context, { width: 1440, height: 1000, colorScheme: 'dark' }, async (page) => {
        const rollback = page.locator(`[data-rollback-id="${context.scene.pendingRollback.id}"]`);
        await rollback.scrollIntoViewIfNeeded();
        // With a margin: the section's headings sit on its very edge.
        const queue = await boxOf(page.locator('section.queue'));
        return page.screenshot({ clip: union(queue, queue, 12) });
      }),
  },
  {
    file: 'phone-first-screen.png',
    shows: "The phone layout at 390 px, first screen: the pending rollback and the incidents come first.",
    take: async (context) => withPage(context, { width: 390, height: 844, colorScheme: 'dark', mobile: true }, (page) => page.screenshot()),
  },
  {
    file: 'keyboard-shortcuts.png',
    shows: 'The keyboard-shortcut help, opened with ?.',
    take: async (context) =>
      withPage(context, { width: 1440, height: 1000, colorScheme: 'dark' }, async (page) => {
        await page.locator('body').press('?');
        const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
        await help.waitFor();
        const box = await boxOf(help);
        return page.screenshot({ clip: union(box, box, 16) });
      }),
  },
];

/** Opens the dashboard in a fresh context, signs in as the operator, waits until it shows the scene, and runs `shoot`. */
async function withPage(
  context: ShotContext,
  view: { width: number; height: number; colorScheme: 'dark' | 'light'; mobile?: boolean },
  shoot: (page: Page) => Promise<Buffer>,
): Promise<Buffer> {
  const browserContext: BrowserContext = await context.browser.newContext({
    viewport: { width: view.width, height: view.height },
    colorScheme: view.colorScheme,
    timezoneId: 'UTC',
    locale: 'en-GB',
    ...(view.mobile ? { isMobile: true, hasTouch: true } : {}),
  });
  try {
    // The page's clock stands where the server's does, so "3 min ago" and deadlines read the same on every run.
    await browserContext.clock.setFixedTime(context.now);
    const page = await browserContext.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(context.url);
    await signIn(page, context.scene.operatorToken);
    await showsScene(page, context.scene);
    const picture = await shoot(page);
    if (problems.length > 0) throw new Error(`the dashboard failed while it was photographed: ${problems.join('; ')}`);
    return picture;
  } finally {
    await browserContext.close();
  }
}

async function signIn(page: Page, token: string): Promise<void> {
  const session = page.getByRole('group', { name: 'Operator session' });
  await session.getByRole('button', { name: 'Sign in with an API token' }).click();
  const field = page.getByLabel('API token');
  await field.fill(token);
  await field.press('Enter');
  // whoami answers at once: the session then names the role ("Signed in as operator (…)").
  await session.getByText(/Signed in as operator/).waitFor();
}

/** Waits until the page shows what the pictures are about: the AI alert's chart with its markers, the pending rollback (with Approve: signed in), its incident, the failure rates. */
async function showsScene(page: Page, scene: Scene): Promise<void> {
  const chart = alertChart(page, scene);
  await chart.scrollIntoViewIfNeeded();
  await chart.locator('canvas').waitFor();
  await chart.locator(`.marker[data-change-id="${scene.aiChangeId}"]`).waitFor();
  await page.locator(`[data-rollback-id="${scene.pendingRollback.id}"]`).getByRole('button', { name: /^Approve/ }).waitFor();
  if (scene.pendingRollback.incidentId !== undefined) await page.locator(`article[id="incident-${scene.pendingRollback.incidentId}"]`).waitFor();
  await page.locator('section.rates table').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  // Fonts and the charts' last frame.
  await page.evaluate(() => document.fonts.ready.then(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))));
}

/**
 * The whole page, every chart drawn: charts load as their cards come on screen, so the page is
 * scrolled through first, and a chart still without points fails the run (an empty chart in the docs).
 */
async function wholePage(page: Page): Promise<Buffer> {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  for (let top = 0; top < height; top += 600) {
    await page.evaluate((y) => window.scrollTo(0, y), top);
    await page.waitForTimeout(100);
  }
  try {
    await page.waitForFunction(() => [...document.querySelectorAll('figure.chart')].every((figure) => figure.getAttribute('data-points') !== '0'), undefined, { timeout: 20_000 });
  } catch {
    const empty = await page.locator('figure.chart[data-points="0"]').evaluateAll((figures) => figures.map((figure) => `${figure.getAttribute('data-alert-id')}: ${figure.textContent?.trim()}`));
    throw new Error(`charts without points after 20 s: ${empty.join('; ')}`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  return page.screenshot({ fullPage: true });
}

async function boxOf(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error(`${String(locator)} is not on screen`);
  return box;
}

/** The smallest rectangle holding `a` and `b`, with `margin` around, in viewport coordinates (boundingBox gives them, screenshot clips take them). */
function union(a: { x: number; y: number; width: number; height: number }, b: typeof a, margin: number): typeof a {
  const left = Math.max(0, Math.min(a.x, b.x) - margin);
  const top = Math.max(0, Math.min(a.y, b.y) - margin);
  const right = Math.max(a.x + a.width, b.x + b.width) + margin;
  const bottom = Math.max(a.y + a.height, b.y + b.height) + margin;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** The card of the AI agent's alert in the alert feed. */
function alertCard(page: Page, scene: Scene): Locator {
  return page.locator(`article[id="alert-${scene.aiAlertId}"]`);
}

/** The chart on that card (its incident shows one too). */
function alertChart(page: Page, scene: Scene): Locator {
  return alertCard(page, scene).locator('figure.chart');
}

async function main(): Promise<void> {
  try {
    statSync(path.join(DASHBOARD_DIR, 'index.html'));
  } catch {
    throw new Error(`no built dashboard in ${DASHBOARD_DIR}: run \`npx vite build\` first (npm run docs:screenshots does)`);
  }
  const commit = describeCommit(REPO);
  const takenAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (commit.endsWith('+dirty')) process.stderr.write(`docs:screenshots: the tree has uncommitted changes; the manifest will say ${commit}, which the docs test refuses\n`);

  runClockFrom(SCENE_END + 30_000);
  process.stdout.write('docs:screenshots: starting the service and playing the fleet into it…\n');
  const scene = await startScene();
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const context: ShotContext = { scene, browser, url: scene.service.url, now: Date.now() };
    mkdirSync(path.join(REPO, IMAGES_DIR), { recursive: true });
    const images: ScreenshotRecord[] = [];
    let total = 0;
    for (const shot of SHOTS) {
      const picture = await shot.take(context);
      writeFileSync(path.join(REPO, IMAGES_DIR, shot.file), picture);
      total += picture.length;
      images.push({ file: shot.file, shows: shot.shows, ...pngSize(picture) });
      process.stdout.write(`  ${IMAGES_DIR}/${shot.file} (${Math.round(picture.length / 1024)} KiB)\n`);
    }
    const manifest: ScreenshotManifest = { commit, takenAt, command: SCREENSHOTS_COMMAND, dashboardTime: new Date(context.now).toISOString(), images };
    writeFileSync(path.join(REPO, MANIFEST_PATH), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(path.join(REPO, IMAGES_DIR, 'README.md'), renderReadme(manifest));
    const docsPage = path.join(REPO, DOCS_PAGE);
    writeFileSync(docsPage, withCaption(readFileSync(docsPage, 'utf8'), manifest));
    process.stdout.write(`docs:screenshots: ${images.length} images, ${Math.round(total / 1024)} KiB, commit ${commit}; wrote ${MANIFEST_PATH}, ${IMAGES_DIR}/README.md and the caption in ${DOCS_PAGE}\n`);
    if (total > SIZE_BUDGET_BYTES) process.stderr.write(`docs:screenshots: the images weigh ${Math.round(total / 1024)} KiB, over the ${SIZE_BUDGET_BYTES / 1000} kB budget\n`);
  } finally {
    await browser?.close();
    await scene.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`docs:screenshots: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
