/**
 * Debian's Chromium for browser tests (no browser downloads are possible here), and the page
 * listeners the dashboard tests share.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

/** Flags Chromium needs to run headless in a container. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Launches /usr/bin/chromium headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Collects what should never happen on a page: uncaught errors, console errors and dialogs (which
 * are dismissed). Chromium logs every 4xx answer as "Failed to load resource"; those are the API
 * answering as designed and are not collected.
 */
export function watchPage(page: Page, pageErrors: string[], dialogs: string[]): void {
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
}

/** Launches Chromium and opens `url` in a watched page of `viewport` size: how the dashboard tests begin. */
export async function openWatchedPage(url: string, viewport: { width: number; height: number }, pageErrors: string[], dialogs: string[]): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport });
  watchPage(page, pageErrors, dialogs);
  await page.goto(url);
  return { browser, page };
}
