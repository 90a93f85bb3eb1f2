/**
 * A reactive "now" for relative times ("3 min ago"): reading `clock.now` inside a component or effect
 * re-runs it every tick, and the timer only runs while something is reading it.
 */
import { createSubscriber } from 'svelte/reactivity';

/** How often relative times refresh; "3 min ago" does not need second precision. */
const TICK_MS = 5_000;

/** Current time that Svelte re-reads every tick. */
export class Clock {
  readonly #subscribe: () => void;

  constructor(tickMs = TICK_MS) {
    this.#subscribe = createSubscriber((update) => {
      const timer = setInterval(update, tickMs);
      return () => clearInterval(timer);
    });
  }

  /** Milliseconds since the epoch; reactive. */
  get now(): number {
    this.#subscribe();
    return Date.now();
  }
}

/** The clock every relative time on the page shares, so they all tick together. */
export const clock = new Clock();
