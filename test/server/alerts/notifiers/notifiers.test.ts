import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pagerDutyConfigSchema, slackConfigSchema, webhookConfigSchema } from '../../../../server/alerts/notifiers/config.ts';
import { headline } from '../../../../server/alerts/notifiers/describe.ts';
import { post, parseRetryAfter } from '../../../../server/alerts/notifiers/http.ts';
import { PagerDutyNotifier, pagerDutyDedupKey, type PagerDutyEvent } from '../../../../server/alerts/notifiers/pagerduty.ts';
import { Redactor } from '../../../../server/alerts/notifiers/redact.ts';
import { SlackNotifier, type SlackMessage } from '../../../../server/alerts/notifiers/slack.ts';
import { verifyWebhook } from '../../../../server/alerts/notifiers/standard-webhooks.ts';
import type { Notification } from '../../../../server/alerts/notifiers/types.ts';
import { WebhookNotifier, type WebhookBody } from '../../../../server/alerts/notifiers/webhook.ts';
import { makeAlert, makeIncident } from '../../store/fixtures.ts';
import { accept, startReceiver, type Receiver } from './receiver.ts';

const ROUTING_KEY = 'R0UT1NGKEYsecret0123456789abcdef';
const HOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: 'ntf-1',
    action: 'trigger',
    incident: makeIncident(),
    alerts: [makeAlert()],
    dashboardUrl: 'http://changewatch.local:8080/incidents/inc-1',
    ...overrides,
  };
}

