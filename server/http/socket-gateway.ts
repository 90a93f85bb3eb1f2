/**
 * The socket.io edge: sends each dashboard a snapshot on connect, then everything the core emits
 * (alerts, changes, incidents, the automation panel's state) and counters every few seconds.
 * Dashboards batch on their side.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ServerStats } from '../../contract/alert.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contract/socket.ts';
import type { AutomationSnapshot } from '../../contract/automation.ts';
import type { Changewatch } from '../core.ts';
import type { Emission } from '../emission.ts';

/**
 * Alerts in a connecting dashboard's snapshot: all open ones, topped up with recently resolved ones to
 * this many: context for someone arriving mid-incident, while the snapshot stays around a megabyte
 * (an alert is 0.6–3.4 KB of JSON, median 1.3 KB, in a simulated fleet; a dashboard connecting during a storm must not take seconds to load);
 * older ones are a GET away.
 */
const SNAPSHOT_ALERTS = 500;
/** Changes in a connecting dashboard's snapshot, newest first: the recent deploys an engineer scans for a culprit; older ones are at GET /api/v1/changes. */
const SNAPSHOT_CHANGES = 200;

/** The typed socket.io server of changewatch. */
export type ChangewatchSocketServer = Server<ClientToServerEvents, ServerToClientEvents>;

/** A socket.io middleware that admits or refuses a connecting dashboard (read access). */
export type SocketAuthorizer = Parameters<ChangewatchSocketServer['use']>[0];

/**
 * Attaches socket.io to `http` and registers it with the core as a sink: every alert, change,
 * incident and automation state the core emits goes to every connected dashboard. Returns the
 * server and the function that detaches it.
 */
export function attachSocketGateway(
  http: HttpServer,
  core: Changewatch,
  stats: () => ServerStats,
  options: {
    authorize?: SocketAuthorizer;
    statsEveryMs?: number;
    /** The automation snapshot each dashboard gets on connect (later ones arrive as emissions). */
    automation?: () => Promise<AutomationSnapshot>;
  } = {},
): { io: ChangewatchSocketServer; close(): Promise<void> } {
  const statsEveryMs = options.statsEveryMs ?? 2_000;
  const io: ChangewatchSocketServer = new Server(http, { serveClient: false, cors: { origin: false } });
  if (options.authorize) io.use(options.authorize);
  io.on('connection', (socket) => {
    // Every open alert (the dashboard must not miss one) and recent resolved ones; the newest changes (older: GET /api/v1/changes).
    socket.emit('snapshot', { alerts: core.alerts.forDashboard(SNAPSHOT_ALERTS), changes: core.recentChanges(SNAPSHOT_CHANGES), stats: stats() });
    options.automation?.().then(
      (snapshot) => socket.emit('automation', snapshot),
      // The store being briefly unavailable must not cost the dashboard its alerts; the next broadcast fills the panel.
      () => undefined,
    );
  });
  const removeSink = core.addSink({
    name: 'socket',
    accept(emission: Emission) {
      for (const alert of emission.alerts) io.emit('alert', alert);
      for (const change of emission.changes) io.emit('change', change);
      for (const incident of emission.incidents) io.emit('incident', incident);
      if (emission.automation) io.emit('automation', emission.automation);
    },
  });
  const timer = setInterval(() => io.emit('stats', stats()), statsEveryMs);
  timer.unref();
  return {
    io,
    close: async () => {
      clearInterval(timer);
      removeSink();
      await new Promise<void>((resolve) => void io.close(() => resolve()));
    },
  };
}
