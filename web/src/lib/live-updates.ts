/**
 * Connects the dashboard socket's events to the dashboard state: snapshots apply at once, alert and
 * change events go through an {@link UpdateBatcher}, and connection changes are reported as they happen.
 */
import type { ServerStats } from '../../../contract/alert.ts';
import type { ServerToClientEvents } from '../../../contract/socket.ts';
import type { DashboardSocket } from './socket.ts';
import { UpdateBatcher, type UpdateBatch, type UpdateBatcherOptions } from './update-batcher.ts';

/** What the server sends once per connection. */
export type DashboardSnapshot = Parameters<ServerToClientEvents['snapshot']>[0];

/** Receives everything the live connection learns, already batched. */
export interface LiveUpdateSink {
  /** A fresh snapshot: replace all alerts, changes and stats. */
  snapshot(snapshot: DashboardSnapshot): void;
  /** Alerts and changes received since the last batch (newest version per alert id). */
  batch(batch: UpdateBatch): void;
  /** Latest server counters. */
  stats(stats: ServerStats): void;
  /** The socket (re)connected. */
  connected(): void;
  /** The socket lost its connection; `willReconnect` says whether socket.io retries on its own. */
  disconnected(reason: string, willReconnect: boolean): void;
  /** socket.io is about to make reconnection attempt number `attempt`. */
  reconnecting(attempt: number): void;
  /** A connection attempt failed; `code` is the server's error code when it refused the connection (e.g. `CW_AUTH_UNAUTHORIZED`). */
  connectFailed(message: string, code?: string): void;
}

/** Attaches the sink to the socket's events; returns a function that detaches it again and drops queued updates. */
export function bindLiveUpdates(socket: DashboardSocket, sink: LiveUpdateSink, options?: UpdateBatcherOptions): () => void {
  const batcher = new UpdateBatcher((batch) => sink.batch(batch), options);

  const onSnapshot = (snapshot: DashboardSnapshot): void => {
    // Events queued before the snapshot are already reflected in it, and may mention alerts it no longer has.
    batcher.discard();
    sink.snapshot(snapshot);
  };
  const onAlert: ServerToClientEvents['alert'] = (alert) => batcher.addAlert(alert);
  const onChange: ServerToClientEvents['change'] = (change) => batcher.addChange(change);
  const onStats: ServerToClientEvents['stats'] = (stats) => sink.stats(stats);
  const onConnect = (): void => sink.connected();
  const onDisconnect = (reason: string): void => sink.disconnected(reason, socket.active);
  const onConnectError = (error: Error): void => {
    // A refusal by the server's middleware carries its error envelope as `data`.
    const code = (error as Error & { data?: { code?: unknown } }).data?.code;
    if (typeof code === 'string') sink.connectFailed(error.message, code);
    else sink.connectFailed(error.message);
  };
  const onReconnectAttempt = (attempt: number): void => sink.reconnecting(attempt);

  socket.on('snapshot', onSnapshot);
  socket.on('alert', onAlert);
  socket.on('change', onChange);
  socket.on('stats', onStats);
  socket.on('connect', onConnect);
  socket.on('disconnect', onDisconnect);
  socket.on('connect_error', onConnectError);
  socket.io.on('reconnect_attempt', onReconnectAttempt);

  return () => {
    socket.off('snapshot', onSnapshot);
    socket.off('alert', onAlert);
    socket.off('change', onChange);
    socket.off('stats', onStats);
    socket.off('connect', onConnect);
    socket.off('disconnect', onDisconnect);
    socket.off('connect_error', onConnectError);
    socket.io.off('reconnect_attempt', onReconnectAttempt);
    batcher.discard();
  };
}
