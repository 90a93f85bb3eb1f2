/**
 * What the service logs when a client makes a mistake, read from the real logger's output: the
 * whole service (real auth, alert router, store, HTTP stack) started against the shared mock broker,
 * its pino logger writing JSON lines into a stream the test reads. A 404 or 409 answered to an
 * operator is no failure of the service: no error-level line and no stack trace. A real failure
 * still logs at error with the error object and its stack.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Request, Response } from 'express';
import { loadConfig } from '../../../server/config.ts';
import { createError } from '../../../server/errors.ts';
import { hashToken } from '../../../server/http/auth.ts';
import { renderErrors } from '../../../server/http/errors.ts';
import { createLogger } from '../../../server/log.ts';
import { startService, type RunningService } from '../../../server/service.ts';
import { yamlFile } from '../../support/config-files.ts';
import { topicEnv, uniqueTopics } from '../../support/kafka-helpers.ts';
import { makeIncident } from '../store/fixtures.ts';

const OPERATOR_TOKEN = 'cw_logging-test-operator-token';
/** pino's numeric level of `error`; `fatal` is above it. */
const ERROR_LEVEL = 50;

/** One parsed log line. */
type LogLine = { level: number; msg: string; [field: string]: unknown };

/** A pino destination keeping every line it was given. */
function logCapture(): { stream: Writable; lines: () => LogLine[]; clear: () => void } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const lines = (): LogLine[] =>
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogLine);
  return { stream, lines, clear: () => void (text = '') };
}

