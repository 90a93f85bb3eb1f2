/** The Grafana notifier: annotation bodies for incidents and changes, the bearer token, config and which notices it takes. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grafanaConfigSchema, notifyConfigSchema } from '../../../../server/alerts/notifiers/config.ts';
import { changeNotificationId } from '../../../../server/alerts/notifiers/changes.ts';
import { buildChangeAnnotation, buildIncidentAnnotation, GrafanaNotifier, type GrafanaAnnotation } from '../../../../server/alerts/notifiers/grafana.ts';
import { selectEndpoints, takesNotice } from '../../../../server/alerts/notifiers/match.ts';
import type { Notification } from '../../../../server/alerts/notifiers/types.ts';
import { loadConfig } from '../../../../server/config.ts';
import { problemsOf, yamlFile } from '../../../support/config-files.ts';
import { makeAlert, makeChange, makeIncident } from '../../store/fixtures.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const TOKEN = 'glsa_serviceAccountT0kenVerySecret';

function notification(overrides: Partial<Notification> = {}): Notification {
  return { id: 'ntf-1', action: 'trigger', incident: makeIncident(), alerts: [makeAlert()], dashboardUrl: 'http://changewatch.local/?incident=inc-1', ...overrides };
}

const config = (overrides: Record<string, unknown> = {}) => grafanaConfigSchema.parse({ name: 'grafana', type: 'grafana', url: 'http://127.0.0.1:9', token: TOKEN, ...overrides });

describe('grafana annotations', () => {
  it('marks an incident onset as a point, tagged', () => {
    const annotation = buildIncidentAnnotation(config({ dashboardUID: 'abc123', tags: ['team:payments'] }), notification());
    expect(annotation).toEqual({
      time: Date.parse('2026-11-23T10:00:00.000Z'),
      tags: ['changewatch', 'incident', 'severity:critical', 'service:checkout', 'environment:prod', 'metric:error_rate', 'change:chg-42', 'author_type:ai_agent', 'team:payments'],
      text: expect.stringContaining('checkout error_rate anomaly'),
      dashboardUID: 'abc123',
    });
    expect(annotation.text).toContain('Most likely deploy chg-42 (v2.3.9 → v2.4.0) by AI agent kiro, 86%.');
    expect(annotation.text).toContain('<a href="http://changewatch.local/?incident=inc-1">');
    expect(annotation.timeEnd).toBeUndefined();
  });

  it('marks a resolution as a region from the onset, without a dashboard: organization-wide', () => {
    const incident = makeIncident({ status: 'resolved', resolvedAt: '2026-11-23T10:25:00.000Z' });
    const annotation = buildIncidentAnnotation(config(), notification({ action: 'resolve', incident }));
    expect(annotation.time).toBe(Date.parse('2026-11-23T10:00:00.000Z'));
    expect(annotation.timeEnd).toBe(Date.parse('2026-11-23T10:25:00.000Z'));
    expect(annotation.tags).toContain('resolved');
    expect(annotation.text.startsWith('[RESOLVED] ')).toBe(true);
    expect('dashboardUID' in annotation).toBe(false);
  });

  it('marks a change as a point at its time with its provenance, HTML escaped', () => {
    const change = makeChange({ summary: 'Retry <payments> & more', author: { type: 'ai_agent', name: 'kiro', agent: 'kiro', model: 'm-1', reviewedBy: ['alice'] }, links: { pr: 'https://git.example.com/pr/7' } });
    const annotation = buildChangeAnnotation(config(), { id: changeNotificationId('grafana', change.id), change, dashboardUrl: 'http://changewatch.local/' });
    expect(annotation).toEqual({
      time: change.timestamp,
      tags: ['changewatch', 'change', 'change_type:deploy', 'service:checkout', 'environment:prod', 'author_type:ai_agent', 'agent:kiro', 'change:chg-42'],
      text: [
        'deploy chg-42 of checkout (v2.3.9 → v2.4.0) in prod by AI agent kiro',
        'Retry &lt;payments&gt; &amp; more',
        'model m-1',
        'reviewed by alice',
        '<a href="https://git.example.com/pr/7">Pull request</a>',
      ].join('\n'),
    });
  });

  it('takes triggers once and resolves; not acknowledgements or repeats', () => {
    const grafana = config();
    expect(takesNotice(grafana, { action: 'trigger', repeat: false })).toBe(true);
    expect(takesNotice(grafana, { action: 'trigger', repeat: true })).toBe(false);
    expect(takesNotice(grafana, { action: 'acknowledge', repeat: false })).toBe(false);
    expect(takesNotice(grafana, { action: 'resolve', repeat: false })).toBe(true);
    const configs = notifyConfigSchema.parse([
      { name: 'g', type: 'grafana', url: 'http://g', token: TOKEN },
      { name: 'pd', type: 'pagerduty', url: 'http://pd/v2/enqueue', routingKey: 'k' },
    ]);
    expect(selectEndpoints(configs, makeIncident(), [makeAlert()], { action: 'trigger', repeat: true })).toEqual(['pd']);
    expect(selectEndpoints(configs, makeIncident(), [makeAlert()])).toEqual(['g', 'pd']);
  });
});

describe('grafana config', () => {
  it('needs its token from the environment; changes are on by default', () => {
    const problems = problemsOf(() => loadConfig({ file: yamlFile('notify:\n  - { name: g, type: grafana, url: "https://grafana.example.com", token: glsa_literal123 }\n  - { name: g2, type: grafana, url: "https://grafana.example.com" }\n'), env: {} }));
    expect(problems).toEqual([expect.stringMatching(/^notify\.0\.token: secrets must come from the environment/), expect.stringMatching(/^notify\.1\.token: /)]);
    expect(problems.join('\n')).not.toContain('glsa_literal123');
    const loaded = loadConfig({ file: yamlFile('notify:\n  - { name: g, type: grafana, url: "https://grafana.example.com", token: ${GRAFANA_TOKEN} }\n'), env: { GRAFANA_TOKEN: TOKEN } });
    expect(loaded.notify[0]).toMatchObject({ type: 'grafana', token: TOKEN, changes: true, tags: [] });
  });
});

describe('GrafanaNotifier against a receiver', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver((_request, response) => void response.writeHead(200, { 'content-type': 'application/json' }).end('{"message":"Annotation added","id":1}'));
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('posts to /api/annotations with the service account token, and keeps the token out of reasons', async () => {
    const notifier = new GrafanaNotifier(config({ url: `${receiver.url}/grafana/` }));
    expect(await notifier.send(notification())).toEqual({ ok: true, status: 200 });
    expect(await notifier.sendChange({ id: 'chg_x', change: makeChange(), dashboardUrl: 'http://changewatch.local/' })).toEqual({ ok: true, status: 200 });
    expect(receiver.requests.map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['POST', '/grafana/api/annotations', `Bearer ${TOKEN}`],
      ['POST', '/grafana/api/annotations', `Bearer ${TOKEN}`],
    ]);
    expect((JSON.parse(receiver.requests[1]!.body) as GrafanaAnnotation).tags).toContain('change');
    receiver.behave((request, response) => void response.writeHead(401).end(`bad token ${String(request.headers.authorization)}`));
    const outcome = await notifier.send(notification());
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
  });
});
