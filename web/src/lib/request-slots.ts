/**
 * A small limit on how many requests of one kind run at once. Charts fetch lazily as their cards
 * scroll into view; a page that shows many cards at once still sends only a few requests at a time.
 */

/** Runs tasks with at most `max` in flight; the rest wait in arrival order. */
export class RequestSlots {
  readonly #max: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(max: number) {
    this.#max = max;
  }

  /** Number of tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Runs `task` once a slot is free; a waiting task whose `signal` aborts never starts. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#running >= this.#max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    if (signal?.aborted) {
      this.#next();
      throw signal.reason;
    }
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#next();
    }
  }

  #next(): void {
    this.#waiting.shift()?.();
  }
}
