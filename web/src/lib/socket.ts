/**
 * The one socket.io connection the dashboard uses, typed with the server's event contract.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../server/contract/alert.ts';

/** A socket.io client speaking the changewatch dashboard protocol. */
export type DashboardSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Creates the dashboard's socket to the server that served the page (same origin, default `/socket.io` path).
 * It does not connect until `connect()` is called, so listeners can be attached first.
 */
export function createDashboardSocket(): DashboardSocket {
  return io({ autoConnect: false });
}
