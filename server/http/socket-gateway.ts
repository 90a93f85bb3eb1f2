/**
 * The socket.io edge: sends each dashboard a snapshot on connect, then every alert and change as
 * the core publishes them, counters every few seconds, and the automation panel's snapshot. Dashboards batch on their side.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ServerStats } from '../../contract/alert.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contract/socket.ts';
import type { AutomationSnapshot } from '../../contract/automation.ts';
import type { Changewatch } from '../core.ts';

/** The typed socket.io server of changewatch. */
export type ChangewatchSocketServer = Server<ClientToServerEvents, ServerToClientEvents>;

/** A socket.io middleware that admits or refuses a connecting dashboard (read access). */
export type SocketAuthorizer = Parameters<ChangewatchSocketServer['use']>[0];

/** Attaches socket.io to `http` and wires it to the core; returns a function that detaches it. */
export function attachSocketGateway(
  http: HttpServer,
  core: Changewatch,
  stats: () => ServerStats,
  options: {
    authorize?: SocketAuthorizer;
    statsEveryMs?: number;
    /** The automation snapshot each dashboard gets on connect (later ones are broadcast by the caller). */
    automation?: () => Promise<AutomationSnapshot>;
  } = {},
): { io: ChangewatchSocketServer; close(): Promise<void> } {
  const statsEveryMs = options.statsEveryMs ?? 2_000;
  const io: ChangewatchSocketServer = new Server(http, { serveClient: false, cors: { origin: false } });
  if (options.authorize) io.use(options.authorize);
  io.on('connection', (socket) => {
    socket.emit('snapshot', { alerts: core.alerts.list({ limit: 500 }), changes: core.recentChanges(200), stats: stats() });
    options.automation?.().then(
      (snapshot) => socket.emit('automation', snapshot),
      // The store being briefly unavailable must not cost the dashboard its alerts; the next broadcast fills the panel.
      () => undefined,
    );
  });
  const onAlert = (alert: Parameters<ServerToClientEvents['alert']>[0]): void => void io.emit('alert', alert);
  const onChange = (change: Parameters<ServerToClientEvents['change']>[0]): void => void io.emit('change', change);
  core.on('alert', onAlert);
  core.on('change', onChange);
  const timer = setInterval(() => io.emit('stats', stats()), statsEveryMs);
  timer.unref();
  return {
    io,
    close: async () => {
      clearInterval(timer);
      core.off('alert', onAlert);
      core.off('change', onChange);
      await new Promise<void>((resolve) => void io.close(() => resolve()));
    },
  };
}
