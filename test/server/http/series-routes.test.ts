import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeriesPointsResponse } from '../../../contract/series.ts';
import { Changewatch } from '../../../server/core.ts';
import { createHttpApp, type EventPublisher } from '../../../server/http/app.ts';
import { createLogger } from '../../../server/log.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../server/pipeline/pipeline.ts';
import { HISTORY_BUCKET_MS, HISTORY_SPAN_MS } from '../../../server/pipeline/series-history.ts';
import type { ReplayRecord } from '../../../server/wire/schemas.ts';
import { aChange, httpDeadLetterOf, metricRecords, stepSeries, T0 } from '../../support/factories.ts';
import { bearer, testAuthenticator, TEST_TOKENS } from '../../support/tokens.ts';

const publisher: EventPublisher = { ready: true, publish: async () => {}, consumedOffsets: () => ({}), assignedPartitions: () => [] };
const KEY = 'checkout\u0000latency_p99\u0000prod';
const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A real core fed a step on checkout's latency (an alert opens) and changes on checkout, its dependency and an unrelated service. */
async function serve(anonymousRead = true): Promise<{ url: string; core: Changewatch }> {
  const catalog = [
    { name: 'checkout', dependsOn: ['payments'] },
    { name: 'payments', dependsOn: ['ledger'] },
  ];
  const core = new Changewatch(createPipeline(DEFAULT_PIPELINE_OPTIONS, catalog));
  const deadLetter = httpDeadLetterOf();
  const points = stepSeries({ stepMs: 10_000, normal: 200, anomalous: 20 });
  const onset = points[200]!.timestamp;
  const changes = [
    aChange({ id: 'chg-ledger', service: 'ledger', timestamp: onset - 10 * 60_000, author: { type: 'human', name: 'ada' } }),
    aChange({ id: 'chg-checkout', service: 'checkout', timestamp: onset - 60_000 }),
    aChange({ id: 'chg-search', service: 'search', timestamp: onset - 60_000 }),
    aChange({ id: 'chg-too-old', service: 'checkout', timestamp: T0 - 4 * 3_600_000 }),
  ];
  const records = [...metricRecords(points), ...changes.map((change) => ({ change }))].sort((a, b) => timeOf(a) - timeOf(b));
  for (const record of records) core.handle(record, deadLetter);
  const app = createHttpApp({ core, publisher, log: createLogger('silent'), authenticator: testAuthenticator({ anonymousRead }), maxBodyBytes: 100_000, maxFutureSkewMs: 3_600_000, dashboardDir: '/nonexistent' });
  const server = app.listen(0);
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, core };
}

function timeOf(record: ReplayRecord): number {
  return 'metric' in record ? record.metric.timestamp : 'change' in record ? record.change.timestamp : 0;
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json() };
}

