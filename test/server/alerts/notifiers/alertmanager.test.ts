/**
 * The Alertmanager-compatible notifier: Prometheus' fingerprint, the version-4 message field by
 * field, auth headers and redaction, its config, and a receiver that decodes what Alertmanager
 * sends, fed through the real path (notify stage → outbox → delivery worker): firing, then resolved,
 * with the acknowledgement in between never written for it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../../../server/alerts/delivery/worker.ts';
import { AlertmanagerNotifier, buildAlertmanagerMessage, labelsFingerprint, ZERO_TIME } from '../../../../server/alerts/notifiers/alertmanager.ts';
import { alertmanagerConfigSchema, notifyConfigSchema } from '../../../../server/alerts/notifiers/config.ts';
import { createNotifiers } from '../../../../server/alerts/notifiers/index.ts';
import { selectEndpoints } from '../../../../server/alerts/notifiers/match.ts';
import type { Notification } from '../../../../server/alerts/notifiers/types.ts';
import { freshNotifyState, writeNotification, type NotifyState } from '../../../../server/alerts/stages/notify.ts';
import { loadConfig } from '../../../../server/config.ts';
import { Store } from '../../../../server/store/store.ts';
import { problemsOf, yamlFile } from '../../../support/config-files.ts';
import { makeAlert, makeIncident } from '../../store/fixtures.ts';
import { captureLogger } from '../delivery/support.ts';
import { startAlertmanagerReceiver, type AlertmanagerReceiver } from './alertmanager-receiver.ts';

const PASSWORD = 'amPassw0rdVerySecret';
const TOKEN = 'amBearerT0kenVerySecret';

function notification(overrides: Partial<Notification> = {}): Notification {
  return { id: 'ntf-1', action: 'trigger', incident: makeIncident(), alerts: [makeAlert()], dashboardUrl: 'http://changewatch.local:8080/?incident=inc-1', ...overrides };
}

const config = (overrides: Record<string, unknown> = {}) => alertmanagerConfigSchema.parse({ name: 'am', type: 'alertmanager', url: 'http://127.0.0.1:9/hook', ...overrides });

describe('labelsFingerprint', () => {
  it("is Prometheus' labelSetToFingerprint (its own test vectors), as 16 hex digits", () => {
    expect(labelsFingerprint({})).toBe((14695981039346656037n).toString(16));
    expect(BigInt(`0x${labelsFingerprint({ name: 'garland, briggs', fear: 'love is not enough' })}`)).toBe(5799056148416392346n);
    expect(BigInt(`0x${labelsFingerprint({ 'first-label': 'first-label-value', 'second-label': 'second-label-value', 'third-label': 'third-label-value' })}`)).toBe(13843036195897128121n);
    expect(labelsFingerprint({ 'first-label': 'first-label-value' })).toMatch(/^[0-9a-f]{16}$/);
    expect(BigInt(`0x${labelsFingerprint({ 'first-label': 'first-label-value' })}`)).toBe(5146282821936882169n);
  });

  it('does not depend on key order and hashes UTF-8 bytes', () => {
    expect(labelsFingerprint({ a: '1', b: '2' })).toBe(labelsFingerprint({ b: '2', a: '1' }));
    expect(labelsFingerprint({ a: 'é' })).not.toBe(labelsFingerprint({ a: 'e' }));
  });
});

describe('buildAlertmanagerMessage', () => {
  it('maps an incident to a group and its alerts to alerts, field by field', () => {
    const second = makeAlert({ id: 'alert-2', metric: 'latency_p99', severity: 'warning', suspects: [], explanation: 'checkout latency_p99 is up.' });
    const message = buildAlertmanagerMessage(config(), notification({ alerts: [makeAlert(), second] }));
    expect(Object.keys(message).sort()).toEqual(['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version']);
    expect(message).toMatchObject({
      version: '4',
      groupKey: 'environment=prod,service=checkout',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'am',
      groupLabels: { environment: 'prod', service: 'checkout' },
      commonLabels: { service: 'checkout', environment: 'prod' },
      commonAnnotations: {},
      externalURL: 'http://changewatch.local:8080',
    });
    const [first, other] = message.alerts;
    expect(first).toEqual({
      status: 'firing',
      labels: { alertname: 'error_rate', service: 'checkout', environment: 'prod', severity: 'critical', change_id: 'chg-42' },
      annotations: {
        summary: makeAlert().explanation,
        description: expect.stringContaining('error rate of v2.4.0 pods is 11x that of v2.3.9 pods'),
        suspect_change: 'deploy chg-42 (v2.3.9 → v2.4.0) by AI agent kiro',
        suspect_author: 'kiro',
        suspect_author_type: 'ai_agent',
        suspect_confidence: '0.86',
      },
      startsAt: '2026-11-23T10:00:00.000Z',
      endsAt: ZERO_TIME,
      generatorURL: 'http://changewatch.local:8080/?incident=inc-1',
      fingerprint: labelsFingerprint(first!.labels),
    });
    expect(other!.labels).toEqual({ alertname: 'latency_p99', service: 'checkout', environment: 'prod', severity: 'warning' });
    expect(other!.annotations.description).toContain('No tracked change');
    expect(other!.fingerprint).not.toBe(first!.fingerprint);
  });

  it('resolves every alert on resolve, with endsAt its resolution; the same fingerprints as when firing', () => {
    const incident = makeIncident({ status: 'resolved', resolvedAt: '2026-11-23T10:20:00.000Z' });
    const alert = makeAlert({ status: 'resolved', resolvedAt: '2026-11-23T10:18:00.000Z' });
    const resolved = buildAlertmanagerMessage(config(), notification({ action: 'resolve', incident, alerts: [alert, makeAlert({ id: 'a2', metric: 'rps' })] }));
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts.map((a) => [a.status, a.endsAt])).toEqual([
      ['resolved', '2026-11-23T10:18:00.000Z'],
      ['resolved', '2026-11-23T10:20:00.000Z'],
    ]);
    expect(resolved.alerts[0]!.fingerprint).toBe(buildAlertmanagerMessage(config(), notification()).alerts[0]!.fingerprint);
  });

  it('lists a resolved child of a firing group as resolved, like send_resolved', () => {
    const message = buildAlertmanagerMessage(config(), notification({ alerts: [makeAlert(), makeAlert({ id: 'a2', metric: 'rps', status: 'resolved', resolvedAt: '2026-11-23T10:05:00.000Z' })] }));
    expect(message.status).toBe('firing');
    expect(message.alerts.map((a) => a.status)).toEqual(['firing', 'resolved']);
  });

  it('truncates to maxAlerts and counts the rest; externalURL from the config', () => {
    const alerts = ['a', 'b', 'c'].map((id) => makeAlert({ id, metric: `m_${id}` }));
    const message = buildAlertmanagerMessage(config({ maxAlerts: 2, externalURL: 'https://changewatch.example.com' }), notification({ alerts }));
    expect(message.alerts).toHaveLength(2);
    expect(message.truncatedAlerts).toBe(1);
    expect(message.externalURL).toBe('https://changewatch.example.com');
  });
});

describe('alertmanager config', () => {
  it('takes basic auth or a bearer token, not both', () => {
    expect(config({ basicAuth: { username: 'ops', password: PASSWORD } }).basicAuth).toEqual({ username: 'ops', password: PASSWORD });
    const both = alertmanagerConfigSchema.safeParse({ name: 'am', type: 'alertmanager', url: 'http://x/', basicAuth: { username: 'u', password: 'p' }, bearerToken: 't' });
    expect(both.success).toBe(false);
  });

  it('refuses literal secrets in the file and lists every problem at once', () => {
    const file = yamlFile(`notify:
  - { name: am1, type: alertmanager, url: "ftp://x/", basicAuth: { username: ops, password: hunter2hunter2 } }
  - { name: am2, type: alertmanager, url: "http://x/", bearerToken: literalToken123 }
  - { name: am3, type: alertmanager, url: "http://x/", bearerToken: \${AM_TOKEN}, basicAuth: { username: u, password: \${AM_PASSWORD} } }
`);
    const problems = problemsOf(() => loadConfig({ file, env: { AM_TOKEN: TOKEN, AM_PASSWORD: PASSWORD } }));
    expect(problems).toEqual([
      expect.stringMatching(/^notify\.0\.basicAuth\.password: secrets must come from the environment/),
      expect.stringMatching(/^notify\.1\.bearerToken: secrets must come from the environment/),
      expect.stringMatching(/^notify\.0\.url: must be an http/),
      'notify.2.bearerToken: give basicAuth or bearerToken, not both',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problems.join('\n')).not.toContain(PASSWORD);
  });

  it('accepts secrets from the environment', () => {
    const file = yamlFile('notify:\n  - { name: am, type: alertmanager, url: "http://x/", basicAuth: { username: ops, password: ${AM_PASSWORD} } }\n');
    const loaded = loadConfig({ file, env: { AM_PASSWORD: PASSWORD } });
    expect(loaded.notify[0]).toMatchObject({ type: 'alertmanager', basicAuth: { username: 'ops', password: PASSWORD }, maxAlerts: 0 });
  });
});

describe('AlertmanagerNotifier against a receiver', () => {
  let receiver: AlertmanagerReceiver;
  afterEach(async () => {
    await receiver?.close();
  });

  it('sends basic auth, and keeps the credentials out of failure reasons', async () => {
    const authorization = `Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`;
    receiver = await startAlertmanagerReceiver(authorization);
    const good = new AlertmanagerNotifier(config({ url: `${receiver.url}/hook`, basicAuth: { username: 'ops', password: PASSWORD } }));
    expect(await good.send(notification())).toEqual({ ok: true, status: 200 });
    expect(receiver.messages).toHaveLength(1);
    receiver.behave((request, response) => void response.writeHead(401).end(`rejected ${String(request.headers.authorization)}`));
    const outcome = await good.send(notification());
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(JSON.stringify(outcome)).not.toContain(PASSWORD);
    expect(JSON.stringify(outcome)).not.toContain(authorization.split(' ')[1]);
  });

  it('sends a bearer token', async () => {
    receiver = await startAlertmanagerReceiver(`Bearer ${TOKEN}`);
    expect(await new AlertmanagerNotifier(config({ url: `${receiver.url}/hook`, bearerToken: TOKEN })).send(notification())).toEqual({ ok: true, status: 200 });
    expect(await new AlertmanagerNotifier(config({ url: `${receiver.url}/hook` })).send(notification())).toMatchObject({ ok: false, retryable: false });
  });
});

describe('firing then resolved through the notify stage, the outbox and the delivery worker', () => {
  let store: Store;
  let receiver: AlertmanagerReceiver;
  beforeAll(async () => {
    store = await Store.open();
    receiver = await startAlertmanagerReceiver(`Bearer ${TOKEN}`);
  });
  afterAll(async () => {
    await receiver.close();
    await store.close();
  });

  it('delivers a firing group, nothing on acknowledge, then the resolved group, all decoded as Alertmanager messages', async () => {
    const configs = notifyConfigSchema.parse([{ name: 'am-e2e', type: 'alertmanager', url: `${receiver.url}/alerts`, bearerToken: TOKEN }]);
    const worker = new DeliveryWorker({ store, notifiers: createNotifiers(configs), logger: captureLogger(), backoff: { baseMs: 1, maxMs: 1 } });
    const target = { notify: configs, publicUrl: 'http://changewatch.local:8080' };
    const alerts = [makeAlert({ id: 'am-a1' }), makeAlert({ id: 'am-a2', metric: 'latency_p99', severity: 'warning' })];
    const base = makeIncident({ id: 'am-inc', alertIds: ['am-a1', 'am-a2'] });
    let state: NotifyState = freshNotifyState(Date.now());
    const step = async (action: 'trigger' | 'acknowledge' | 'resolve', incident = base, stepAlerts = alerts) => {
      state = await store.transaction((tx) => writeNotification(tx, target, action, incident, stepAlerts, state, undefined, Date.now()));
      return worker.processDue();
    };

    expect(await step('trigger')).toMatchObject({ delivered: 1 });
    expect(await step('acknowledge', { ...base, status: 'acknowledged', acknowledgedBy: 'alice' })).toMatchObject({ delivered: 0 });
    expect(selectEndpoints(configs, base, alerts, { action: 'acknowledge', repeat: false })).toEqual([]);
    const resolvedAlerts = alerts.map((alert) => ({ ...alert, status: 'resolved' as const, resolvedAt: '2026-11-23T10:30:00.000Z' }));
    expect(await step('resolve', { ...base, status: 'resolved', resolvedAt: '2026-11-23T10:31:00.000Z' }, resolvedAlerts)).toMatchObject({ delivered: 1 });

    expect(receiver.refused).toEqual([]);
    expect(receiver.requests.map((request) => request.path)).toEqual(['/alerts', '/alerts']);
    const [firing, resolved] = receiver.messages;
    expect(firing).toMatchObject({ status: 'firing', receiver: 'am-e2e', groupKey: base.groupKey, externalURL: 'http://changewatch.local:8080' });
    expect(firing!.alerts.map((alert) => [alert.labels.alertname, alert.status, alert.endsAt])).toEqual([
      ['error_rate', 'firing', ZERO_TIME],
      ['latency_p99', 'firing', ZERO_TIME],
    ]);
    expect(resolved!.status).toBe('resolved');
    expect(resolved!.alerts.map((alert) => [alert.labels.alertname, alert.status, alert.endsAt])).toEqual([
      ['error_rate', 'resolved', '2026-11-23T10:30:00.000Z'],
      ['latency_p99', 'resolved', '2026-11-23T10:30:00.000Z'],
    ]);
    expect(resolved!.alerts.map((alert) => alert.fingerprint)).toEqual(firing!.alerts.map((alert) => alert.fingerprint));
    expect((await store.outbox.list({ endpoint: 'am-e2e' })).map((row) => [row.action, row.status])).toEqual([
      ['trigger', 'delivered'],
      ['resolve', 'delivered'],
    ]);
    await worker.stop(0);
  });

  it('is refused by the receiver when the shape is wrong (the schema is not a rubber stamp)', async () => {
    const response = await fetch(`${receiver.url}/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...buildAlertmanagerMessage(config(), notification()), version: '3' }),
    });
    expect(response.status).toBe(400);
    expect(receiver.refused.at(-1)).toContain('version');
  });
});
