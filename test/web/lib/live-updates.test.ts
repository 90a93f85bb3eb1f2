import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connectClient } from 'socket.io-client';
import { Server } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../contract/socket.ts';
import { bindLiveUpdates, type DashboardSnapshot, type LiveUpdateSink } from '../../../web/src/lib/live-updates.ts';
import type { DashboardSocket } from '../../../web/src/lib/socket.ts';
import { makeAlert, makeChange, makeStats } from '../support/fixtures.ts';

const now = Date.now();
const snapshot: DashboardSnapshot = {
  alerts: [makeAlert(now, 10, { id: 'from-snapshot' })],
  changes: [makeChange(now, 12)],
  stats: makeStats(),
};

/** A sink that records every call in order. */
function recordingSink(): LiveUpdateSink & { calls: Array<[string, ...unknown[]]> } {
  const calls: Array<[string, ...unknown[]]> = [];
  const record =
    (name: string) =>
    (...args: unknown[]): void => {
      calls.push([name, ...args]);
    };
  return {
    calls,
    snapshot: record('snapshot'),
    batch: record('batch'),
    stats: record('stats'),
    connected: record('connected'),
    disconnected: record('disconnected'),
    reconnecting: record('reconnecting'),
    connectFailed: record('connectFailed'),
  };
}

describe('bindLiveUpdates over a real socket.io connection', () => {
  let io: Server<ClientToServerEvents, ServerToClientEvents>;
  let client: DashboardSocket;
  let sink: ReturnType<typeof recordingSink>;
  let unbind: () => void;

  beforeEach(async () => {
    const http = createServer();
    io = new Server(http);
    io.on('connection', (socket) => socket.emit('snapshot', snapshot));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    client = connectClient(`http://127.0.0.1:${port}`, {
      autoConnect: false,
      transports: ['websocket'],
      reconnectionDelay: 50,
      reconnectionDelayMax: 50,
    });
    sink = recordingSink();
    unbind = bindLiveUpdates(client, sink, { intervalMs: 50 });
    client.connect();
    await vi.waitFor(() => expect(sink.calls.map(([name]) => name)).toEqual(['connected', 'snapshot']));
  });

  afterEach(async () => {
    unbind();
    client.disconnect();
    await new Promise((resolve) => io.close(resolve));
  });

  it('hands over the snapshot as sent', () => {
    expect(sink.calls[1]).toEqual(['snapshot', snapshot]);
  });

  it('batches live alerts and changes, newest version per alert, and passes stats straight through', async () => {
    for (let second = 1; second <= 50; second += 1) {
      io.emit('alert', makeAlert(now, 3, { id: 'live', updatedAt: new Date(now + second * 1_000).toISOString(), explanation: `v${second}` }));
    }
    io.emit('change', makeChange(now, 1));
    io.emit('stats', makeStats({ alertsFiring: 7 }));

    await vi.waitFor(() => expect(sink.calls.filter(([name]) => name === 'batch')).toHaveLength(1));
    const batch = sink.calls.find(([name]) => name === 'batch')![1] as { alerts: { explanation: string }[]; changes: { id: string }[] };
    expect(batch.alerts.map((alert) => alert.explanation)).toEqual(['v50']);
    expect(batch.changes.map((change) => change.id)).toEqual(['chg-1']);
    expect(sink.calls).toContainEqual(['stats', makeStats({ alertsFiring: 7 })]);
  });

  it('drops events queued before a new snapshot, which already reflects them', async () => {
    io.emit('alert', makeAlert(now, 3, { id: 'superseded' }));
    io.emit('snapshot', snapshot);
    await vi.waitFor(() => expect(sink.calls.filter(([name]) => name === 'snapshot')).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(sink.calls.filter(([name]) => name === 'batch')).toEqual([]);
  });

  it('reports a dropped connection, the reconnection attempts and the reconnection', async () => {
    // Closing the transport underneath the socket looks to the client like a network failure.
    for (const socket of io.of('/').sockets.values()) socket.conn.close();
    await vi.waitFor(() => expect(sink.calls.map(([name]) => name)).toContain('reconnecting'));
    expect(sink.calls).toContainEqual(['disconnected', 'transport close', true]);
    expect(sink.calls).toContainEqual(['reconnecting', 1]);
    await vi.waitFor(() => expect(sink.calls.filter(([name]) => name === 'connected')).toHaveLength(2));
  });

  it('reports a disconnect by the server as final, since socket.io does not retry it', async () => {
    io.disconnectSockets();
    await vi.waitFor(() => expect(sink.calls).toContainEqual(['disconnected', 'io server disconnect', false]));
  });

  it('stops reporting once unbound', async () => {
    unbind();
    io.emit('alert', makeAlert(now, 3, { id: 'after-unbind' }));
    io.emit('stats', makeStats());
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(sink.calls.map(([name]) => name)).toEqual(['connected', 'snapshot']);
  });
});

describe('bindLiveUpdates when the server refuses the connection', () => {
  it("passes on the server's error code, so the page can ask for a token", async () => {
    const http = createServer();
    const io = new Server<ClientToServerEvents, ServerToClientEvents>(http);
    // As server/http/auth.ts socketReadAccess does with `auth.anonymousRead: false` and no token.
    io.use((_socket, next) =>
      next(Object.assign(new Error('an API token is required'), { data: { code: 'CW_AUTH_UNAUTHORIZED', message: 'an API token is required' } })),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    const client: DashboardSocket = connectClient(`http://127.0.0.1:${port}`, { autoConnect: false, transports: ['websocket'] });
    const sink = recordingSink();
    const unbind = bindLiveUpdates(client, sink);
    try {
      client.connect();
      await vi.waitFor(() => expect(sink.calls).toContainEqual(['connectFailed', 'an API token is required', 'CW_AUTH_UNAUTHORIZED']));
    } finally {
      unbind();
      client.disconnect();
      await new Promise((resolve) => io.close(resolve));
    }
  });
});
