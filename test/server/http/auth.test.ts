import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server as SocketServer } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator, authConfigSchema, hashToken, readAccess, requireRole, ROLES, socketReadAccess } from '../../../server/http/auth.ts';
import { isChangewatchError } from '../../../server/errors.ts';

const TOKENS = { viewer: 'view-token-0123456789', ingest: 'ci-token-0123456789', operator: 'ops-token-0123456789', admin: 'admin-token-0123456789' };

/** An authenticator with one token per role. */
function authenticator(anonymousRead = true): Authenticator {
  const config = authConfigSchema.parse({
    anonymousRead,
    tokens: Object.entries(TOKENS).map(([role, token]) => ({ name: `${role}-bot`, role, sha256: hashToken(token).toUpperCase() })),
  });
  return Authenticator.fromConfig(config).authenticator;
}

describe('authConfigSchema', () => {
  it('defaults to anonymous reads and no tokens', () => {
    expect(authConfigSchema.parse({})).toEqual({ anonymousRead: true, tokens: [] });
  });

  it('rejects a plain token where a hash belongs, an unknown role and duplicate names', () => {
    const result = authConfigSchema.safeParse({ tokens: [{ name: 'ci', role: 'operator', sha256: 'my-secret-token' }] });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('not the token itself');
    expect(authConfigSchema.safeParse({ tokens: [{ name: 'ci', role: 'root', sha256: hashToken('x') }] }).success).toBe(false);
    const twice = { name: 'ci', role: 'viewer', sha256: hashToken('x') };
    expect(authConfigSchema.safeParse({ tokens: [twice, { ...twice, sha256: hashToken('y') }] }).success).toBe(false);
  });
});

describe('Authenticator', () => {
  it('recognizes configured tokens by hash (any case) and nothing else', () => {
    const auth = authenticator();
    expect(auth.authenticate(TOKENS.operator)).toEqual({ name: 'operator-bot', role: 'operator' });
    expect(auth.authenticate(`${TOKENS.operator}x`)).toBeUndefined();
    expect(auth.authenticate(hashToken(TOKENS.operator))).toBeUndefined();
  });

  it('orders roles viewer < ingest < operator < admin', () => {
    const auth = authenticator();
    expect(ROLES).toEqual(['viewer', 'ingest', 'operator', 'admin']);
    expect(auth.authorize(TOKENS.admin, 'operator').role).toBe('admin');
    expect(auth.authorize(TOKENS.operator, 'ingest').role).toBe('operator');
    expect(auth.authorize(TOKENS.ingest, 'ingest').role).toBe('ingest');
    expect(auth.authorize(TOKENS.ingest, 'viewer').role).toBe('ingest');
    expect(() => auth.authorize(TOKENS.viewer, 'ingest')).toThrow(expect.objectContaining({ code: 'CW_AUTH_FORBIDDEN', statusCode: 403 }));
    expect(() => auth.authorize(TOKENS.ingest, 'operator')).toThrow(expect.objectContaining({ code: 'CW_AUTH_FORBIDDEN', statusCode: 403 }));
    expect(() => auth.authorize(TOKENS.viewer, 'operator')).toThrow(expect.objectContaining({ code: 'CW_AUTH_FORBIDDEN', statusCode: 403 }));
    expect(() => auth.authorize(TOKENS.operator, 'admin')).toThrow(expect.objectContaining({ code: 'CW_AUTH_FORBIDDEN' }));
    expect(() => auth.authorize(undefined, 'viewer')).toThrow(expect.objectContaining({ code: 'CW_AUTH_UNAUTHORIZED', statusCode: 401 }));
  });

  it('generates an admin token when none is configured, and requires it', () => {
    const setup = Authenticator.fromConfig(authConfigSchema.parse({}));
    expect(setup.generatedToken).toMatch(/^cw_[A-Za-z0-9_-]{43}$/);
    expect(setup.authenticator.authorize(setup.generatedToken, 'admin')).toEqual({ name: 'generated-admin', role: 'admin' });
    expect(() => setup.authenticator.authorize('guess', 'viewer')).toThrow();
    expect(Authenticator.fromConfig(authConfigSchema.parse({})).generatedToken).not.toBe(setup.generatedToken);
    expect(Authenticator.fromConfig(authConfigSchema.parse({ tokens: [{ name: 'a', role: 'admin', sha256: hashToken('t') }] })).generatedToken).toBeUndefined();
  });

  it('lets anonymous reads through only while anonymousRead is true; a bad token is never anonymous', () => {
    expect(authenticator(true).authorizeRead(undefined)).toEqual({ name: 'anonymous' });
    expect(() => authenticator(true).authorizeRead('wrong')).toThrow();
    expect(() => authenticator(false).authorizeRead(undefined)).toThrow(expect.objectContaining({ code: 'CW_AUTH_UNAUTHORIZED' }));
    expect(authenticator(false).authorizeRead(TOKENS.viewer).name).toBe('viewer-bot');
  });

  it('never puts a presented token in an error', () => {
    const presented = 'secret-looking-token-abcdef';
    for (const attempt of [() => authenticator().authorize(presented, 'viewer'), () => authenticator().authorize(TOKENS.viewer, 'admin')]) {
      try {
        attempt();
        expect.unreachable();
      } catch (error) {
        expect(isChangewatchError(error)).toBe(true);
        const text = JSON.stringify(error) + String(error) + (error as Error).stack;
        expect(text).not.toContain(presented);
        expect(text).not.toContain(TOKENS.viewer);
      }
    }
  });
});

