/**
 * Plain language and an honest session in the built dashboard (web/dist; `npx vite build` first), in
 * Debian's Chromium against the fake server: a token is checked at sign-in (the bad-token message
 * appears then, not at the first action), a good one shows its role, a 409 names who decided and
 * when, evidence against a suspect is shown as such, no sentence quotes an API path, author types
 * are words, and the audit view lists and filters entries.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryView } from '../../contract/session.ts';
import type { DashboardSnapshot } from '../../web/src/lib/live-updates.ts';
import { openWatchedPage } from '../support/browser.ts';
import { startFakeDashboardServer, type FakeDashboardServer } from './support/fake-dashboard-server.ts';
import { makeAlert, makeAutomation, makeChange, makeFreeze, makeIncident, makeRollback, makeStats, suspectFor } from './support/fixtures.ts';

const now = Date.now();
const OPERATOR_TOKEN = 'cw_operator-token-plain-language';
const VIEWER_TOKEN = 'cw_viewer-token-plain-language';
const AGAINST = 'error_rate of checkout did not move after the change (rank test p = 0.56)';
const PR = 'https://git.example/shop/checkout/pull/812';
const COMMIT = 'https://git.example/shop/checkout/commit/4f1c9e2';

const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

const agentDeploy = makeChange(now, 6, {
  id: 'chg-retries',
  author: { type: 'ai_agent', name: 'kiro', agent: 'kiro' },
  summary: 'Add retries to the order client',
  version: 'v2.19.2',
  links: { pr: PR, commit: COMMIT },
});
const assistedConfig = makeChange(now, 9, { id: 'chg-pool', type: 'config', author: { type: 'ai_assisted', name: 'fatima', model: 'copilot' }, summary: 'Raise pool size' });
const topSuspect = {
  ...suspectFor(agentDeploy, 0.99, ['only v2.19.2 hosts fail (97% of 5xx)', 'deployed 40 s before the onset', AGAINST]),
  evidenceKinds: ['version_split' as const, 'timing' as const],
  evidenceAgainst: [AGAINST],
};
topSuspect.change.links = agentDeploy.links!;

const snapshot: DashboardSnapshot = {
  alerts: [
    makeAlert(now, 4, { id: 'alert-checkout', severity: 'critical', metric: 'error_rate', suspects: [topSuspect, suspectFor(assistedConfig, 0.01, ['landed 5 min before'])] }),
  ],
  changes: [agentDeploy, assistedConfig],
  stats: makeStats({ alertsFiring: 1 }),
};

function auditEntries(): AuditEntryView[] {
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  return [
    { id: 1, at: at(30), actor: 'policy', action: 'freeze.create', target: 'freeze:frz-checkout', reason: 'AI-authored changes to checkout are frozen since 03:10 UTC because deploy chg-retries by kiro likely caused incident inc-checkout (0.99); a human must lift the freeze', evidence: { changeId: 'chg-retries', confidence: 0.99 } },
    { id: 2, at: at(20), actor: 'bob', action: 'rollback.approve', target: 'rollback:rb-search', reason: 'approved by bob: matches the dashboards', evidence: { changeId: 'chg-search-flag', confidence: 0.9, evidenceKinds: ['before_after'] } },
    { id: 3, at: at(10), actor: 'alice', action: 'killswitch.engage', target: 'killswitch:automation', reason: 'rollout storm' },
    { id: 4, at: at(5), actor: 'alice', action: 'killswitch.release', target: 'killswitch:automation', reason: 'storm over' },
  ];
}

describe('plain language and an honest session in a browser', () => {
  let browser: Browser;
  let server: FakeDashboardServer;
  let page: Page;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    server = await startFakeDashboardServer(() => snapshot);
    server.tokens.set(OPERATOR_TOKEN, { name: 'alice', role: 'operator' });
    server.tokens.set(VIEWER_TOKEN, { name: 'wallboard', role: 'viewer' });
    server.audit = auditEntries();
    server.automation = makeAutomation({
      rollbacks: [
        makeRollback(now, 2, {
          id: 'rb-checkout',
          changeId: 'chg-retries',
          author: { type: 'ai_agent', name: 'kiro', agent: 'kiro' },
          summary: 'deploy chg-retries by AI agent kiro likely caused the anomaly on checkout (confidence 0.99; evidence: only the new version is affected; started right after the change)',
          evidence: topSuspect.evidence,
          evidenceAgainst: [AGAINST],
          links: { pr: PR, commit: COMMIT },
        }),
        makeRollback(now, 6, { id: 'rb-search', service: 'search', anomalyService: 'search', changeId: 'chg-search-flag' }),
      ],
      freezes: [makeFreeze(now, 7, { id: 'frz-checkout' })],
    });
    server.incidents.set(
      'inc-checkout',
      makeIncident(now, 4, { id: 'inc-checkout', severity: 'critical', title: "checkout error rate 9x — likely kiro's deploy 'Add retries to the order client' (v2.19.2)", alertIds: ['alert-checkout'] }),
    );
    ({ browser, page } = await openWatchedPage(server.url, { width: 1440, height: 1100 }, pageErrors, dialogs));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const session = () => page.getByRole('group', { name: 'Operator session' });
  const openAlerts = () => page.getByRole('list', { name: 'Open alerts' });
  const audit = () => page.getByRole('region', { name: 'Audit log' });

  async function signIn(token: string): Promise<void> {
    if ((await session().getByRole('button', { name: 'Sign out' }).count()) > 0) await session().getByRole('button', { name: 'Sign out' }).click();
    await session().getByRole('button', { name: 'Sign in with an API token' }).click();
    await page.getByLabel('API token').fill(token);
    await page.getByLabel('API token').press('Enter');
  }

  it('says a bad token is rejected at sign-in, before any action, and blames the token, not the server', async () => {
    await poll(() => page.getByRole('status', { name: 'Connection' }).innerText()).toContain('Connected');
    const before = server.requests.length;
    await signIn('cw_wrong-token');
    await poll(() => session().innerText()).toContain('Token rejected (401)');
    const since = server.requests.slice(before);
    expect(since.filter((request) => request.method !== 'GET')).toEqual([]);
    expect(since).toContainEqual(expect.objectContaining({ method: 'GET', url: '/api/v1/whoami', token: 'cw_wrong-token', status: 401 }));
    // The socket refuses the token too; the banner names that, and does not claim reads need signing in (they do not here).
    await poll(() => page.getByText('No live updates: the server rejected your API token').count()).toBe(1);
    expect(await page.getByText('only to signed-in users').count()).toBe(0);
    expect(await page.getByText('Sign out to watch without one').count()).toBe(1);
  });

  it('shows the role of a good token as soon as it is given', async () => {
    await signIn(OPERATOR_TOKEN);
    await poll(() => session().innerText()).toContain('Signed in as operator (alice)');
    expect(server.requests.filter((request) => request.url === '/api/v1/whoami' && request.token === OPERATOR_TOKEN)).toHaveLength(1);
    await poll(() => page.getByRole('status', { name: 'Connection' }).innerText()).toContain('Connected');
    expect(await page.getByText('No live updates: the server rejected your API token').count()).toBe(0);
  });

  it('names who decided a rollback, and when, on a 409', async () => {
    // Another operator approves rb-search behind this dashboard's back.
    const decidedAt = new Date(now - 60_000);
    Object.assign(server.automation!.rollbacks.find((rollback) => rollback.id === 'rb-search')!, {
      status: 'approved',
      decidedBy: 'bob',
      reason: 'approved by bob',
      updatedAt: decidedAt.toISOString(),
    });
    const search = page.getByRole('article', { name: 'Pending rollback of search' });
    await search.getByRole('button', { name: 'Approve…' }).click();
    await search.getByRole('button', { name: 'Approve rollback' }).click();
    const expected = `Already decided: bob approved this rollback at ${decidedAt.toISOString().slice(0, 19).replace('T', ' ')} UTC.`;
    await poll(() => search.getByRole('alert').innerText()).toBe(expected);
    expect(server.requests.at(-1)).toMatchObject({ url: '/api/v1/rollbacks/rb-search/approve', status: 409 });
  });

  it('shows evidence against a suspect apart, as such, on the alert and on the rollback', async () => {
    const card = openAlerts().getByRole('article').first();
    await card.getByRole('button', { name: /Show evidence/ }).click();
    const against = card.getByRole('list', { name: 'Evidence against' }).first();
    expect(await against.innerText()).toContain(AGAINST);
    expect(await card.getByRole('list', { name: 'Evidence for' }).first().innerText()).not.toContain('did not move');
    expect(await card.innerText()).toMatch(/Against:\s*error_rate of checkout did not move/i);

    const rollback = page.getByRole('article', { name: 'Pending rollback of checkout' });
    expect(await rollback.getByRole('list', { name: 'Evidence against' }).innerText()).toContain(AGAINST);
    expect(await rollback.innerText()).toContain('Why: only the new version is affected; started right after the change');
  });

  it('links the PR and commit on alert, incident and rollback cards', async () => {
    const card = openAlerts().getByRole('article').first();
    for (const scope of [card, page.getByRole('list', { name: 'Open incidents' }).getByRole('article').first(), page.getByRole('article', { name: 'Pending rollback of checkout' })]) {
      expect(await scope.getByRole('link', { name: 'Pull request' }).first().getAttribute('href')).toBe(PR);
      expect(await scope.getByRole('link', { name: 'Commit' }).first().getAttribute('href')).toBe(COMMIT);
    }
  });

  it('says author types and evidence kinds in words, and quotes no API path anywhere', async () => {
    await audit().getByRole('button', { name: 'Show audit log' }).click();
    await poll(() => audit().getByRole('list', { name: 'Audit entries' }).getByRole('listitem').count()).toBe(4);
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/\/api\/v1\//);
    expect(text).not.toMatch(/\b(ai_agent|ai_assisted|version_split|before_after)\b/);
    expect(text).toMatch(/AI agent\s*kiro/);
    expect(text).toMatch(/AI-assisted\s*fatima/);
    // The freeze explains itself from its fields; the gate's sentence (which quotes the lift call) is not shown.
    const freeze = page.getByRole('article', { name: 'Freeze: AI changes to checkout' });
    expect(await freeze.innerText()).toContain('Nothing more ships until a person lifts the freeze.');
    expect(await freeze.getByRole('button', { name: 'Lift freeze…' }).isEnabled()).toBe(true);
  });

  it('lists the audit log with who, what, when and why, filters it, and expands the evidence snapshot', async () => {
    const entries = audit().getByRole('list', { name: 'Audit entries' }).getByRole('listitem');
    const first = await entries.first().innerText();
    expect(first).toMatch(/alice\s*released the kill switch\s*killswitch:automation/);
    expect(first).toContain('Why: storm over');
    expect(await entries.nth(3).innerText()).toMatch(/policy\s*froze AI changes\s*freeze:frz-checkout/);

    await audit().getByLabel('Actor').fill('bob');
    await audit().getByRole('button', { name: 'Filter', exact: true }).click();
    await poll(() => entries.count()).toBe(1);
    expect(await entries.first().innerText()).toMatch(/bob\s*approved a rollback\s*rollback:rb-search/);
    expect(server.requests.at(-1)).toMatchObject({ url: '/api/v1/audit?actor=bob&limit=50', token: OPERATOR_TOKEN, status: 200 });
    await entries.first().getByText('Evidence snapshot').click();
    expect(await entries.first().locator('pre').innerText()).toContain('"changeId": "chg-search-flag"');

    await audit().getByLabel('Actor').fill('');
    await audit().getByLabel('Action').fill('killswitch.');
    await audit().getByRole('button', { name: 'Filter', exact: true }).click();
    await poll(() => entries.count()).toBe(2);
    await audit().getByRole('button', { name: 'Clear filters' }).click();
    await poll(() => entries.count()).toBe(4);
    await entries.nth(2).getByText('Evidence snapshot').click();
    await page.screenshot({ path: '/tmp/dashboard-plain-language.png', fullPage: true });
  });

  it('says the audit log needs a token when signed out, instead of loading it', async () => {
    await session().getByRole('button', { name: 'Sign out' }).click();
    await poll(() => audit().innerText()).toContain('shows it only to signed-in users');
    expect(await audit().getByRole('list', { name: 'Audit entries' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
