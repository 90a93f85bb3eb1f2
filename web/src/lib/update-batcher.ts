/**
 * Coalesces the server's alert and change events into periodic batches, so an incident storm of
 * thousands of events per second costs the page a handful of renders per second instead of thousands.
 */
import type { ChangeEvent } from '../../../contract/events.ts';
import type { Alert } from '../../../contract/alert.ts';
import { supersedes } from './alert-index.ts';
import { DEFAULT_CHANGE_LIMIT } from './change-index.ts';

/** One flush worth of updates: at most one (the newest) version per alert id. */
export interface UpdateBatch {
  alerts: Alert[];
  changes: ChangeEvent[];
}

/** Timer functions, injectable so tests can drive time. */
export interface BatchTimers {
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

/** Tuning for {@link UpdateBatcher}. */
export interface UpdateBatcherOptions {
  /** How long the first event of a batch waits for company before the batch is delivered. */
  intervalMs?: number;
  /** Most changes held between flushes; older ones beyond it are dropped, since the list keeps only the newest anyway. */
  maxPendingChanges?: number;
  timers?: BatchTimers;
}

/** Default delay between the first event of a batch and its delivery. */
export const DEFAULT_BATCH_INTERVAL_MS = 150;

const globalTimers: BatchTimers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** Buffers alerts (newest version per id) and changes, delivering them together at most once per interval. */
export class UpdateBatcher {
  readonly #deliver: (batch: UpdateBatch) => void;
  readonly #intervalMs: number;
  readonly #maxPendingChanges: number;
  readonly #timers: BatchTimers;
  #alerts = new Map<string, Alert>();
  #changes = new Map<string, ChangeEvent>();
  #timer: unknown = undefined;

  constructor(deliver: (batch: UpdateBatch) => void, options: UpdateBatcherOptions = {}) {
    this.#deliver = deliver;
    this.#intervalMs = options.intervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    this.#maxPendingChanges = options.maxPendingChanges ?? DEFAULT_CHANGE_LIMIT;
    this.#timers = options.timers ?? globalTimers;
  }

  /** Number of alert versions and changes waiting for the next flush. */
  get pendingCount(): number {
    return this.#alerts.size + this.#changes.size;
  }

  /** Queues an alert version; an older version of the same alert already queued is replaced. */
  addAlert(alert: Alert): void {
    const queued = this.#alerts.get(alert.id);
    if (queued === undefined || supersedes(alert, queued)) this.#alerts.set(alert.id, alert);
    this.#schedule();
  }

  /** Queues a change event. */
  addChange(change: ChangeEvent): void {
    // Re-inserting moves a repeated id to the back, so eviction below always drops the earliest arrival.
    this.#changes.delete(change.id);
    this.#changes.set(change.id, change);
    if (this.#changes.size > this.#maxPendingChanges) {
      const earliest = this.#changes.keys().next().value as string;
      this.#changes.delete(earliest);
    }
    this.#schedule();
  }

  /** Delivers whatever is queued now (nothing happens when the queue is empty). */
  flush(): void {
    this.#cancelTimer();
    if (this.pendingCount === 0) return;
    const batch: UpdateBatch = { alerts: [...this.#alerts.values()], changes: [...this.#changes.values()] };
    this.#alerts = new Map();
    this.#changes = new Map();
    this.#deliver(batch);
  }

  /** Drops everything queued without delivering it, e.g. when a fresh server snapshot supersedes it. */
  discard(): void {
    this.#cancelTimer();
    this.#alerts = new Map();
    this.#changes = new Map();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#intervalMs);
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
