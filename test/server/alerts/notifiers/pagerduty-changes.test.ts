/** PagerDuty Change Events: the body field by field, where it goes, and the config that turns it on. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeEndpointsFor, changeNotificationId } from '../../../../server/alerts/notifiers/changes.ts';
import { notifyConfigSchema, pagerDutyConfigSchema } from '../../../../server/alerts/notifiers/config.ts';
import { createChangeSenders } from '../../../../server/alerts/notifiers/index.ts';
import { buildPagerDutyChangeEvent, pagerDutyChangeEventsUrl, PagerDutyChangeSender, type PagerDutyChangeEvent } from '../../../../server/alerts/notifiers/pagerduty-changes.ts';
import { makeChange } from '../../store/fixtures.ts';
import { accept, startReceiver, type Receiver } from './receiver.ts';

const ROUTING_KEY = 'R0UT1NGKEYsecret0123456789abcdef';

describe('PagerDuty change events', () => {
  it('builds the Change Events v2 body with the change and its AI provenance', () => {
    const change = makeChange({
      summary: 'Refactor payment retries',
      author: { type: 'ai_agent', name: 'kiro', agent: 'kiro', model: 'model-x', reviewedBy: ['alice'] },
      diff: { files: 3, linesAdded: 120, linesRemoved: 4 },
      links: { pr: 'https://git.example.com/pr/1', commit: 'abc123' },
    });
    const event = buildPagerDutyChangeEvent(ROUTING_KEY, { id: 'chg_1', change, dashboardUrl: 'http://changewatch.local/' });
    expect(Object.keys(event).sort()).toEqual(['links', 'payload', 'routing_key']);
    expect(Object.keys(event.payload).sort()).toEqual(['custom_details', 'source', 'summary', 'timestamp']);
    expect(event).toEqual({
      routing_key: ROUTING_KEY,
      payload: {
        summary: 'deploy chg-42 of checkout (v2.3.9 → v2.4.0) in prod by AI agent kiro: Refactor payment retries',
        timestamp: '2026-11-23T09:59:20.000Z',
        source: 'checkout',
        custom_details: {
          change_id: 'chg-42',
          type: 'deploy',
          service: 'checkout',
          environment: 'prod',
          version: 'v2.4.0',
          previous_version: 'v2.3.9',
          summary: 'Refactor payment retries',
          author_type: 'ai_agent',
          author: 'kiro',
          ai_authored: true,
          ai_agent: 'kiro',
          ai_model: 'model-x',
          reviewed_by: ['alice'],
          diff: { files: 3, linesAdded: 120, linesRemoved: 4 },
          pr: 'https://git.example.com/pr/1',
          commit: 'abc123',
        },
      },
      links: [
        { href: 'https://git.example.com/pr/1', text: 'Pull request' },
        { href: 'http://changewatch.local/', text: 'changewatch' },
      ],
    });
    const human = buildPagerDutyChangeEvent(ROUTING_KEY, { id: 'chg_2', change: makeChange({ author: { type: 'human', name: 'bob' }, summary: 'x'.repeat(2000) }), dashboardUrl: 'http://d/' });
    expect(human.payload.custom_details.ai_authored).toBe(false);
    expect(human.payload.summary.length).toBe(1024);
    expect(human.links).toEqual([{ href: 'http://d/', text: 'changewatch' }]);
  });

  it('goes to /v2/change/enqueue on the Events API origin unless changeEventsUrl says otherwise', () => {
    const base = { name: 'pd', type: 'pagerduty', routingKey: ROUTING_KEY };
    expect(pagerDutyChangeEventsUrl(pagerDutyConfigSchema.parse(base))).toBe('https://events.pagerduty.com/v2/change/enqueue');
    expect(pagerDutyChangeEventsUrl(pagerDutyConfigSchema.parse({ ...base, url: 'https://events.eu.pagerduty.com/v2/enqueue' }))).toBe('https://events.eu.pagerduty.com/v2/change/enqueue');
    expect(pagerDutyChangeEventsUrl(pagerDutyConfigSchema.parse({ ...base, changeEventsUrl: 'http://127.0.0.1:1/changes' }))).toBe('http://127.0.0.1:1/changes');
  });

  it('is off unless changeEvents: true; match filters changes by service, environment and author type, not severity', () => {
    const configs = notifyConfigSchema.parse([
      { name: 'pd-off', type: 'pagerduty', routingKey: 'k' },
      { name: 'pd-on', type: 'pagerduty', routingKey: 'k', changeEvents: true, match: { severity: 'critical' } },
      { name: 'pd-ai', type: 'pagerduty', routingKey: 'k', changeEvents: true, match: { authorType: ['ai_agent', 'ai_assisted'], service: 'checkout' } },
      { name: 'g', type: 'grafana', url: 'http://g', token: 't', changes: false },
      { name: 'g2', type: 'grafana', url: 'http://g', token: 't', match: { environment: 'staging' } },
      { name: 'hook', type: 'webhook', url: 'http://h', secret: 'whsec_dGVzdA==' },
    ]);
    expect([...createChangeSenders(configs).keys()]).toEqual(['pd-on', 'pd-ai', 'g2']);
    expect(changeEndpointsFor(configs, makeChange())).toEqual(['pd-on', 'pd-ai']);
    expect(changeEndpointsFor(configs, makeChange({ author: { type: 'human', name: 'bob' } }))).toEqual(['pd-on']);
    expect(changeEndpointsFor(configs, makeChange({ environment: 'staging', service: 'search' }))).toEqual(['pd-on', 'g2']);
  });

  it('ids are the same for one change at one endpoint, and differ across endpoints and changes', () => {
    expect(changeNotificationId('pd', 'chg-1')).toBe(changeNotificationId('pd', 'chg-1'));
    expect(changeNotificationId('pd', 'chg-1')).toMatch(/^chg_[0-9a-f]{32}$/);
    expect(changeNotificationId('pd', 'chg-1')).not.toBe(changeNotificationId('pd2', 'chg-1'));
    expect(changeNotificationId('pd', 'chg-1')).not.toBe(changeNotificationId('pd', 'chg-2'));
  });
});

describe('PagerDutyChangeSender against a receiver', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver(accept);
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('posts one change event and keeps the routing key out of reasons', async () => {
    const sender = new PagerDutyChangeSender(pagerDutyConfigSchema.parse({ name: 'pd', type: 'pagerduty', url: `${receiver.url}/v2/enqueue`, routingKey: ROUTING_KEY, changeEvents: true }));
    expect(await sender.sendChange({ id: 'chg_1', change: makeChange(), dashboardUrl: 'http://d/' })).toEqual({ ok: true, status: 202 });
    expect(receiver.requests.map((r) => [r.method, r.path])).toEqual([['POST', '/v2/change/enqueue']]);
    expect((JSON.parse(receiver.requests[0]!.body) as PagerDutyChangeEvent).routing_key).toBe(ROUTING_KEY);
    receiver.behave((request, response) => void response.writeHead(400).end(`invalid routing key ${(JSON.parse(request.body) as PagerDutyChangeEvent).routing_key}`));
    const outcome = await sender.sendChange({ id: 'chg_1', change: makeChange(), dashboardUrl: 'http://d/' });
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(JSON.stringify(outcome)).not.toContain(ROUTING_KEY);
  });
});
