/**
 * The one socket.io connection the dashboard uses, typed with the server's event contract.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../contract/socket.ts';

/** A socket.io client speaking the changewatch dashboard protocol. */
export type DashboardSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Creates the dashboard's socket to the server that served the page (same origin, default `/socket.io` path).
 * It does not connect until `connect()` is called, so listeners can be attached first.
 *
 * `token` is read on every connection attempt and sent as `auth: { token }` when present (servers
 * with `auth.anonymousRead: false` require it); after signing in or out, disconnect and connect
 * again to present the new one.
 */
export function createDashboardSocket(token: () => string | undefined = () => undefined): DashboardSocket {
  return io({
    autoConnect: false,
    auth: (send) => {
      const current = token();
      send(current ? { token: current } : {});
    },
  });
}

/** Connects again with the current credentials (after signing in or out). */
export function reconnectDashboardSocket(socket: Pick<DashboardSocket, 'disconnect' | 'connect'>): void {
  socket.disconnect();
  socket.connect();
}
