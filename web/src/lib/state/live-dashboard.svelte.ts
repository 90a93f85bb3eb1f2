/**
 * Everything the live connection feeds the dashboard, in one place: alerts, changes, server counters
 * and the connection's own state.
 */
import type { ServerStats } from '../../../../contract/alert.ts';
import { bindLiveUpdates, type DashboardSnapshot, type LiveUpdateSink } from '../live-updates.ts';
import type { DashboardSocket } from '../socket.ts';
import type { UpdateBatch } from '../update-batcher.ts';
import { AlertFeed } from './alert-feed.svelte.ts';
import { ChangeLog } from './change-log.svelte.ts';
import { ConnectionState } from './connection-state.svelte.ts';

/** The dashboard's live state, fed by one socket. */
export class LiveDashboard implements LiveUpdateSink {
  /** Alerts, newest version of each. */
  readonly alerts = new AlertFeed();
  /** Recent changes. */
  readonly changes = new ChangeLog();
  /** State of the socket connection. */
  readonly connection = new ConnectionState();
  /** Latest server counters, once received. */
  serverStats = $state.raw<ServerStats | undefined>(undefined);

  /** Starts listening on the socket and connects it; returns a function that disconnects and stops listening. */
  connect(socket: DashboardSocket): () => void {
    const unbind = bindLiveUpdates(socket, this);
    socket.connect();
    return () => {
      socket.disconnect();
      unbind();
    };
  }

  /** {@inheritDoc LiveUpdateSink.snapshot} */
  snapshot(snapshot: DashboardSnapshot): void {
    this.alerts.replaceAll(snapshot.alerts);
    this.changes.replaceAll(snapshot.changes);
    this.serverStats = snapshot.stats;
  }

  /** {@inheritDoc LiveUpdateSink.batch} */
  batch(batch: UpdateBatch): void {
    this.alerts.upsert(batch.alerts);
    this.changes.add(batch.changes);
  }

  /** {@inheritDoc LiveUpdateSink.stats} */
  stats(stats: ServerStats): void {
    this.serverStats = stats;
  }

  /** {@inheritDoc LiveUpdateSink.connected} */
  connected(): void {
    this.connection.markConnected();
  }

  /** {@inheritDoc LiveUpdateSink.disconnected} */
  disconnected(reason: string, willReconnect: boolean): void {
    this.connection.markDisconnected(reason, willReconnect);
  }

  /** {@inheritDoc LiveUpdateSink.reconnecting} */
  reconnecting(attempt: number): void {
    this.connection.markReconnecting(attempt);
  }

  /** {@inheritDoc LiveUpdateSink.connectFailed} */
  connectFailed(message: string, code?: string): void {
    this.connection.markConnectFailed(message, code);
  }
}
