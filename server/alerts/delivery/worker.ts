/**
 * The delivery worker, the pipeline's "retry" stage and the only place that owns backoff. It leases
 * due outbox rows per endpoint, sends them through the endpoint's notifier and records the outcome:
 *
 * - at-least-once: a row is marked delivered only after a 2xx; a crash mid-attempt leaves it leased,
 *   and it is sent again when the lease ends (receivers deduplicate on `webhook-id` / `dedup_key`);
 * - in order per incident per endpoint: only the oldest pending row of an incident is ever leased;
 * - retryable failures back off exponentially with full jitter, never sooner than `Retry-After`;
 * - a row that fails finally (non-retryable, `maxAttempts`, or older than `maxAgeMs`) is marked dead,
 *   logged and audited, and the incident's later rows proceed;
 * - endpoints are independent: each has its own concurrency limit and circuit breaker, so a slow or
 *   dead receiver delays only its own rows, and detection only ever writes to the outbox.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { OutboxEntry } from '../../store/repositories/outbox.ts';
import type { Store } from '../../store/store.ts';
import type { DeliveryOutcome, Notifier } from '../notifiers/types.ts';
import { fullJitterDelay, type BackoffPolicy, type RandomSource } from './backoff.ts';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitSnapshot } from './circuit-breaker.ts';

/** The logging methods the worker uses (a pino logger fits). */
export interface DeliveryLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Timer functions, injectable so tests can drive time by hand. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Worker tuning; every field has a production default. */
export interface DeliveryWorkerOptions {
  store: Store;
  /** Configured endpoints by name; rows of other endpoints stay pending until one is configured again. */
  notifiers: ReadonlyMap<string, Notifier>;
  logger?: DeliveryLogger;
  /** Epoch-ms clock used for every scheduling decision (default `Date.now`). */
  now?: () => number;
  /** Jitter source (default `Math.random`). */
  random?: RandomSource;
  timers?: Timers;
  /** How often to look for due rows when nothing wakes the worker (default 1 s). */
  pollIntervalMs?: number;
  /** How long a leased row is reserved; must exceed the longest notifier timeout (at most 30 s) (default 60 s). */
  leaseMs?: number;
  /** Default 1 s base, 5 min cap. */
  backoff?: BackoffPolicy;
  /** Attempts after which a row is dead (default 100: about four hours on average at the default backoff). */
  maxAttempts?: number;
  /** Age after which a failing row is dead instead of retried (default 24 h). */
  maxAgeMs?: number;
  /** Default: open after 5 consecutive failures, probe after 30 s. */
  circuitBreaker?: CircuitBreakerOptions;
  /** Concurrent attempts per endpoint, across different incidents (default 4). */
  concurrencyPerEndpoint?: number;
  /** Lease owner id (default a random UUID). */
  workerId?: string;
  /** Delivered and dead rows of resolved incidents are deleted this long after they were created (default 7 days). */
  retainFinishedMs?: number;
}

/** How often old finished rows are deleted (wall clock). */
const PRUNE_EVERY_MS = 60 * 60_000;

/** What one `processDue` call did. */
export interface DeliveryReport {
  delivered: number;
  retried: number;
  dead: number;
  released: number;
}

/** Counts and states for metrics and the dashboard. */
export interface DeliveryStatus {
  inFlight: Record<string, number>;
  circuits: Record<string, CircuitSnapshot>;
}

/** The final fate of one attempt, for the report. */
type AttemptResult = keyof DeliveryReport;

/** Delivers the outbox. Call `start()` once; call `wake()` after enqueuing. */
export class DeliveryWorker {
  private readonly store: Store;
  private readonly notifiers: ReadonlyMap<string, Notifier>;
  private readonly logger: DeliveryLogger;
  private readonly now: () => number;
  private readonly random: RandomSource;
  private readonly timers: Timers;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly maxAttempts: number;
  private readonly maxAgeMs: number;
  private readonly concurrencyPerEndpoint: number;
  private readonly workerId: string;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly inFlight = new Map<string, Set<Promise<AttemptResult>>>();
  private readonly attemptingIds = new Set<string>();
  private readonly shutdown = new AbortController();
  private running = false;
  private timer: unknown;
  private ticking = false;
  private wakeRequested = false;
  private readonly retainFinishedMs: number;
  /** Next wall-clock time old finished rows are deleted; the first loop turn does it. */
  private nextPruneAt = 0;

