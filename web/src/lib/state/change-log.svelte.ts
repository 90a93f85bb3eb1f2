/**
 * Reactive list of recent changes, newest first.
 */
import type { ChangeEvent } from '../../../../contract/events.ts';
import { ChangeIndex, DEFAULT_CHANGE_LIMIT } from '../change-index.ts';

/** The recent changes the dashboard shows, updated in batches. */
export class ChangeLog {
  readonly #index: ChangeIndex;
  #changes = $state.raw<readonly ChangeEvent[]>([]);

  constructor(limit = DEFAULT_CHANGE_LIMIT) {
    this.#index = new ChangeIndex(limit);
  }

  /** Changes, newest first. */
  get all(): readonly ChangeEvent[] {
    return this.#changes;
  }

  /** Replaces the list with a server snapshot. */
  replaceAll(changes: readonly ChangeEvent[]): void {
    this.#index.replaceAll(changes);
    this.#changes = this.#index.ordered;
  }

  /** Applies a batch of changes. */
  add(changes: readonly ChangeEvent[]): void {
    if (changes.length === 0) return;
    this.#index.add(changes);
    this.#changes = this.#index.ordered;
  }
}