describe('express and socket.io middleware', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()!();
  });

  /** Serves an app (or socket.io) on an ephemeral port. */
  async function listen(handler?: express.Express): Promise<{ url: string; server: ReturnType<typeof createServer> }> {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  }

  it('answers 401 and 403 with registry errors and records the actor for handlers', async () => {
    const auth = authenticator(false);
    const app = express();
    app.get('/read', readAccess(auth), (_req, res) => void res.json(res.locals.actor));
    app.post('/act', requireRole(auth, 'operator'), (_req, res) => void res.json(res.locals.actor));
    app.use(((error, _req, res, _next) => void res.status(error.statusCode).json(error.toJSON())) as express.ErrorRequestHandler);
    const { url } = await listen(app);
    const call = (path: string, method: string, token?: string) =>
      fetch(url + path, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

    expect((await call('/read', 'GET')).status).toBe(401);
    expect(await (await call('/read', 'GET', TOKENS.viewer)).json()).toEqual({ name: 'viewer-bot', role: 'viewer' });
    const noToken = await call('/act', 'POST');
    expect(noToken.status).toBe(401);
    expect((await noToken.json()).error.code).toBe('CW_AUTH_UNAUTHORIZED');
    const tooLow = await call('/act', 'POST', TOKENS.viewer);
    expect(tooLow.status).toBe(403);
    expect((await tooLow.json()).error).toMatchObject({ code: 'CW_AUTH_FORBIDDEN', details: { required: 'operator', role: 'viewer' } });
    expect((await call('/act', 'POST', TOKENS.operator)).status).toBe(200);
    const basic = await fetch(`${url}/act`, { method: 'POST', headers: { authorization: `Basic ${TOKENS.operator}` } });
    expect(basic.status).toBe(401);
  });

  it('authenticates socket.io connections with the same tokens', async () => {
    const { url, server } = await listen();
    const io = new SocketServer(server);
    io.use(socketReadAccess(authenticator(false)));
    io.on('connection', (socket) => socket.emit('whoami', socket.data.actor));
    closers.push(async () => void io.close());

    const attempt = (token?: string) =>
      new Promise<{ actor?: unknown; error?: { message: string; data?: unknown } }>((resolve) => {
        const client = connect(url, { transports: ['websocket'], reconnection: false, ...(token ? { auth: { token } } : {}) });
        client.on('whoami', (actor) => {
          client.close();
          resolve({ actor });
        });
        client.on('connect_error', (error: Error & { data?: unknown }) => {
          client.close();
          resolve({ error: { message: error.message, data: error.data } });
        });
      });

    expect(await attempt(TOKENS.viewer)).toEqual({ actor: { name: 'viewer-bot', role: 'viewer' } });
    // Every role at or above viewer reads, so an ingest token may watch the dashboard too.
    expect(await attempt(TOKENS.ingest)).toEqual({ actor: { name: 'ingest-bot', role: 'ingest' } });
    const refused = await attempt();
    expect(refused.error?.data).toMatchObject({ code: 'CW_AUTH_UNAUTHORIZED' });
    const bad = await attempt('not-a-token-123');
    expect(JSON.stringify(bad)).not.toContain('not-a-token-123');
    expect(bad.error?.data).toMatchObject({ code: 'CW_AUTH_UNAUTHORIZED' });
  });
});
