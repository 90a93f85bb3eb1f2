/** The incident, notify and maintenance sections as the config loader composes them. */
import { describe, expect, it } from 'vitest';
import { problemsOf, yamlFile } from '../../../support/config-files.ts';
import { loadConfig } from '../../../../server/config.ts';


const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('incident configuration', () => {
  it('defaults to one incident per service with Alertmanager-like timers', () => {
    const config = loadConfig({ env: {} });
    expect(config.incidents).toEqual({ groupBy: ['service'], groupByCulprit: true, culpritMinConfidence: 0.5, groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 14_400_000, flapWindowMs: 300_000 });
    expect(config.notify).toEqual([]);
    expect(config.maintenance).toEqual([]);
    expect(config.auth.anonymousRead).toBe(true);
  });

  it('reads notify:, incidents: and maintenance: with secrets from the environment', () => {
    const file = yamlFile(`
notify:
  - { name: oncall, type: pagerduty, url: "http://127.0.0.1:9/pd", routingKey: "\${PD_ROUTING_KEY}", match: { severity: [critical, warning] } }
  - { name: audit-hook, type: webhook, url: "https://hooks.example.com/cw", secret: "\${HOOK_SECRET}" }
incidents: { groupBy: [service, environment], groupWaitMs: 10000 }
maintenance:
  - { name: db-upgrade, matchers: { service: [orders] }, startsAt: "2026-12-01T02:00:00Z", endsAt: "2026-12-01T04:00:00Z" }
`);
    const config = loadConfig({ file, env: { PD_ROUTING_KEY: 'rk-123', HOOK_SECRET: SECRET } });
    expect(config.notify.map((n) => n.name)).toEqual(['oncall', 'audit-hook']);
    expect(config.notify[0]).toMatchObject({ routingKey: 'rk-123', match: { severity: ['critical', 'warning'] } });
    expect(config.incidents).toMatchObject({ groupBy: ['service', 'environment'], groupWaitMs: 10_000, flapWindowMs: 300_000 });
    expect(config.maintenance[0]).toMatchObject({ name: 'db-upgrade', comment: '' });
  });

  it('lists every problem at once, refuses secrets written into the file, and never echoes them', () => {
    const file = yamlFile(`
notify:
  - { name: oncall, type: pagerduty, routingKey: literal-routing-key-value }
  - { name: hook, type: webhook, url: "https://hooks.example.com/cw", secret: "${SECRET}" }
incidents: { groupBy: [team] }
maintenance:
  - { name: backwards, matchers: {}, startsAt: "2026-12-01T04:00:00Z", endsAt: "2026-12-01T02:00:00Z" }
`);
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems.filter((p) => p.startsWith('notify.0.routingKey') || p.startsWith('notify.1.secret'))).toHaveLength(2);
    expect(problems.some((p) => p.startsWith('incidents.groupBy'))).toBe(true);
    expect(problems.some((p) => p.startsWith('maintenance.0'))).toBe(true);
    expect(problems.join('\n')).not.toContain('literal-routing-key-value');
    expect(problems.join('\n')).not.toContain(SECRET.slice(6));
  });
});
