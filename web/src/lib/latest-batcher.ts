/**
 * Coalesces a stream of versioned records (incidents, automation snapshots) into periodic batches
 * holding only the newest version per key, so a burst of updates costs the page one render per
 * interval however many arrive.
 */
import { DEFAULT_BATCH_INTERVAL_MS, type BatchTimers } from './update-batcher.ts';

/** Tuning for {@link LatestBatcher}. */
export interface LatestBatcherOptions<T> {
  /** Identity of a record; versions with the same key replace each other. */
  key: (item: T) => string;
  /** Whether `candidate` is at least as new as `current`; by default the later arrival wins. */
  supersedes?: (candidate: T, current: T) => boolean;
  /** How long the first record of a batch waits for company before the batch is delivered. */
  intervalMs?: number;
  timers?: BatchTimers;
}

const globalTimers: BatchTimers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** Buffers the newest version of each record, delivering them together at most once per interval. */
export class LatestBatcher<T> {
  readonly #deliver: (items: T[]) => void;
  readonly #key: (item: T) => string;
  readonly #supersedes: (candidate: T, current: T) => boolean;
  readonly #intervalMs: number;
  readonly #timers: BatchTimers;
  #pending = new Map<string, T>();
  #timer: unknown = undefined;

  constructor(deliver: (items: T[]) => void, options: LatestBatcherOptions<T>) {
    this.#deliver = deliver;
    this.#key = options.key;
    this.#supersedes = options.supersedes ?? (() => true);
    this.#intervalMs = options.intervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    this.#timers = options.timers ?? globalTimers;
  }

  /** Number of records waiting for the next flush. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Queues a record; an older queued version with the same key is replaced. */
  add(item: T): void {
    const key = this.#key(item);
    const queued = this.#pending.get(key);
    if (queued === undefined || this.#supersedes(item, queued)) this.#pending.set(key, item);
    if (this.#timer === undefined) {
      this.#timer = this.#timers.setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#intervalMs);
    }
  }

  /** Delivers whatever is queued now (nothing happens when the queue is empty). */
  flush(): void {
    this.#cancelTimer();
    if (this.#pending.size === 0) return;
    const items = [...this.#pending.values()];
    this.#pending = new Map();
    this.#deliver(items);
  }

  /** Drops everything queued without delivering it. */
  discard(): void {
    this.#cancelTimer();
    this.#pending = new Map();
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
