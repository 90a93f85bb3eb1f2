/**
 * The socket.io contract: what the server pushes to every dashboard. Each event carries a type from
 * the rest of the contract, so the dashboard's socket client is typed end to end.
 */
import type { Alert, ServerStats } from './alert.ts';
import type { AutomationSnapshot } from './automation.ts';
import type { ChangeEvent } from './events.ts';
import type { Incident } from './incident.ts';

/** socket.io events the server sends. */
export interface ServerToClientEvents {
  /** Sent once on connect: every open alert, recently resolved ones (up to 500 in all), and the 200 newest changes. */
  snapshot: (data: { alerts: Alert[]; changes: ChangeEvent[]; stats: ServerStats }) => void;
  /** An alert was opened or updated. */
  alert: (alert: Alert) => void;
  /** A change event was seen. */
  change: (change: ChangeEvent) => void;
  /** An incident was opened, grew, or changed status (acknowledged, resolved). */
  incident: (incident: Incident) => void;
  /** Periodic counters. */
  stats: (stats: ServerStats) => void;
  /** Rollbacks, freezes and the kill switch: sent on connect and after every change to them. */
  automation: (snapshot: AutomationSnapshot) => void;
}

/** socket.io events the dashboard sends: none; people act through the HTTP API with their token. */
export interface ClientToServerEvents {}
