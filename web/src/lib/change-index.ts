/**
 * The dashboard's view of recent changes: newest first, one entry per change id, capped.
 */
import type { ChangeEvent } from '../../../contract/events.ts';

/** How many changes the dashboard keeps by default. */
export const DEFAULT_CHANGE_LIMIT = 200;

/** Newest event time first; the id breaks ties so the order is stable. */
function newestFirst(a: ChangeEvent, b: ChangeEvent): number {
  return b.timestamp - a.timestamp || a.id.localeCompare(b.id);
}

/** The most recent changes, newest first, at most `limit` of them. */
export class ChangeIndex {
  readonly #limit: number;
  #ordered: ChangeEvent[] = [];

  constructor(limit = DEFAULT_CHANGE_LIMIT) {
    this.#limit = limit;
  }

  /** Changes newest first; a new array after every change, so it can be handed to reactive state as is. */
  get ordered(): readonly ChangeEvent[] {
    return this.#ordered;
  }

  /** Replaces everything with a server snapshot. */
  replaceAll(changes: readonly ChangeEvent[]): void {
    this.#ordered = [];
    this.add(changes);
  }

  /** Adds changes; a change id seen again replaces the earlier copy. */
  add(changes: Iterable<ChangeEvent>): void {
    const byId = new Map(this.#ordered.map((change) => [change.id, change]));
    for (const change of changes) byId.set(change.id, change);
    this.#ordered = [...byId.values()].sort(newestFirst).slice(0, this.#limit);
  }
}
