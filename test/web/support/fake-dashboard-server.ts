/**
 * A stand-in for the changewatch server in dashboard tests: serves the built dashboard from web/dist,
 * speaks the socket.io contract (snapshot on connect, then whatever the test emits) and answers
 * `GET /api/v1/stats/changes` with whatever the test sets.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Server } from 'socket.io';
import type {
  ChangeStatsResponse,
  ClientToServerEvents,
  ServerToClientEvents,
} from '../../../server/contract/alert.ts';
import type { DashboardSnapshot } from '../../../web/src/lib/live-updates.ts';

/** The built dashboard the fake server serves. */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** A running fake server. */
export interface FakeDashboardServer {
  /** Base URL of the dashboard, e.g. http://127.0.0.1:40123/. */
  url: string;
  /** The socket.io server, for emitting live events to connected dashboards. */
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  /** What `GET /api/v1/stats/changes` answers; undefined makes it fail with HTTP 503. */
  changeStats: ChangeStatsResponse | undefined;
  /** Number of dashboards currently connected. */
  connectedCount(): number;
  /** Closes every connection and stops listening, like a crashing or restarting server. */
  stop(): Promise<void>;
}

/** Starts a fake server on a free local port; `snapshot` is called for each connecting dashboard. */
export async function startFakeDashboardServer(snapshot: () => DashboardSnapshot): Promise<FakeDashboardServer> {
  if (!existsSync(`${DASHBOARD_DIST}/index.html`)) {
    throw new Error(`no built dashboard in ${DASHBOARD_DIST}: run \`npx vite build\` first`);
  }
  const app = express();
  const http = createServer(app);
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, { serveClient: false });

  const server: FakeDashboardServer = {
    url: '',
    io,
    changeStats: undefined,
    connectedCount: () => io.of('/').sockets.size,
    stop: () =>
      new Promise((resolve) => {
        // io.close() closes the HTTP server too; dropping keep-alive connections lets that finish promptly.
        io.close(() => resolve());
        http.closeAllConnections();
      }),
  };

  app.get('/api/v1/stats/changes', (_request, response) => {
    if (server.changeStats) response.json(server.changeStats);
    else response.status(503).json({ error: 'change statistics are not available' });
  });
  app.use(express.static(DASHBOARD_DIST));
  io.on('connection', (socket) => socket.emit('snapshot', snapshot()));

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  return server;
}
