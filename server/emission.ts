/**
 * The one output path. Everything the service produces — alert emissions with their current status,
 * changes seen, incidents opened or changed, records refused, the automation panel's state — leaves the core as an `Emission`, and
 * every consumer of it (the Kafka producer, the socket gateway, the alert router, any later feed)
 * is an `EmissionSink` registered with the core. No sink hears anything another does not.
 */
import type { Alert } from '../contract/alert.ts';
import type { AutomationSnapshot } from '../contract/automation.ts';
import type { ChangeEvent } from '../contract/events.ts';
import type { Incident } from '../contract/incident.ts';
import type { ChangewatchError } from './errors.ts';

/** Where a refused record came from, so it can be dead-lettered and traced back. */
export interface DeadLetter {
  error: ChangewatchError;
  /** The exact bytes that were refused (for an array item: that item's JSON). */
  original: Buffer | string;
  source: { kind: 'kafka'; topic: string; partition: number; offset: string; key?: string; index?: number } | { kind: 'http'; index: number };
}

/** What one step of the service produced: the answer to one record, one person's action, or one incident change. */
export interface Emission {
  /** Alert emissions, each with the status a person sees (`acknowledged` once its incident was acknowledged). */
  alerts: readonly Alert[];
  changes: readonly ChangeEvent[];
  incidents: readonly Incident[];
  deadLetters: readonly DeadLetter[];
  /** The automation panel's new state, when rollbacks, freezes or the kill switch changed. */
  automation?: AutomationSnapshot;
  /**
   * `fleet`: another instance of the deployment produced this (heard through the fleet feed,
   * server/fleet-feed.ts), so it is news for dashboards only; the sinks that publish, route or
   * re-announce skip it, since the instance that produced it did that already. Absent: this instance's own.
   */
  origin?: 'fleet';
}

/** A consumer of the core's emissions. `accept` must not block: sinks queue their own I/O. */
export interface EmissionSink {
  /** Names the sink in logs when it throws. */
  readonly name: string;
  accept(emission: Emission): void;
}

/** True for an emission another instance produced (see `Emission.origin`). */
export function isFromFleet(emission: Emission): boolean {
  return emission.origin === 'fleet';
}

/** The emission of nothing. */
export const EMPTY_EMISSION: Emission = Object.freeze({ alerts: [], changes: [], incidents: [], deadLetters: [] });

/** True when the emission carries nothing for sinks. */
export function isEmpty(emission: Emission): boolean {
  return emission.alerts.length === 0 && emission.changes.length === 0 && emission.incidents.length === 0 && emission.deadLetters.length === 0 && emission.automation === undefined;
}
