import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeStatsResponse } from '../../../contract/alert.ts';
import { Changewatch } from '../../../server/core.ts';
import { createHttpApp, type EventPublisher } from '../../../server/http/app.ts';
import type { EventKind } from '../../../server/wire/decode.ts';
import { createLogger } from '../../../server/log.ts';
import { ServiceMetrics } from '../../../server/metrics.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../server/pipeline/pipeline.ts';
import { aChange, httpDeadLetterOf, metricRecords, stepSeries, T0 } from '../../support/factories.ts';
import { scrape } from '../../support/prometheus.ts';
import { bearer, testAuthenticator, TEST_TOKENS } from '../../support/tokens.ts';

/** Records what the HTTP edge would have produced to Kafka. */
class RecordingPublisher implements EventPublisher {
  ready = true;
  /** When set, `publish` rejects with it, as a producer does when the brokers do not acknowledge. */
  failure: Error | undefined;
  published: Array<{ kind: EventKind; key: string; value: unknown }> = [];
  async publish(kind: EventKind, messages: Array<{ key: string; value: string }>): Promise<void> {
    if (this.failure) throw this.failure;
    for (const m of messages) this.published.push({ kind, key: m.key, value: JSON.parse(m.value) });
  }
  consumedOffsets(): Record<string, string> {
    return { 't:0': '7' };
  }
  assignedPartitions(): string[] {
    return ['t:0'];
  }
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function serve(options: { dashboardDir?: string; metrics?: ServiceMetrics; anonymousRead?: boolean } = {}): Promise<{ url: string; core: Changewatch; publisher: RecordingPublisher }> {
  const core = new Changewatch(createPipeline(DEFAULT_PIPELINE_OPTIONS));
  const publisher = new RecordingPublisher();
  const app = createHttpApp({
    core,
    publisher,
    log: createLogger('silent'),
    authenticator: testAuthenticator(options.anonymousRead === undefined ? {} : { anonymousRead: options.anonymousRead }),
    maxBodyBytes: 100_000,
    maxFutureSkewMs: 3_600_000,
    dashboardDir: options.dashboardDir ?? '/nonexistent',
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  const server = app.listen(0);
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, core, publisher };
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('HTTP API', () => {
  it('reports health, and readiness from the Kafka edge', async () => {
    const { url, publisher } = await serve();
    expect(await getJson(`${url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await getJson(`${url}/readyz`)).status).toBe(200);
    publisher.ready = false;
    expect(await getJson(`${url}/readyz`)).toEqual({ status: 503, body: { ready: false, kafka: 'not connected' } });
  });

  it('lists alerts with filters, finds one by id, and 404s an unknown one with a stable code', async () => {
    const { url, core } = await serve();
    for (const record of [{ change: aChange({ timestamp: T0 + 1_900_000 }) }, ...metricRecords(stepSeries({ normal: 200, anomalous: 5 }))]) core.handle(record, httpDeadLetterOf());
    const { body } = await getJson(`${url}/api/v1/alerts?status=firing&service=checkout`);
    expect(body.alerts).toHaveLength(1);
    expect((await getJson(`${url}/api/v1/alerts?service=nope`)).body.alerts).toEqual([]);
    expect((await getJson(`${url}/api/v1/alerts/${body.alerts[0].id}`)).body.alert.id).toBe(body.alerts[0].id);
    expect(await getJson(`${url}/api/v1/alerts/alrt-missing`)).toEqual({ status: 404, body: { error: { code: 'CW_NOT_FOUND', message: 'no alert alrt-missing' } } });
    expect((await getJson(`${url}/api/v1/alerts?limit=0`)).body.error.code).toBe('CW_BAD_REQUEST');
    expect((await getJson(`${url}/api/v1/alerts?status=sleeping`)).status).toBe(400);
    expect((await getJson(`${url}/api/v1/changes`)).body.changes.map((c: { id: string }) => c.id)).toEqual(['chg-1']);
    // The dashboard's /changes/:id deep link reads one change by id.
    expect((await getJson(`${url}/api/v1/changes/chg-1`)).body.change.id).toBe('chg-1');
    expect(await getJson(`${url}/api/v1/changes/chg-missing`)).toEqual({ status: 404, body: { error: { code: 'CW_NOT_FOUND', message: 'no change chg-missing' } } });
  });

  it('reports header counters that match what the alert API lists for the same state', async () => {
    const { url, core } = await serve();
    for (const service of ['checkout', 'search', 'cart']) for (const record of metricRecords(stepSeries({ service, normal: 200, anomalous: 5 }))) core.handle(record, httpDeadLetterOf());
    const counts = async () => {
      const { stats } = (await getJson(`${url}/api/v1/status`)).body;
      const listed = async (status: string) => (await getJson(`${url}/api/v1/alerts?status=${status}`)).body.alerts.length;
      return { header: { firing: stats.alertsFiring, acknowledged: stats.alertsAcknowledged }, api: { firing: await listed('firing'), acknowledged: await listed('acknowledged') } };
    };
    const opened = await counts();
    expect(opened.header).toEqual({ firing: 3, acknowledged: 0 });
    expect(opened.api).toEqual(opened.header);
    core.acknowledge([(await getJson(`${url}/api/v1/alerts?status=firing&service=search`)).body.alerts[0].id]);
    const acknowledged = await counts();
    expect(acknowledged.header).toEqual({ firing: 2, acknowledged: 1 });
    expect(acknowledged.api).toEqual(acknowledged.header);
    // The socket's counters are the same function the status route answers with.
    expect(core.stats(true)).toMatchObject({ alertsFiring: 2, alertsAcknowledged: 1 });
  });

  it('computes change failure rates by author type over a range', async () => {
    const { url, core } = await serve();
    core.handle({ change: aChange({ timestamp: T0 + 1_900_000 }) }, httpDeadLetterOf());
    core.handle({ change: aChange({ id: 'chg-2', service: 'search', author: { type: 'human', name: 'ana' }, timestamp: T0 + 1_800_000 }) }, httpDeadLetterOf());
    for (const record of metricRecords(stepSeries({ normal: 200, anomalous: 5 }))) core.handle(record, httpDeadLetterOf());
    const from = new Date(T0).toISOString();
    const { status, body } = await getJson(`${url}/api/v1/stats/changes?from=${from}&to=${T0 + 86_400_000}`);
    expect(status).toBe(200);
    const stats = body as ChangeStatsResponse;
    expect(stats.byAuthorType.human).toEqual({ changes: 1, linkedToIncident: 0, failureRate: 0 });
    expect(stats.byAuthorType.ai_agent.changes).toBe(1);
    expect(stats.byAgent.kiro!.changes).toBe(1);
    expect((await getJson(`${url}/api/v1/stats/changes?from=soon`)).body.error.code).toBe('CW_BAD_REQUEST');
  });

  it('accepts a batch of events, produces the valid ones keyed by service, and reports the rest per item', async () => {
    const { url, publisher } = await serve();
    const post = (body: string) => fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(TEST_TOKENS.ingest) }, body });
    const now = Date.now();
    const res = await post(JSON.stringify([{ metric: { service: 'checkout', metric: 'error_rate', value: 0.1, timestamp: new Date(now).toISOString() } }, { service: { name: 'checkout', dependsOn: ['payments'] } }, { metric: { service: 'checkout', metric: 'x', value: 1, timestamp: now + 86_400_000 } }]));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2, rejected: [{ index: 2, error: { code: 'CW_EVENT_TIMESTAMP', message: expect.stringMatching(/in the future/) } }] });
    expect(publisher.published).toEqual([
      { kind: 'metric', key: 'checkout', value: { service: 'checkout', metric: 'error_rate', value: 0.1, timestamp: now } },
      { kind: 'service', key: 'checkout', value: { name: 'checkout', dependsOn: ['payments'] } },
    ]);
    expect((await post('{"events": 3}')).status).toBe(400);
    const notJson = await post('{');
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe('CW_EVENT_INVALID_JSON');
    publisher.failure = new Error('broker down');
    const unacknowledged = await post(JSON.stringify([{ service: { name: 'checkout' } }]));
    expect(unacknowledged.status).toBe(503);
    expect((await unacknowledged.json()).error.code).toBe('CW_KAFKA_UNAVAILABLE');
    publisher.ready = false;
    const unavailable = await post('[]');
    expect(unavailable.status).toBe(503);
    expect((await unavailable.json()).error.code).toBe('CW_KAFKA_UNAVAILABLE');
  });

  it('takes events only with an ingest token or above: 401 without or with a wrong one, 403 for a viewer', async () => {
    const { url, publisher } = await serve();
    const body = JSON.stringify([{ service: { name: 'checkout' } }]);
    const post = (headers: Record<string, string>) => fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const noToken = await post({});
    expect(noToken.status).toBe(401);
    expect((await noToken.json()).error.code).toBe('CW_AUTH_UNAUTHORIZED');
    expect((await post(bearer('cw_not-a-configured-token'))).status).toBe(401);
    const viewer = await post(bearer(TEST_TOKENS.viewer));
    expect(viewer.status).toBe(403);
    expect((await viewer.json()).error).toMatchObject({ code: 'CW_AUTH_FORBIDDEN', details: { required: 'ingest', role: 'viewer' } });
    expect(publisher.published).toEqual([]);
    for (const role of ['ingest', 'operator', 'admin'] as const) expect((await post(bearer(TEST_TOKENS[role]))).status).toBe(202);
    expect(publisher.published).toHaveLength(3);
  });

  it('says who a token is at GET /api/v1/whoami: its name and role, anonymous without one, 401 for a bad one', async () => {
    const { url } = await serve();
    const whoami = async (headers: Record<string, string>) => {
      const res = await fetch(`${url}/api/v1/whoami`, { headers });
      return { status: res.status, body: await res.json() };
    };
    expect(await whoami(bearer(TEST_TOKENS.operator))).toEqual({ status: 200, body: { name: 'test-operator', role: 'operator', anonymousReads: true } });
    expect(await whoami(bearer(TEST_TOKENS.viewer))).toEqual({ status: 200, body: { name: 'test-viewer', role: 'viewer', anonymousReads: true } });
    expect(await whoami({})).toEqual({ status: 200, body: { name: 'anonymous', anonymousReads: true } });
    // A wrong token is refused even though it is not needed to read: the sign-in form asks to know at once.
    expect(await whoami(bearer('cw_not-a-configured-token'))).toEqual({
      status: 401,
      body: { error: { code: 'CW_AUTH_UNAUTHORIZED', message: 'the API token is not valid' } },
    });
  });

  it('answers GET /api/v1/whoami without a token with 401 when reads need one', async () => {
    const { url } = await serve({ anonymousRead: false });
    const anonymous = await fetch(`${url}/api/v1/whoami`);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe('CW_AUTH_UNAUTHORIZED');
    const admin = await fetch(`${url}/api/v1/whoami`, { headers: bearer(TEST_TOKENS.admin) });
    expect(await admin.json()).toEqual({ name: 'test-admin', role: 'admin', anonymousReads: false });
  });

  it('answers unknown API routes with a JSON 404 and lists the error registry', async () => {
    const { url } = await serve();
    expect((await getJson(`${url}/api/v2/nothing`)).body.error.code).toBe('CW_NOT_FOUND');
    const { body } = await getJson(`${url}/api/v1/errors`);
    expect(body.errors.map((e: { code: string }) => e.code)).toContain('CW_EVENT_SCHEMA');
  });
});

/** A built dashboard's stand-in: index.html and one asset. */
function dashboardDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cw-dashboard-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>changewatch</title>');
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1);');
  return dir;
}

describe('unknown paths and the dashboard routes', () => {
  it("answers the dashboard's own routes and deep links with index.html, its files as they are", async () => {
    const { url } = await serve({ dashboardDir: dashboardDir() });
    for (const route of ['/', '/alerts/alrt-3641772df8d985da', '/incidents/inc-1', '/changes/chg-123', '/alerts/a%20b']) {
      const res = await fetch(`${url}${route}`);
      expect([route, res.status, res.headers.get('content-type')]).toEqual([route, 200, 'text/html; charset=utf-8']);
      expect(await res.text()).toContain('<title>changewatch</title>');
    }
    const asset = await fetch(`${url}/assets/app.js`);
    expect([asset.status, await asset.text()]).toEqual([200, 'console.log(1);']);
  });

  it('answers every other path with a JSON 404 from the error registry, whatever the method', async () => {
    const { url } = await serve({ dashboardDir: dashboardDir() });
    const paths = ['/metrics', '/nope', '/alerts', '/alerts/a/b', '/incidents', '/assets/missing.js', '/favicon.ico', '/api/v1/nothing', '/api', '/healthz/x', '/socket.iox'];
    for (const route of paths) {
      const res = await fetch(`${url}${route}`);
      expect([route, res.status, res.headers.get('content-type')]).toEqual([route, 404, 'application/json; charset=utf-8']);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('CW_NOT_FOUND');
    }
    const post = await fetch(`${url}/alerts/a1`, { method: 'POST' });
    expect([post.status, ((await post.json()) as { error: { code: string } }).error.code]).toEqual([404, 'CW_NOT_FOUND']);
  });

  it('answers 404 JSON everywhere but the API when no dashboard is built', async () => {
    const { url } = await serve();
    for (const route of ['/', '/alerts/a1']) {
      const res = await fetch(`${url}${route}`);
      expect([route, res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([route, 404, 'CW_NOT_FOUND']);
    }
  });
});

describe('GET /metrics', () => {
  it('renders the registry in the Prometheus text format', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    metrics.recordsIn.inc({ topic: 'changewatch.telemetry' }, 3);
    const { url } = await serve({ metrics });
    const scraped = await scrape(`${url}/metrics`);
    expect(scraped.family('changewatch_records_in_total').type).toBe('COUNTER');
    expect(scraped.value('changewatch_records_in_total', { topic: 'changewatch.telemetry' })).toBe(3);
  });

  it('follows the read rule: anonymous while auth.anonymousRead is true, else a viewer token or above', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const { url } = await serve({ metrics, anonymousRead: false });
    const anonymous = await fetch(`${url}/metrics`);
    expect([anonymous.status, ((await anonymous.json()) as { error: { code: string } }).error.code]).toEqual([401, 'CW_AUTH_UNAUTHORIZED']);
    expect((await fetch(`${url}/metrics`, { headers: bearer('cw_not-a-configured-token') })).status).toBe(401);
    for (const role of ['viewer', 'ingest', 'operator', 'admin'] as const) expect((await scrape(`${url}/metrics`, bearer(TEST_TOKENS[role]))).families.size).toBeGreaterThan(0);
    const open = await serve({ metrics });
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
  });
});
