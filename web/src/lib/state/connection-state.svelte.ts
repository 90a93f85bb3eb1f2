/**
 * Reactive state of the live connection, worded for the connection indicator.
 */

/** Where the live connection stands. */
export type ConnectionPhase = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** The live connection's phase, since when, and why it is down when it is. */
export class ConnectionState {
  /** Current phase. */
  phase = $state<ConnectionPhase>('connecting');
  /** When the current phase began (epoch ms). */
  since = $state(Date.now());
  /** Reconnection attempts since the connection was lost. */
  attempt = $state(0);
  /** Last reason the connection dropped or failed, when it is not connected. */
  problem = $state<string | undefined>(undefined);
  /** Whether the page has been connected at least once, i.e. whether what it shows could be stale rather than empty. */
  hasConnected = $state(false);
  /** Whether the server refused the connection for want of a (valid) API token (`auth.anonymousRead: false`). */
  needsToken = $state(false);
  /** The server's error code when it refused the last connection attempt (e.g. `CW_AUTH_UNAUTHORIZED`); undefined for a network failure. */
  refusedCode = $state<string | undefined>(undefined);

  /** The socket connected (or reconnected). */
  markConnected(): void {
    this.#enter('connected');
    this.attempt = 0;
    this.problem = undefined;
    this.hasConnected = true;
    this.needsToken = false;
    this.refusedCode = undefined;
  }

  /** The socket dropped; socket.io retries by itself unless the server or the page closed it on purpose. */
  markDisconnected(reason: string, willReconnect: boolean): void {
    this.#enter(willReconnect ? 'reconnecting' : 'disconnected');
    this.problem = reason;
  }

  /** socket.io started another reconnection attempt. */
  markReconnecting(attempt: number): void {
    this.#enter('reconnecting');
    this.attempt = attempt;
  }

  /** A connection attempt failed; `code` is the server's error code when it refused the connection. */
  markConnectFailed(message: string, code?: string): void {
    this.problem = message;
    this.refusedCode = code;
    this.needsToken = code === 'CW_AUTH_UNAUTHORIZED' || code === 'CW_AUTH_FORBIDDEN';
    // socket.io does not retry a connection the server refused, so say so rather than "Connecting…" forever.
    if (this.needsToken) this.#enter('disconnected');
  }

  #enter(phase: ConnectionPhase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    this.since = Date.now();
  }
}
