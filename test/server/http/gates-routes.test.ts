/**
 * Who may ask the canary gates, and what a malformed question gets, against a real service (mock
 * broker, PGlite store) with anonymous reads off: Argo passes a viewer token in a header, Flagger
 * cannot, so a viewer token may ride in the webhook's metadata — never a more powerful one, and
 * it is never echoed. Every refusal is non-2xx, so Flagger halts (fails closed) and Argo errs.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { argoMeasurement, argoWebMetric, flaggerPassed, flaggerWebhook } from '../../support/canary-controllers.ts';
import { startTestService, type TestService } from '../../support/service-harness.ts';
import { testAuthConfigFile, TEST_TOKENS } from '../../support/tokens.ts';

const brokers = inject('kafkaBrokers');
let service: TestService;

beforeAll(async () => {
  service = await startTestService(brokers, { env: { CHANGEWATCH_CONFIG: testAuthConfigFile({ anonymousRead: false }) } });
});
afterAll(async () => {
  await service?.stop();
});

const analysis = () => `${service.url}/api/v1/gates/analysis?service=checkout&version=v2.4.0&environment=prod`;
const hook = (type: string) => `${service.url}/api/v1/gates/flagger/${type}`;
const podinfo = (metadata?: Record<string, string>) => ({ name: 'podinfo', namespace: 'test', phase: 'Progressing' as const, checksum: 'abc123', ...(metadata ? { metadata } : {}) });

async function raw(url: string, init: RequestInit): Promise<{ status: number; body: { error?: { code: string; message: string } } & Record<string, unknown> }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as never };
}

describe('canary gates: authentication', () => {
  it('Argo: the AnalysisTemplate header carries the token; without one the measurement is an error', async () => {
    const missing = await argoWebMetric(analysis());
    expect(missing.status).toBe(401);
    expect(argoMeasurement(missing)).toBe('Error');
    const wrong = await argoWebMetric(analysis(), [{ key: 'Authorization', value: 'Bearer cw_not-a-configured-token' }]);
    expect(wrong.status).toBe(401);
    const viewer = await argoWebMetric(analysis(), [{ key: 'Authorization', value: `Bearer ${TEST_TOKENS.viewer}` }]);
    expect(viewer.status).toBe(200);
    expect(viewer.body).toMatchObject({ service: 'checkout', version: 'v2.4.0', environment: 'prod', implicated: false, frozen: false, healthy: true, score: 0, alerts: [] });
    expect(argoMeasurement(viewer)).toBe('Successful');
  });

  it('Flagger: no token halts; a viewer token in metadata passes and is never echoed; a stronger or unknown one is refused', async () => {
    const none = await flaggerWebhook(hook('confirm-rollout'), podinfo());
    expect(none.status).toBe(401);
    expect(flaggerPassed(none)).toBe(false);

    const viewer = await flaggerWebhook(hook('confirm-rollout'), podinfo({ token: TEST_TOKENS.viewer, version: 'v1.2.3' }));
    expect(viewer.status).toBe(200);
    expect(viewer.body).toMatchObject({ verdict: 'advance', service: 'podinfo', version: 'v1.2.3', canary: { name: 'podinfo', namespace: 'test' } });
    expect(viewer.text).not.toContain(TEST_TOKENS.viewer);

    for (const role of ['ingest', 'operator', 'admin'] as const) {
      const strong = await flaggerWebhook(hook('confirm-rollout'), podinfo({ token: TEST_TOKENS[role] }));
      expect([role, strong.status]).toEqual([role, 403]);
      expect(strong.text).toMatch(/must have the viewer role/);
      expect(strong.text).not.toContain(TEST_TOKENS[role]);
    }
    const unknown = await flaggerWebhook(hook('rollout'), podinfo({ token: 'cw_not-a-configured-token' }));
    expect(unknown.status).toBe(401);
    expect(unknown.text).not.toContain('cw_not-a-configured-token');
  });

  it('Flagger behind a proxy that adds the header: a bearer token of any role works as for any read', async () => {
    for (const role of ['viewer', 'operator'] as const) {
      const answer = await raw(hook('pre-rollout'), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKENS[role]}` }, body: JSON.stringify(podinfo()) });
      expect([role, answer.status]).toEqual([role, 200]);
    }
  });
});

describe('canary gates: malformed questions', () => {
  const asViewer = { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKENS.viewer}` };

  it('refuses a hook type that asks nothing, an unknown one, and a payload that is not Flagger\'s', async () => {
    for (const type of ['post-rollout', 'event', 'nonsense']) {
      const answer = await raw(hook(type), { method: 'POST', headers: asViewer, body: JSON.stringify(podinfo()) });
      expect([type, answer.status, answer.body.error?.code]).toEqual([type, 404, 'CW_NOT_FOUND']);
    }
    const noName = await raw(hook('rollout'), { method: 'POST', headers: asViewer, body: JSON.stringify({ namespace: 'test', phase: 'Progressing' }) });
    expect(noName).toMatchObject({ status: 400, body: { error: { code: 'CW_BAD_REQUEST' } } });
    expect(noName.body.error!.message).toMatch(/"name" must be a non-empty string/);
    const badMetadata = await raw(hook('rollout'), { method: 'POST', headers: asViewer, body: JSON.stringify({ ...podinfo(), metadata: { version: 3 } }) });
    expect(badMetadata.body.error!.message).toMatch(/"metadata.version" must be a string/);
    const badAuthor = await raw(hook('rollout'), { method: 'POST', headers: asViewer, body: JSON.stringify(podinfo({ author: 'robot' })) });
    expect(badAuthor.status).toBe(400);
    const notJson = await raw(hook('rollout'), { method: 'POST', headers: asViewer, body: '{"name": "podinfo",' });
    expect(notJson).toMatchObject({ status: 400, body: { error: { code: 'CW_EVENT_INVALID_JSON' } } });
  });

  it('ignores fields newer Flagger versions may add, and takes the service from metadata when the canary is named otherwise', async () => {
    const answer = await raw(hook('confirm-promotion'), {
      method: 'POST',
      headers: asViewer,
      body: JSON.stringify({ ...podinfo({ service: 'checkout', environment: 'prod' }), type: 'confirm-promotion' }),
    });
    expect(answer).toMatchObject({ status: 200, body: { service: 'checkout', environment: 'prod', verdict: 'advance' } });
  });

  it('Argo: service is required, minConfidence and author are checked', async () => {
    const get = (query: string) => raw(`${service.url}/api/v1/gates/analysis?${query}`, { headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` } });
    expect((await get('version=v1')).status).toBe(400);
    expect((await get('service=checkout&minConfidence=1.5')).status).toBe(400);
    expect((await get('service=checkout&author=robot')).status).toBe(400);
    expect((await get('service=checkout&minConfidence=0.9&author=human')).body).toMatchObject({ minConfidence: 0.9, healthy: true });
  });
});