describe('GET /api/v1/series/:key/points and /api/v1/alerts/:id/points', () => {
  it("serves an alert's series: points with the band, and the changes on its service and dependencies in the window", async () => {
    const { url, core } = await serve();
    const alert = core.alerts.list({ limit: 10 }).find((a) => a.metric === 'latency_p99')!;
    expect(alert).toBeDefined();
    const { status, body } = await getJson(`${url}/api/v1/alerts/${alert.id}/points`);
    expect(status).toBe(200);
    const response = body as SeriesPointsResponse;
    expect(response.series).toEqual({ key: KEY, service: 'checkout', metric: 'latency_p99', kind: 'latency' });
    expect(response.step).toBe(HISTORY_BUCKET_MS);
    expect(response.to - response.from).toBe(HISTORY_SPAN_MS);
    // 220 points every 10 s span 37 minutes: 13 three-minute buckets, the last ones at five times the level.
    expect(response.points).toHaveLength(13);
    expect(response.points[0]).toMatchObject({ time: T0 + HISTORY_BUCKET_MS / 2, value: expect.closeTo(100, 0) });
    expect(response.points.at(-1)!.value).toBeGreaterThan(400);
    expect(response.points.every((p) => p.expected !== null && p.lower! <= p.upper!)).toBe(true);
    expect(response.versions).toEqual([]);
    expect(response.services).toEqual(['checkout', 'payments', 'ledger']);
    expect(response.changes.map((c) => c.id)).toEqual(['chg-ledger', 'chg-checkout']);
    expect(response.changes[0]!.author).toEqual({ type: 'human', name: 'ada' });

    const byKey = await getJson(`${url}/api/v1/series/${encodeURIComponent(KEY)}/points`);
    expect(byKey).toEqual({ status: 200, body });
  });

  it('narrows to from/to and merges buckets for a coarser step', async () => {
    const { url } = await serve();
    const from = T0 + 3 * HISTORY_BUCKET_MS;
    const to = T0 + 9 * HISTORY_BUCKET_MS;
    const { status, body } = await getJson(`${url}/api/v1/series/${encodeURIComponent(KEY)}/points?from=${new Date(from).toISOString()}&to=${to}&step=${2 * HISTORY_BUCKET_MS}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ from, to, step: 2 * HISTORY_BUCKET_MS });
    // Steps are aligned to multiples of their width (T0 is one), so the window's edges are partial steps.
    expect(body.points.map((p: { time: number }) => (p.time - T0) / HISTORY_BUCKET_MS)).toEqual([3, 5, 7, 9]);
    // The ledger change (onset - 10 min = T0 + 23 min) is inside; checkout's, a minute before the onset at T0 + 33 min, is not.
    expect(body.changes.map((c: { id: string }) => c.id)).toEqual(['chg-ledger']);
  });

  it('answers 404 for an unknown series or alert, and 400 with a clear message for bad parameters', async () => {
    const { url } = await serve();
    expect(await getJson(`${url}/api/v1/series/nope/points`)).toMatchObject({ status: 404, body: { error: { code: 'CW_NOT_FOUND' } } });
    expect(await getJson(`${url}/api/v1/alerts/alrt-nope/points`)).toMatchObject({ status: 404, body: { error: { code: 'CW_NOT_FOUND', message: 'no alert alrt-nope' } } });
    const series = `${url}/api/v1/series/${encodeURIComponent(KEY)}/points`;
    const bad = async (query: string) => {
      const { status, body } = await getJson(`${series}?${query}`);
      return [status, body.error.code, body.error.message];
    };
    expect(await bad(`from=${T0 + 1}&to=${T0}`)).toEqual([400, 'CW_BAD_REQUEST', '"from" must be before "to"']);
    expect(await bad('from=yesterday')).toEqual([400, 'CW_BAD_REQUEST', '"from" must be an ISO-8601 time or epoch milliseconds']);
    expect((await bad('step=5m'))[2]).toMatch(/^"step" must be a whole number of milliseconds/);
    expect((await bad('step=0'))[0]).toBe(400);
    expect((await bad(`step=${HISTORY_SPAN_MS + 1}`))[0]).toBe(400);
    expect(await bad(`from=${T0 - 10 * 86_400_000}&to=${T0}&step=1`)).toEqual([400, 'CW_BAD_REQUEST', '"from" to "to" in steps of "step" would be more than 1000 points']);
    expect(await bad('step=1&step=2')).toEqual([400, 'CW_BAD_REQUEST', '"step" must be given once']);
  });

  it('follows the read rule: 401 without a token while anonymous reads are off, 200 with a viewer token', async () => {
    const { url, core } = await serve(false);
    const alert = core.alerts.list({ limit: 1 })[0]!;
    for (const path of [`/api/v1/series/${encodeURIComponent(KEY)}/points`, `/api/v1/alerts/${alert.id}/points`]) {
      expect([path, (await fetch(`${url}${path}`)).status]).toEqual([path, 401]);
      expect([path, (await fetch(`${url}${path}`, { headers: bearer(TEST_TOKENS.viewer) })).status]).toEqual([path, 200]);
    }
  });
});
