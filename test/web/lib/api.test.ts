import { describe, expect, it } from 'vitest';
import {
  ApiClient,
  ApiError,
  BAD_RESPONSE,
  INVALID_INPUT,
  NETWORK_ERROR,
  decodeApiError,
  explainApiError,
} from '../../../web/src/lib/api.ts';
import { makeFreeze, makeIncident, makeRollback, makeSilence } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');

interface SentRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch stub answering each request with the next scripted response, recording what was sent. */
function scripted(...responses: Array<Response | Error>): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  return {
    sent,
    fetch: async (input, init) => {
      sent.push({
        url: String(input),
        method: init?.method ?? 'GET',
        headers: { ...(init?.headers as Record<string, string>) },
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      });
      const next = responses.shift();
      if (next === undefined) throw new Error('no scripted response left');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const errorResponse = (status: number, code: string, message: string) => Response.json({ error: { code, message } }, { status });

describe('ApiClient requests', () => {
  it('sends each mutation to its route with the Bearer token and a JSON body', async () => {
    const rollback = makeRollback(now, 3);
    const incident = makeIncident(now, 5);
    const freeze = makeFreeze(now, 8);
    const server = scripted(
      Response.json({ rollback: { ...rollback, status: 'approved' } }),
      Response.json({ rollback: { ...rollback, status: 'denied' } }),
      Response.json({ engaged: true, by: 'alice', reason: 'storm', since: new Date(now).toISOString() }),
      Response.json({ freeze: { ...freeze, active: false } }),
      Response.json({ incident: { ...incident, status: 'acknowledged' } }),
      Response.json({ incident: { ...incident, status: 'resolved' } }),
    );
    const api = new ApiClient({ fetch: server.fetch, token: () => 'tok-123' });

    expect((await api.approveRollback('rb/1', ' looks right ')).status).toBe('approved');
    expect((await api.denyRollback('rb-2', 'the spike is a load test')).status).toBe('denied');
    expect((await api.setKillSwitch(true, 'storm')).engaged).toBe(true);
    expect((await api.liftFreeze('frz-8', 'fixed forward')).active).toBe(false);
    expect((await api.acknowledgeIncident('inc-5')).status).toBe('acknowledged');
    expect((await api.resolveIncident('inc-5')).status).toBe('resolved');

    expect(server.sent.map(({ method, url, body }) => [method, url, body])).toEqual([
      ['POST', '/api/v1/rollbacks/rb%2F1/approve', { comment: 'looks right' }],
      ['POST', '/api/v1/rollbacks/rb-2/deny', { reason: 'the spike is a load test' }],
      ['POST', '/api/v1/killswitch', { engaged: true, reason: 'storm' }],
      ['POST', '/api/v1/freezes/frz-8/lift', { reason: 'fixed forward' }],
      ['POST', '/api/v1/incidents/inc-5/acknowledge', {}],
      ['POST', '/api/v1/incidents/inc-5/resolve', {}],
    ]);
    for (const request of server.sent) {
      expect(request.headers.authorization).toBe('Bearer tok-123');
      expect(request.headers['content-type']).toBe('application/json');
    }
  });

  it('lists open incidents, without an Authorization header when signed out', async () => {
    const incidents = [makeIncident(now, 2), makeIncident(now, 9, { status: 'acknowledged' })];
    const server = scripted(Response.json({ incidents }));
    const api = new ApiClient({ fetch: server.fetch, token: () => undefined });

    await expect(api.listIncidents()).resolves.toEqual(incidents);
    expect(server.sent[0]!.url).toBe('/api/v1/incidents?status=firing%2Cacknowledged');
    expect(server.sent[0]!.method).toBe('GET');
    expect(server.sent[0]!.headers.authorization).toBeUndefined();
  });

  it('reads the token at request time, so signing in takes effect at once', async () => {
    let token: string | undefined;
    const server = scripted(Response.json({ incidents: [] }), Response.json({ incidents: [] }));
    const api = new ApiClient({ fetch: server.fetch, token: () => token });
    await api.listIncidents();
    token = 'fresh';
    await api.listIncidents();
    expect(server.sent.map((request) => request.headers.authorization)).toEqual([undefined, 'Bearer fresh']);
  });

  it('refuses an empty reason before sending anything', async () => {
    const server = scripted();
    const api = new ApiClient({ fetch: server.fetch, token: () => 'tok' });
    for (const call of [() => api.denyRollback('rb-1', '  '), () => api.setKillSwitch(true, ''), () => api.liftFreeze('frz-1', '\n')]) {
      await expect(call()).rejects.toMatchObject({ status: 0, code: INVALID_INPUT });
    }
    expect(server.sent).toEqual([]);
  });
});

describe('ApiClient silences', () => {
  it('lists, creates and expires silences on their routes', async () => {
    const silence = makeSilence(now, 2);
    const server = scripted(
      Response.json({ silences: [silence] }),
      Response.json({ silence }, { status: 201 }),
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
    );
    const api = new ApiClient({ fetch: server.fetch, token: () => 'tok-123' });

    await expect(api.listSilences()).resolves.toEqual([silence]);
    const created = await api.createSilence({
      // An empty matcher list is left out rather than sent (the server refuses empty lists).
      matchers: { service: ['checkout'], environment: [] },
      endsAt: '2026-11-23T04:30:00.000Z',
      comment: '  load test  ',
    });
    expect(created).toEqual(silence);
    await expect(api.expireSilence('sil/1')).resolves.toBeUndefined();
    await expect(api.expireSilence('sil-2', 'done early')).resolves.toBeUndefined();

    expect(server.sent.map(({ method, url, body }) => [method, url, body])).toEqual([
      ['GET', '/api/v1/silences', undefined],
      ['POST', '/api/v1/silences', { matchers: { service: ['checkout'] }, endsAt: '2026-11-23T04:30:00.000Z', comment: 'load test' }],
      ['DELETE', '/api/v1/silences/sil%2F1', undefined],
      ['DELETE', '/api/v1/silences/sil-2', { reason: 'done early' }],
    ]);
    expect(server.sent.every((request) => request.headers.authorization === 'Bearer tok-123')).toBe(true);
  });

  it('refuses a silence without a comment or without matchers before sending anything', async () => {
    const server = scripted();
    const api = new ApiClient({ fetch: server.fetch, token: () => 'tok' });
    const endsAt = '2026-11-23T04:30:00.000Z';
    await expect(api.createSilence({ matchers: { service: ['checkout'] }, endsAt, comment: ' ' })).rejects.toMatchObject({
      code: INVALID_INPUT,
      message: 'a comment is required to create a silence',
    });
    await expect(api.createSilence({ matchers: {}, endsAt, comment: 'why' })).rejects.toMatchObject({ code: INVALID_INPUT, message: expect.stringMatching(/at least one matcher/) });
    expect(server.sent).toEqual([]);
  });

  it("passes the server's refusal on, in its words", async () => {
    const server = scripted(errorResponse(404, 'CW_NOT_FOUND', 'no active silence sil-1'), errorResponse(400, 'CW_BAD_REQUEST', 'endsAt must be in the future and after startsAt'));
    const api = new ApiClient({ fetch: server.fetch, token: () => 'tok' });
    await expect(api.expireSilence('sil-1')).rejects.toMatchObject({ status: 404, code: 'CW_NOT_FOUND' });
    const error = await api.createSilence({ matchers: { service: ['checkout'] }, endsAt: '2020-01-01T00:00:00Z', comment: 'x' }).catch((caught: unknown) => caught);
    expect(explainApiError(error)).toBe('endsAt must be in the future and after startsAt.');
  });
});

describe('ApiClient errors', () => {
  it('decodes the error envelope into an ApiError with status, code and message', async () => {
    const server = scripted(errorResponse(409, 'CW_ROLLBACK_NOT_PENDING', 'rollback rb-1 is denied, not pending'));
    const api = new ApiClient({ fetch: server.fetch, token: () => 'tok' });
    const error = await api.approveRollback('rb-1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'CW_ROLLBACK_NOT_PENDING', message: 'rollback rb-1 is denied, not pending' });
  });

  it('reports a 401 to onUnauthorized, and nothing else', async () => {
    const unauthorized: ApiError[] = [];
    const server = scripted(
      errorResponse(403, 'CW_AUTH_FORBIDDEN', 'this action needs the operator role; token "wall" has viewer'),
      errorResponse(401, 'CW_AUTH_UNAUTHORIZED', 'the API token is not valid'),
    );
    const api = new ApiClient({ fetch: server.fetch, token: () => 'tok', onUnauthorized: (error) => unauthorized.push(error) });
    await expect(api.acknowledgeIncident('inc-1')).rejects.toMatchObject({ status: 403, code: 'CW_AUTH_FORBIDDEN' });
    expect(unauthorized).toEqual([]);
    await expect(api.acknowledgeIncident('inc-1')).rejects.toMatchObject({ status: 401, code: 'CW_AUTH_UNAUTHORIZED' });
    expect(unauthorized.map((error) => error.code)).toEqual(['CW_AUTH_UNAUTHORIZED']);
  });

  it('turns a body that is not an error envelope into a usable error', async () => {
    await expect(decodeApiError(new Response('<h1>Bad Gateway</h1>', { status: 502 }))).resolves.toMatchObject({
      status: 502,
      code: 'HTTP_502',
      message: 'the server answered HTTP 502',
    });
    await expect(decodeApiError(Response.json({ error: 'old style' }, { status: 503 }))).resolves.toMatchObject({ code: 'HTTP_503' });
  });

  it('reports an unreachable server and an unexpected answer', async () => {
    const server = scripted(new TypeError('Failed to fetch'), Response.json({ something: 'else' }));
    const api = new ApiClient({ fetch: server.fetch, token: () => 'tok' });
    await expect(api.setKillSwitch(false, 'resolved')).rejects.toMatchObject({ status: 0, code: NETWORK_ERROR, message: 'Failed to fetch' });
    await expect(api.setKillSwitch(false, 'resolved')).rejects.toMatchObject({ status: 200, code: BAD_RESPONSE });
  });

  it('passes an abort through as it is, not as a network error', async () => {
    const aborter = new AbortController();
    aborter.abort();
    const abortError = new DOMException('aborted', 'AbortError');
    const api = new ApiClient({ fetch: scripted(abortError).fetch });
    await expect(api.listIncidents(undefined, aborter.signal)).rejects.toBe(abortError);
  });
});

describe('explainApiError', () => {
  it('says what happened and what to do for the codes people run into', () => {
    const explain = (status: number, code: string, message = 'server text') => explainApiError(new ApiError(status, code, message));
    expect(explain(409, 'CW_ROLLBACK_NOT_PENDING')).toBe('This rollback was already decided; the list shows what was decided.');
    // With the details the server sends, the sentence names who decided, what and when.
    const decided = (code: string, details: Record<string, unknown>) => explainApiError(new ApiError(409, code, 'server text', details));
    expect(decided('CW_ROLLBACK_NOT_PENDING', { decidedBy: 'fatima', decidedAt: '2026-12-07T23:10:05.000Z', decision: 'approved' })).toBe(
      'Already decided: fatima approved this rollback at 2026-12-07 23:10:05 UTC.',
    );
    expect(decided('CW_ROLLBACK_NOT_PENDING', { decidedBy: 'policy', decidedAt: '2026-12-07T23:10:05.000Z', decision: 'expired' })).toBe(
      'Already decided: the policy marked this rollback expired at 2026-12-07 23:10:05 UTC.',
    );
    expect(decided('CW_FREEZE_NOT_ACTIVE', { decidedBy: 'bob', decidedAt: '2026-12-07T08:00:00.000Z', decision: 'lifted' })).toBe(
      'Already decided: bob lifted this freeze at 2026-12-07 08:00:00 UTC.',
    );
    expect(explain(409, 'CW_ROLLBACK_EXPIRED')).toMatch(/approval window has passed/);
    expect(explain(409, 'CW_KILL_SWITCH_ENGAGED')).toMatch(/kill switch is on/);
    expect(explain(409, 'CW_ROLLBACK_NO_WEBHOOK')).toMatch(/no rollback\.webhook is configured/);
    expect(explain(409, 'CW_FREEZE_NOT_ACTIVE')).toBe('This freeze was already lifted.');
    expect(explain(401, 'CW_AUTH_UNAUTHORIZED')).toMatch(/did not accept your API token/);
    expect(explain(403, 'CW_AUTH_FORBIDDEN')).toMatch(/operator role/);
    expect(explain(0, NETWORK_ERROR, 'Failed to fetch')).toMatch(/^Could not reach the server \(Failed to fetch\)/);
  });

  it("falls back to the server's own message, as a sentence", () => {
    expect(explainApiError(new ApiError(409, 'CW_CONFLICT', 'incident inc-1 is already resolved'))).toBe('Incident inc-1 is already resolved.');
    expect(
      explainApiError(new ApiError(409, 'CW_CONFLICT', 'incident inc-1 is already resolved: bob resolved it at …', { decidedBy: 'bob', decidedAt: '2026-12-07T23:00:00.000Z', decision: 'resolved' })),
    ).toBe('Already decided: bob resolved this incident at 2026-12-07 23:00:00 UTC.');
    expect(explainApiError(new Error('boom'))).toBe('boom');
  });
});

describe('ApiClient.alertSeries', () => {
  const body = {
    series: { key: 'checkout\u0000latency_ms\u0000prod', service: 'checkout', metric: 'latency_ms', kind: 'latency' },
    from: now - 3 * 3_600_000,
    to: now,
    step: 180_000,
    points: [{ time: now - 90_000, value: 210, expected: 200, lower: 180, upper: 220 }],
    versions: [],
    services: ['checkout'],
    changes: [],
  };

  it("reads an alert's series history with the session's token, and refuses an answer of another shape", async () => {
    const server = scripted(Response.json(body), Response.json({ ...body, points: [{ time: 'soon' }] }));
    const api = new ApiClient({ fetch: server.fetch, token: () => 'cw_viewer' });
    expect(await api.alertSeries('alrt 1')).toEqual(body);
    expect(server.sent[0]).toMatchObject({ url: '/api/v1/alerts/alrt%201/points', method: 'GET', headers: { authorization: 'Bearer cw_viewer' } });
    await expect(api.alertSeries('alrt-1')).rejects.toMatchObject({ code: BAD_RESPONSE });
  });

  it('passes a 404 on as an ApiError with its status, which a chart reads as "no history"', async () => {
    const api = new ApiClient({ fetch: scripted(errorResponse(404, 'CW_NOT_FOUND', 'no history for the series of alert alrt-1')).fetch });
    await expect(api.alertSeries('alrt-1')).rejects.toMatchObject({ status: 404, code: 'CW_NOT_FOUND' });
  });
});