  constructor(options: DeliveryWorkerOptions) {
    this.store = options.store;
    this.notifiers = options.notifiers;
    this.logger = options.logger ?? pino({ name: 'changewatch.delivery' });
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) };
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.backoff = options.backoff ?? { baseMs: 1_000, maxMs: 5 * 60_000 };
    this.maxAttempts = options.maxAttempts ?? 100;
    this.maxAgeMs = options.maxAgeMs ?? 24 * 60 * 60_000;
    this.concurrencyPerEndpoint = options.concurrencyPerEndpoint ?? 4;
    this.workerId = options.workerId ?? randomUUID();
    this.retainFinishedMs = options.retainFinishedMs ?? 7 * 24 * 60 * 60_000;
    const breakerOptions = options.circuitBreaker ?? { failureThreshold: 5, cooldownMs: 30_000 };
    for (const name of this.notifiers.keys()) {
      this.breakers.set(name, new CircuitBreaker(breakerOptions));
      this.inFlight.set(name, new Set());
    }
  }

  /** Starts polling the outbox in the background. */
  start(): void {
    if (this.running || this.shutdown.signal.aborted) return;
    this.running = true;
    this.schedule(0);
    void this.warnAboutUnconfiguredEndpoints();
  }

  /** Looks for due rows now instead of at the next poll (call after enqueuing). */
  wake(): void {
    if (this.running) this.schedule(0);
  }

  /**
   * Stops claiming, waits up to `graceMs` for attempts in flight, then aborts the rest; aborted rows
   * are released without counting an attempt, so the next worker sends them at once.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.allInFlight();
    if (pending.length > 0) {
      let graceTimer: unknown;
      const grace = new Promise<void>((resolve) => {
        graceTimer = this.timers.setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.allSettled(pending), grace]);
      this.timers.clearTimeout(graceTimer);
    }
    this.shutdown.abort();
    await Promise.allSettled(this.allInFlight());
  }

  /**
   * Leases every due row the endpoints can take now, attempts them, and resolves when those
   * attempts are recorded. The background loop uses the same steps without waiting; tests call it
   * directly with a hand-driven clock.
   */
  async processDue(): Promise<DeliveryReport> {
    const attempts = await this.dispatchDue();
    const report: DeliveryReport = { delivered: 0, retried: 0, dead: 0, released: 0 };
    for (const result of await Promise.all(attempts)) report[result] += 1;
    return report;
  }

  /** In-flight counts and circuit states per endpoint. */
  status(): DeliveryStatus {
    const now = this.now();
    const status: DeliveryStatus = { inFlight: {}, circuits: {} };
    for (const [name, breaker] of this.breakers) {
      status.inFlight[name] = this.inFlight.get(name)!.size;
      status.circuits[name] = breaker.snapshot(now);
    }
    return status;
  }

  /**
   * Deletes finished rows older than `retainFinishedMs` once an hour. Rows of incidents still open
   * stay whatever their age: the router reads them to know what was already paged.
   */
  private async pruneIfDue(): Promise<void> {
    const now = this.now();
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_EVERY_MS;
    const deleted = await this.store.outbox.deleteFinishedBefore(now - this.retainFinishedMs);
    if (deleted > 0) this.logger.info({ deleted }, 'deleted old delivered and dead notifications');
  }

  /** Arms the loop timer, keeping the earliest of the current and the new deadline. */
  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.ticking) {
      this.wakeRequested = true;
      return;
    }
    if (this.timer !== undefined) {
      if (delayMs > 0) return;
      this.timers.clearTimeout(this.timer);
    }
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delayMs);
  }

  /** One loop turn: start due attempts (without waiting for them) and re-arm. */
  private async tick(): Promise<void> {
    this.ticking = true;
    try {
      await this.dispatchDue();
      await this.pruneIfDue();
    } catch (error) {
      this.logger.error({ err: describeError(error) }, 'delivery worker could not read the outbox; retrying at the next poll');
    } finally {
      this.ticking = false;
    }
    const again = this.wakeRequested;
    this.wakeRequested = false;
    this.schedule(again ? 0 : this.pollIntervalMs);
  }

  /** Leases due rows for every endpoint with spare capacity and starts their attempts. */
  private async dispatchDue(): Promise<Array<Promise<AttemptResult>>> {
    const started: Array<Promise<AttemptResult>> = [];
    const now = this.now();
    await Promise.all(
      [...this.notifiers.values()].map(async (notifier) => {
        const breaker = this.breakers.get(notifier.name)!;
        const inFlight = this.inFlight.get(notifier.name)!;
        const capacity = Math.min(this.concurrencyPerEndpoint - inFlight.size, breaker.allowance(now));
        if (capacity <= 0) return;
        const rows = await this.store.outbox.claimDue({ endpoint: notifier.name, now, limit: capacity, owner: this.workerId, leaseMs: this.leaseMs });
        for (const row of rows) {
          // Only possible if an attempt outlived its lease; the attempt in flight will record the outcome.
          if (this.attemptingIds.has(row.id)) continue;
          this.attemptingIds.add(row.id);
          breaker.onAttemptStart(now);
          const attempt = this.attempt(notifier, breaker, row);
          inFlight.add(attempt);
          void attempt.finally(() => {
            inFlight.delete(attempt);
            this.attemptingIds.delete(row.id);
            this.wake();
          });
          started.push(attempt);
        }
      }),
    );
    return started;
  }

  /** Sends one row and records the outcome; never rejects. */
  private async attempt(notifier: Notifier, breaker: CircuitBreaker, row: OutboxEntry): Promise<AttemptResult> {
    // Notifiers must not throw; if a buggy one does, treat it as a retryable failure rather than lose the row.
    const outcome = await notifier.send(row.notification, this.shutdown.signal).catch(
      (error: unknown): DeliveryOutcome => ({ ok: false, retryable: true, reason: `${notifier.type} notifier failed unexpectedly: ${error instanceof Error ? error.name : 'error'}` }),
    );
    try {
      return await this.record(breaker, row, outcome);
    } catch (error) {
      // The outcome could not be stored: the lease will expire and the row be sent again (at-least-once).
      this.logger.error({ err: describeError(error), notificationId: row.id, endpoint: row.endpoint }, 'could not record a delivery outcome');
      return 'released';
    }
  }

  /** Applies one outcome to the outbox and the breaker. */
  private async record(breaker: CircuitBreaker, row: OutboxEntry, outcome: DeliveryOutcome): Promise<AttemptResult> {
    const now = this.now();
    const context = { notificationId: row.id, endpoint: row.endpoint, incidentId: row.incidentId, action: row.action, attempt: row.attempts + 1 };
    if (outcome.ok) {
      breaker.recordReachable();
      await this.store.outbox.markDelivered(row.id, now);
      this.logger.info({ ...context, status: outcome.status }, 'notification delivered');
      return 'delivered';
    }
    if (outcome.aborted) {
      breaker.recordAbandoned();
      await this.store.outbox.releaseLease(row.id);
      return 'released';
    }
    if (!outcome.retryable) {
      breaker.recordReachable();
      await this.markDead(row, `${outcome.reason} (not retryable)`, context);
      return 'dead';
    }
    if (breaker.recordFailure(now, outcome.retryAfterMs)) {
      this.logger.warn({ endpoint: row.endpoint, circuit: breaker.snapshot(now) }, 'endpoint circuit opened after repeated failures');
    }
    const attempts = row.attempts + 1;
    if (attempts >= this.maxAttempts || now - row.createdAt >= this.maxAgeMs) {
      await this.markDead(row, `${outcome.reason} (gave up after ${attempts} attempts over ${Math.round((now - row.createdAt) / 1000)} s)`, context);
      return 'dead';
    }
    const delay = Math.max(fullJitterDelay(attempts, this.backoff, this.random), outcome.retryAfterMs ?? 0);
    await this.store.outbox.scheduleRetry(row.id, { error: outcome.reason, nextAttemptAt: now + delay });
    this.logger.warn({ ...context, reason: outcome.reason, retryInMs: delay }, 'notification attempt failed; will retry');
    return 'retried';
  }

  /** Marks a row dead and audits it in one transaction, and logs it loudly. */
  private async markDead(row: OutboxEntry, reason: string, context: object): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (!(await tx.outbox.markDead(row.id, { error: reason }))) return;
      await tx.audit.append({
        actor: 'delivery',
        action: 'notification.dead',
        target: `notification:${row.id}`,
        reason: `notification to ${row.endpoint} for incident ${row.incidentId} (${row.action}) was not delivered: ${reason}`,
        evidence: { code: 'CW_NOTIFY_DEAD', endpoint: row.endpoint, incidentId: row.incidentId, action: row.action, attempts: row.attempts + 1, enqueuedAt: new Date(row.createdAt).toISOString() },
      });
    });
    this.logger.error({ ...context, code: 'CW_NOTIFY_DEAD', reason }, 'notification is dead: it will not be retried');
  }

  /** Pending rows addressed to endpoints no longer configured wait silently; say so once at start. */
  private async warnAboutUnconfiguredEndpoints(): Promise<void> {
    try {
      for (const { endpoint, status, count } of await this.store.outbox.countByStatus()) {
        if (status === 'pending' && !this.notifiers.has(endpoint)) {
          this.logger.warn({ endpoint, pending: count }, 'pending notifications for an endpoint that is not configured; they are held until it is');
        }
      }
    } catch (error) {
      this.logger.error({ err: describeError(error) }, 'could not count pending notifications');
    }
  }

  /** Every attempt currently in flight. */
  private allInFlight(): Array<Promise<AttemptResult>> {
    return [...this.inFlight.values()].flatMap((attempts) => [...attempts]);
  }
}

/** A store error's code and message, without stack or driver internals. */
function describeError(error: unknown): { code?: string; message: string } {
  if (error instanceof Error) return { ...('code' in error && typeof error.code === 'string' ? { code: error.code } : {}), message: error.message };
  return { message: String(error) };
}