describe('logs of client errors through the HTTP API', { timeout: 60_000 }, () => {
  const capture = logCapture();
  let service: RunningService;

  beforeAll(async () => {
    const config = loadConfig({
      file: yamlFile(['auth:', '  tokens:', `    - { name: ops-otto, role: operator, sha256: "${hashToken(OPERATOR_TOKEN)}" }`, ''].join('\n')),
      env: { ...topicEnv(uniqueTopics('logging'), inject('kafkaBrokers')), PORT: '0', CHANGEWATCH_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'cw-logging-')) },
    });
    // debug, so the lines that client errors are logged at are captured too.
    service = await startService(config, createLogger('debug', 'changewatch', capture.stream));
  });
  afterAll(async () => {
    await service?.stop();
  });
  beforeEach(() => capture.clear());

  /** POSTs `body` to an API path with the operator token; returns the status and the JSON body. */
  async function post(apiPath: string, body: unknown = {}): Promise<{ status: number; body: any }> {
    const response = await fetch(`${service.url}/api/v1${apiPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  /** The captured lines once the router has finished what the requests queued. */
  async function settledLines(): Promise<LogLine[]> {
    await service.alertRouter.idle();
    await new Promise((resolve) => setImmediate(resolve));
    return capture.lines();
  }

  it('answers an acknowledge of an unknown incident 404 and logs it at info with its code and message, without a stack', async () => {
    expect(await post('/incidents/inc-nobody-knows/acknowledge', { reason: 'on it' })).toEqual({
      status: 404,
      body: { error: { code: 'CW_NOT_FOUND', message: 'no incident inc-nobody-knows' } },
    });
    expect((await post('/incidents/inc-nobody-knows/resolve')).status).toBe(404);
    const lines = await settledLines();
    expect(lines.filter((line) => line.level >= ERROR_LEVEL)).toEqual([]);
    expect(lines.filter((line) => JSON.stringify(line).includes('"stack"'))).toEqual([]);
    const refused = lines.filter((line) => line.msg === 'alert router refused a request');
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ level: 30, component: 'alert-router', error: { code: 'CW_NOT_FOUND', message: 'no incident inc-nobody-knows' } });
    expect(refused[0]).not.toHaveProperty('err');
    // The HTTP edge notes the refused request at debug only.
    expect(lines.find((line) => line.msg === 'HTTP request refused')).toMatchObject({ level: 20, statusCode: 404, error: { code: 'CW_NOT_FOUND' } });
  });

  it('answers an acknowledge of a resolved incident 409 without an error-level line', async () => {
    await service.store.incidents.upsert(makeIncident({ id: 'inc-logging-resolved', groupKey: 'g-logging-resolved', status: 'resolved', resolvedAt: '2026-11-23T10:05:00.000Z' }));
    expect((await post('/incidents/inc-logging-resolved/acknowledge')).body.error.code).toBe('CW_CONFLICT');
    const lines = await settledLines();
    expect(lines.filter((line) => line.level >= ERROR_LEVEL)).toEqual([]);
    expect(lines.filter((line) => JSON.stringify(line).includes('"stack"'))).toEqual([]);
    expect(lines.find((line) => line.msg === 'alert router refused a request')).toMatchObject({ level: 30, error: { code: 'CW_CONFLICT' } });
  });

  it('answers a path with a malformed %-escape 400, not 500 with a logged stack', async () => {
    expect(await post('/incidents/%E0/acknowledge')).toEqual({ status: 400, body: { error: { code: 'CW_BAD_REQUEST', message: "request path refused: Failed to decode param '%E0'" } } });
    const lines = await settledLines();
    expect(lines.filter((line) => line.level >= ERROR_LEVEL)).toEqual([]);
    expect(lines.filter((line) => JSON.stringify(line).includes('"stack"'))).toEqual([]);
  });

  it('still logs a real failure behind the same request at error, with the error and its stack', async () => {
    const { store } = service;
    const transaction = store.transaction;
    store.transaction = () => Promise.reject(new Error('disk on fire'));
    try {
      expect((await post('/incidents/inc-nobody-knows/acknowledge')).body.error.code).toBe('CW_INTERNAL');
    } finally {
      store.transaction = transaction;
    }
    const failures = (await settledLines()).filter((line) => line.level >= ERROR_LEVEL);
    expect(failures.map((line) => line.msg).sort()).toEqual(['alert router step failed', 'unhandled error in HTTP handler']);
    for (const line of failures) expect(line).toMatchObject({ err: { message: 'disk on fire', stack: expect.stringContaining('disk on fire') } });
  });
});

describe('renderErrors log levels', () => {
  /** Renders `error` as the app's error middleware does; returns the status sent and the lines logged. */
  function render(error: unknown): { status: number; lines: LogLine[] } {
    const capture = logCapture();
    let status = 0;
    const res = { headersSent: false, status: (code: number) => ((status = code), res), json: () => res } as unknown as Response;
    renderErrors(createLogger('debug', 'changewatch', capture.stream))(error, { method: 'POST', originalUrl: '/api/v1/x' } as Request, res, () => {});
    return { status, lines: capture.lines() };
  }

  it('logs a client error at debug with its code and message only', () => {
    const { status, lines } = render(createError('CW_AUTH_FORBIDDEN', 'needs operator', { role: 'viewer' }));
    expect(status).toBe(403);
    expect(lines).toEqual([expect.objectContaining({ level: 20, statusCode: 403, error: { code: 'CW_AUTH_FORBIDDEN', message: 'needs operator' } })]);
    expect(JSON.stringify(lines)).not.toContain('stack');
  });

  it('logs a registered server failure at error with its stack, which it used to render without logging', () => {
    const { status, lines } = render(createError('CW_STORE_QUERY', 'relation "incidents" does not exist'));
    expect(status).toBe(500);
    expect(lines).toEqual([expect.objectContaining({ level: 50, msg: 'HTTP request failed', err: expect.objectContaining({ code: 'CW_STORE_QUERY', stack: expect.any(String) }) })]);
  });

  it('logs an unavailable dependency at warn with the cause, without a stack', () => {
    const { status, lines } = render(createError('CW_STORE_UNAVAILABLE', 'cannot get a PostgreSQL connection', undefined, { cause: new Error('timeout exceeded when trying to connect') }));
    expect(status).toBe(503);
    expect(lines).toEqual([expect.objectContaining({ level: 40, error: { code: 'CW_STORE_UNAVAILABLE', message: 'cannot get a PostgreSQL connection' }, cause: 'timeout exceeded when trying to connect' })]);
    expect(JSON.stringify(lines)).not.toContain('stack');
  });

  it('logs a bug at error with its stack and answers CW_INTERNAL', () => {
    const { status, lines } = render(new TypeError('undefined is not a function'));
    expect(status).toBe(500);
    expect(lines).toEqual([expect.objectContaining({ level: 50, msg: 'unhandled error in HTTP handler', err: expect.objectContaining({ stack: expect.any(String) }) })]);
  });
});
