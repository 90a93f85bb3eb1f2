import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { Changewatch } from '../../../server/core.ts';
import { Authenticator, authConfigSchema, hashToken, socketReadAccess } from '../../../server/http/auth.ts';
import { attachSocketGateway } from '../../../server/http/socket-gateway.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../server/pipeline/pipeline.ts';
import type { AutomationSnapshot } from '../../../contract/automation.ts';
import type { Incident } from '../../../contract/incident.ts';
import { aChange, httpDeadLetterOf } from '../../support/factories.ts';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function serve(anonymousRead: boolean): Promise<{ url: string; core: Changewatch }> {
  const core = new Changewatch(createPipeline(DEFAULT_PIPELINE_OPTIONS));
  const { authenticator } = Authenticator.fromConfig(authConfigSchema.parse({ anonymousRead, tokens: [{ name: 'noc', role: 'viewer', sha256: hashToken('viewer-token') }] }));
  const http: Server = createServer();
  const gateway = attachSocketGateway(http, core, () => core.stats(true), { authorize: socketReadAccess(authenticator) });
  cleanup.push(() => gateway.close());
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, core };
}

function connect(url: string, token?: string): Promise<{ socket: Socket; snapshot?: unknown; refused?: string }> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, ...(token ? { auth: { token } } : {}) });
  cleanup.push(() => socket.close());
  return new Promise((resolve) => {
    socket.once('snapshot', (snapshot) => resolve({ socket, snapshot }));
    socket.once('connect_error', (err) => resolve({ socket, refused: err.message }));
  });
}

describe('socket gateway', () => {
  it('sends a snapshot on connect, then every change, incident and automation state the core emits', async () => {
    const { url, core } = await serve(true);
    const { socket, snapshot } = await connect(url);
    expect(snapshot).toMatchObject({ alerts: [], changes: [] });
    const change = new Promise((resolve) => socket.once('change', resolve));
    const incident = new Promise((resolve) => socket.once('incident', resolve));
    const automation = new Promise((resolve) => socket.once('automation', resolve));
    core.handle({ change: aChange() }, httpDeadLetterOf());
    core.publishIncident({ id: 'inc-1' } as Incident);
    core.publishAutomation({ killSwitch: { engaged: false } } as AutomationSnapshot);
    expect(await change).toMatchObject({ id: 'chg-1' });
    expect(await incident).toEqual({ id: 'inc-1' });
    expect(await automation).toEqual({ killSwitch: { engaged: false } });
  });

  it('refuses dashboards without a viewer token when anonymous reads are off', async () => {
    const { url } = await serve(false);
    expect((await connect(url)).refused).toMatch(/token/i);
    expect((await connect(url, 'wrong')).refused).toBeDefined();
    expect((await connect(url, 'viewer-token')).snapshot).toBeDefined();
  });
});