describe('notifiers against a real HTTP receiver', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  describe('pagerduty', () => {
    const notifier = () =>
      new PagerDutyNotifier(pagerDutyConfigSchema.parse({ name: 'oncall', type: 'pagerduty', url: `${receiver.url}/v2/enqueue`, routingKey: ROUTING_KEY }));

    it('sends an Events API v2 trigger, field by field', async () => {
      expect(await notifier().send(notification())).toEqual({ ok: true, status: 202 });
      expect(receiver.requests).toHaveLength(1);
      const request = receiver.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v2/enqueue');
      expect(request.headers['content-type']).toBe('application/json');
      const event = JSON.parse(request.body) as PagerDutyEvent;
      expect(event.routing_key).toBe(ROUTING_KEY);
      expect(event.event_action).toBe('trigger');
      expect(event.dedup_key).toBe('changewatch/inc-1');
      expect(event.dedup_key).toBe(pagerDutyDedupKey('inc-1'));
      const payload = event.payload!;
      expect(payload.summary).toBe(`checkout error_rate anomaly: ${makeAlert().explanation}`);
      expect(payload.summary.length).toBeLessThanOrEqual(1024);
      expect(payload.source).toBe('checkout');
      expect(payload.severity).toBe('critical');
      expect(payload.timestamp).toBe('2026-11-23T10:00:00.000Z');
      expect(payload.component).toBe('error_rate');
      expect(payload.group).toBe('prod');
      expect(payload.class).toBe('anomaly');
      expect(payload.custom_details).toMatchObject({
        incident_id: 'inc-1',
        status: 'firing',
        explanation: makeAlert().explanation,
        top_suspect: 'deploy chg-42 (v2.3.9 → v2.4.0) by AI agent kiro',
        dashboard: 'http://changewatch.local:8080/incidents/inc-1',
      });
      const [suspect] = payload.custom_details.suspects as Array<Record<string, unknown>>;
      expect(suspect).toEqual({
        change_id: 'chg-42',
        confidence: 0.86,
        type: 'deploy',
        service: 'checkout',
        author_type: 'ai_agent',
        author: 'kiro',
        version: 'v2.4.0',
        previous_version: 'v2.3.9',
        evidence: makeAlert().suspects[0]!.evidence,
      });
      expect(payload.custom_details.alerts).toEqual([
        expect.objectContaining({ id: 'alert-1', metric: 'error_rate', observed: 0.12, expected: 0.01, score: 0.97 }),
      ]);
      expect(event.links).toEqual([{ href: 'http://changewatch.local:8080/incidents/inc-1', text: 'Incident in changewatch' }]);
      expect(event.client).toBe('changewatch');
    });

    it('sends acknowledge and resolve with the same dedup_key and no payload', async () => {
      await notifier().send(notification({ id: 'n2', action: 'acknowledge' }));
      await notifier().send(notification({ id: 'n3', action: 'resolve' }));
      const events = receiver.requests.map((r) => JSON.parse(r.body) as PagerDutyEvent);
      expect(events).toEqual([
        { routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: 'changewatch/inc-1' },
        { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'changewatch/inc-1' },
      ]);
    });

    it('keeps the summary within 1024 characters and maps warning severity', async () => {
      const long = makeAlert({ explanation: 'x'.repeat(5000), severity: 'warning' });
      await notifier().send(notification({ alerts: [long], incident: makeIncident({ severity: 'warning' }) }));
      const event = JSON.parse(receiver.requests[0]!.body) as PagerDutyEvent;
      expect(event.payload!.summary.length).toBe(1024);
      expect(event.payload!.summary.endsWith('…')).toBe(true);
      expect(event.payload!.severity).toBe('warning');
    });

    it('defaults the URL to the PagerDuty Events API', () => {
      expect(pagerDutyConfigSchema.parse({ name: 'pd', type: 'pagerduty', routingKey: 'k' }).url).toBe('https://events.pagerduty.com/v2/enqueue');
    });
  });

  describe('slack', () => {
    it('posts blocks with the explanation, top suspect, author type, confidence and dashboard buttons', async () => {
      const slack = new SlackNotifier(slackConfigSchema.parse({ name: 'team', type: 'slack', url: `${receiver.url}/services/T000/B000/XXXXXXXXXXXX` }));
      expect(await slack.send(notification())).toEqual({ ok: true, status: 202 });
      const message = JSON.parse(receiver.requests[0]!.body) as SlackMessage;
      const text = JSON.stringify(message.blocks);
      expect(message.text).toContain('checkout error_rate anomaly');
      expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'checkout error_rate anomaly', emoji: true } });
      expect(text).toContain('checkout error rate is 12%');
      expect(text).toContain('*Top suspect*\\ndeploy chg-42 (v2.3.9 → v2.4.0) by AI agent kiro');
      expect(text).toContain('*Author type*\\nAI agent');
      expect(text).toContain('*Confidence*\\n86%');
      expect(text).toContain('onset 40 s after the deploy');
      const actions = message.blocks.find((block) => block.type === 'actions') as { elements: Array<{ url: string; text: { text: string } }> };
      expect(actions.elements.map((button) => [button.text.text, button.url])).toEqual([
        ['Open incident', 'http://changewatch.local:8080/incidents/inc-1'],
        ['Dashboard', 'http://changewatch.local:8080/'],
      ]);
    });

    it('escapes mrkdwn control characters and says when no change is implicated', async () => {
      const slack = new SlackNotifier(slackConfigSchema.parse({ name: 'team', type: 'slack', url: receiver.url }));
      const alert = makeAlert({ explanation: 'latency <p99> & co', suspects: [] });
      await slack.send(notification({ action: 'resolve', alerts: [alert] }));
      const text = JSON.stringify(JSON.parse(receiver.requests[0]!.body));
      expect(text).toContain('latency &lt;p99&gt; &amp; co');
      expect(text).toContain('no change implicated');
      expect(text).toContain('[RESOLVED] checkout error_rate anomaly');
    });

    it('says a late trigger is for an incident already resolved', () => {
      expect(headline(notification({ incident: { ...makeIncident(), status: 'resolved' } }))).toBe('[LATE, ALREADY RESOLVED] checkout error_rate anomaly');
      expect(headline(notification())).toBe('checkout error_rate anomaly');
    });
  });

  describe('webhook', () => {
    it('signs per Standard Webhooks; the signature verifies and the id is stable across retries', async () => {
      let clock = Date.parse('2026-11-23T10:02:00.000Z');
      const hook = new WebhookNotifier(webhookConfigSchema.parse({ name: 'audit-hook', type: 'webhook', url: `${receiver.url}/hook`, secret: HOOK_SECRET }), () => clock);
      await hook.send(notification());
      clock += 30_000;
      await hook.send(notification());
      const [first, retry] = receiver.requests;
      for (const request of [first!, retry!]) {
        const nowSeconds = Number(request.headers['webhook-timestamp']);
        expect(() => verifyWebhook(HOOK_SECRET, request.headers as Record<string, string>, request.body, { nowSeconds })).not.toThrow();
        expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      }
      expect(first!.headers['webhook-id']).toBe('ntf-1');
      expect(retry!.headers['webhook-id']).toBe('ntf-1');
      expect(first!.headers['webhook-timestamp']).toBe(String(Date.parse('2026-11-23T10:02:00.000Z') / 1000));
      const body = JSON.parse(first!.body) as WebhookBody;
      expect(body.type).toBe('incident.triggered');
      expect(body.timestamp).toBe('2026-11-23T10:02:00.000Z');
      expect(body.data.incident).toEqual(makeIncident());
      expect(body.data.topSuspect?.changeId).toBe('chg-42');
      // A tampered body fails verification.
      expect(() =>
        verifyWebhook(HOOK_SECRET, first!.headers as Record<string, string>, first!.body.replace('critical', 'info'), {
          nowSeconds: Number(first!.headers['webhook-timestamp']),
        }),
      ).toThrow(/no webhook-signature matches/);
    });
  });

  describe('failure classification', () => {
    const redactor = new Redactor([]);
    const send = (path = '/', timeoutMs = 2_000, signal?: AbortSignal) =>
      post({ url: `${receiver.url}${path}`, body: '{}', headers: {}, timeoutMs, redactor, ...(signal ? { signal } : {}) });

    it('treats 2xx as delivered', async () => {
      receiver.behave((_req, res) => res.writeHead(200).end());
      expect(await send()).toEqual({ ok: true, status: 200 });
    });

    it('retries 5xx, 408 and 429, honouring Retry-After in seconds or as an HTTP-date', async () => {
      receiver.behave((_req, res) => res.writeHead(500).end('boom'));
      expect(await send()).toMatchObject({ ok: false, retryable: true, reason: expect.stringContaining('HTTP 500') });
      expect(await send()).not.toHaveProperty('retryAfterMs');
      receiver.behave((_req, res) => res.writeHead(503, { 'retry-after': '7' }).end());
      expect(await send()).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7_000 });
      receiver.behave((_req, res) => res.writeHead(408).end());
      expect(await send()).toMatchObject({ ok: false, retryable: true });
      const later = new Date(Date.now() + 60_000).toUTCString();
      receiver.behave((_req, res) => res.writeHead(429, { 'retry-after': later }).end());
      const outcome = await send();
      expect(outcome).toMatchObject({ ok: false, retryable: true });
      const retryAfterMs = (outcome as { retryAfterMs: number }).retryAfterMs;
      expect(retryAfterMs).toBeGreaterThan(55_000);
      expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it('does not retry other 4xx', async () => {
      receiver.behave((_req, res) => res.writeHead(400, { 'retry-after': '5' }).end('{"message":"Event object is invalid"}'));
      expect(await send()).toEqual({ ok: false, retryable: false, reason: expect.stringContaining('HTTP 400') });
      receiver.behave((_req, res) => res.writeHead(404).end());
      expect(await send()).toMatchObject({ ok: false, retryable: false });
    });

    it('retries timeouts and unreachable receivers', async () => {
      receiver.behave(() => {}); // never answers
      expect(await send('/', 200)).toEqual({ ok: false, retryable: true, reason: expect.stringContaining('no response') });
      const { url } = receiver;
      await receiver.close();
      receiver = await startReceiver(accept);
      expect(await post({ url, body: '{}', headers: {}, timeoutMs: 1_000, redactor })).toEqual({
        ok: false,
        retryable: true,
        reason: expect.stringContaining('cannot reach'),
      });
    });

    it('marks an attempt aborted by the caller as aborted', async () => {
      receiver.behave(() => {});
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      expect(await send('/', 5_000, controller.signal)).toMatchObject({ ok: false, retryable: true, aborted: true });
    });

    it('parses Retry-After', () => {
      const now = Date.parse('2026-11-23T10:00:00.000Z');
      expect(parseRetryAfter('120', now)).toBe(120_000);
      expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
      expect(parseRetryAfter('Mon, 23 Nov 2026 09:00:00 GMT', now)).toBe(0);
      expect(parseRetryAfter('soon', now)).toBeUndefined();
      expect(parseRetryAfter(null, now)).toBeUndefined();
    });
  });

  describe('secrets', () => {
    it('never puts routing keys, webhook secrets or URL tokens in failure reasons', async () => {
      // A hostile or buggy receiver that echoes everything it got back in its error body.
      receiver.behave((req, res) => res.writeHead(400).end(`bad request ${req.path} ${JSON.stringify(req.headers)} ${req.body}`));
      const slackPath = '/services/T0SECRET/B0SECRET/slAckT0kenV3rySecret';
      const notifiers = [
        new PagerDutyNotifier(pagerDutyConfigSchema.parse({ name: 'pd', type: 'pagerduty', url: `${receiver.url}/enqueue?token=qu3ryT0kenSecret`, routingKey: ROUTING_KEY })),
        new SlackNotifier(slackConfigSchema.parse({ name: 'slack', type: 'slack', url: `${receiver.url}${slackPath}` })),
        new WebhookNotifier(webhookConfigSchema.parse({ name: 'hook', type: 'webhook', url: `http://user:pa55w0rdSecret@127.0.0.1:${new URL(receiver.url).port}/h`, secret: HOOK_SECRET })),
      ];
      const reasons: string[] = [];
      for (const notifier of notifiers) {
        const outcome = await notifier.send(notification());
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) reasons.push(outcome.reason);
      }
      // Also when the receiver is unreachable.
      await receiver.close();
      for (const notifier of notifiers) {
        const outcome = await notifier.send(notification());
        if (!outcome.ok) reasons.push(outcome.reason);
      }
      receiver = await startReceiver();
      expect(reasons).toHaveLength(6);
      const all = reasons.join('\n');
      for (const secret of [ROUTING_KEY, 'qu3ryT0kenSecret', 'slAckT0kenV3rySecret', 'T0SECRET', 'pa55w0rdSecret', HOOK_SECRET, HOOK_SECRET.slice(6)]) {
        expect(all).not.toContain(secret);
      }
      expect(all).toContain('HTTP 400');
      expect(all).toContain('[redacted]');
    });

    it('keeps secrets out of config validation errors', () => {
      const result = webhookConfigSchema.safeParse({ name: 'hook', type: 'webhook', url: 'https://x.example/h', secret: 'not-a-whsec-TOPSECRET' });
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error)).not.toContain('TOPSECRET');
      expect(result.error?.issues[0]?.message).toBe('must have the form whsec_<base64 key>');
    });
  });
});
