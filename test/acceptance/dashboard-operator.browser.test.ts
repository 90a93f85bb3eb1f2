/**
 * The dashboard against the real service, end to end, as an operator uses it: the real mock broker,
 * changewatch started from a YAML file with an operator token and a rollback webhook to a local CD
 * receiver, serving the built dashboard (web/dist; `npx vite build` first), in Debian's Chromium.
 * An AI agent's deploy breaks the instances running its version; the operator sees the alert naming
 * the change and its AI-agent author, signs in, sees the proposed rollback and the freeze, approves,
 * and the CD system gets the signed request while the dashboard shows the rollback sent.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { verifyWebhook } from '../../server/alerts/notifiers/standard-webhooks.ts';
import { DASHBOARD_DIR } from '../../server/service.ts';
import { launchChromium } from '../support/browser.ts';
import { playIncident, startCdReceiver, startWithRollback } from '../support/guarded-rollback.ts';
import { eventually } from '../support/kafka-helpers.ts';

const brokers = inject('kafkaBrokers');
const OPERATOR_TOKEN = 'cw_dashboard-e2e-operator-token';
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** `expect.poll` with room for detection on a busy 2-core machine; a poll that passes returns at once. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 100 });

describe('the dashboard against the real service', () => {
  it('an operator sees the AI agent’s bad deploy, signs in, approves its rollback in the browser, and the CD system gets it signed', { timeout: 45_000 }, async () => {
    expect(existsSync(`${DASHBOARD_DIR}/index.html`), `no built dashboard in ${DASHBOARD_DIR}: run \`npx vite build\` first`).toBe(true);
    const cd = await startCdReceiver();
    cleanup.push(() => cd.close());
    const { service, topics, secret } = await startWithRollback({
      brokers,
      mode: 'require-approval',
      cdUrl: cd.url,
      tokens: [{ name: 'ops-alice', role: 'operator', token: OPERATOR_TOKEN }],
    });
    cleanup.push(() => service.stop());

    const browser: Browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    page.on('dialog', (dialog) => {
      pageErrors.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(service.url);
    await poll(() => page.getByRole('status', { name: 'Connection' }).innerText()).toContain('Connected');
    await poll(() => page.getByRole('region', { name: 'Guarded automation' }).innerText()).toContain('No rollback is waiting for a decision.');

    cleanup.push(await playIncident(brokers, service, topics));

    // The alert names the change by what it was (chg-ai-1's summary) and its author, an AI agent.
    const alert = page.getByRole('list', { name: 'Open alerts' }).getByRole('article').filter({ hasText: "the deploy 'Refactor payment retries' (v2.4.0) by AI agent kiro" }).first();
    await poll(() => alert.count()).toBe(1);
    const alertText = await alert.innerText();
    expect(alertText).toMatch(/checkout\s*prod/);
    expect(alertText).toMatch(/AI agent\s*kiro/);
    await poll(() => page.getByRole('list', { name: 'Open incidents' }).innerText()).toContain('checkout');

    // The proposed rollback and the freeze, read-only until someone signs in.
    const pending = page.getByRole('article', { name: 'Pending rollback of checkout' });
    await poll(() => pending.count()).toBe(1);
    const pendingText = await pending.innerText();
    expect(pendingText).toMatch(/v2\.4\.0\s*→\s*v2\.3\.9/);
    expect(pendingText).toContain('chg-ai-1');
    expect(pendingText).toMatch(/AI agent\s*kiro/);
    const approve = pending.getByRole('button', { name: 'Approve…' });
    expect(await approve.isDisabled()).toBe(true);
    const freeze = page.getByRole('article', { name: 'Freeze: AI changes to checkout' });
    await poll(() => freeze.count()).toBe(1);
    expect(await freeze.innerText()).toMatch(/change chg-ai-1 by kiro/);
    expect(cd.requests).toHaveLength(0);

    // Sign in with the operator token, as a person pastes it.
    await page.getByRole('button', { name: 'Sign in with an API token' }).click();
    await page.getByLabel('API token').fill(OPERATOR_TOKEN);
    await page.getByLabel('API token').press('Enter');
    await poll(() => page.getByRole('group', { name: 'Operator session' }).innerText()).toContain('Signed in as operator (ops-alice)');
    await poll(() => approve.isEnabled()).toBe(true);

    // Approve with a comment for the audit log.
    const rollbackId = await pending.getAttribute('data-rollback-id');
    expect(rollbackId).toMatch(/\S/);
    await approve.click();
    await pending.getByLabel('Comment for the audit log').fill('v2.4.0 pods are the ones failing');
    await pending.getByRole('button', { name: 'Approve rollback' }).click();

    // The CD system gets one request, signed, naming the change, the versions and who approved.
    await eventually(() => cd.requests.length >= 1, 15_000, 'the rollback request at the CD system');
    const request = cd.requests[0]!;
    verifyWebhook(secret, request.headers as Record<string, string>, request.body);
    expect(request.headers['webhook-id']).toBe(rollbackId);
    const sent = JSON.parse(request.body) as Record<string, unknown>;
    expect(sent).toMatchObject({
      type: 'rollback.requested',
      rollbackId,
      changeId: 'chg-ai-1',
      service: 'checkout',
      fromVersion: 'v2.4.0',
      toVersion: 'v2.3.9',
      approvedBy: 'ops-alice',
    });
    expect(sent.reason).toContain('v2.4.0 pods are the ones failing');

    // The dashboard shows it sent, decided by the operator, and nothing left to decide.
    const executed = page.getByRole('article', { name: 'Sent to CD rollback of checkout' });
    await poll(() => executed.count()).toBe(1);
    expect(await executed.innerText()).toMatch(/v2\.4\.0\s*→\s*v2\.3\.9[\s\S]*chg-ai-1 · decided by ops-alice/);
    expect(await pending.count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Guarded automation' }).innerText()).toContain('No rollback is waiting for a decision.');
    expect(cd.requests).toHaveLength(1);

    await page.screenshot({ path: '/tmp/dashboard-e2e.png', fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
