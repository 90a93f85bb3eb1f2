/**
 * The delivery worker, the pipeline's "retry" stage and the only place that owns backoff. It leases
 * due jobs from its delivery sources — the notification outbox (one source per endpoint) and any
 * other given, such as approved rollbacks — sends them and records the outcome:
 *
 * - at-least-once: a job is marked delivered only after a 2xx; a crash mid-attempt leaves it leased,
 *   and it is sent again when the lease ends (receivers deduplicate on `webhook-id` / `dedup_key`);
 * - in order per incident per endpoint: the outbox only ever leases an incident's oldest pending row;
 * - retryable failures back off exponentially with full jitter, never sooner than `Retry-After`;
 * - a job that fails finally (non-retryable, `maxAttempts`, or older than `maxAgeMs`) is marked dead
 *   by its source (which audits it), and the queue proceeds;
 * - sources are independent: each has its own concurrency limit and circuit breaker, so a slow or
 *   dead receiver delays only its own jobs, and detection only ever writes to the outbox.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { ServiceMetrics } from '../../metrics.ts';
import type { Store } from '../../store/store.ts';
import type { DeliveryOutcome, Notifier } from '../notifiers/types.ts';
import { fullJitterDelay, type BackoffPolicy, type RandomSource } from './backoff.ts';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitSnapshot } from './circuit-breaker.ts';
import { OutboxSource } from './outbox-source.ts';
import type { DeliveryJob, DeliveryLogger, DeliverySource } from './source.ts';

export type { DeliveryLogger } from './source.ts';

/** Timer functions, injectable so tests can drive time by hand. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Worker tuning; every field but `store` and `notifiers` has a production default. */
export interface DeliveryWorkerOptions {
  store: Store;
  /** Configured endpoints by name; rows of other endpoints stay pending until one is configured again. */
  notifiers: ReadonlyMap<string, Notifier>;
  /** Further queues to drain besides the outbox (e.g. approved rollbacks); names must differ from every endpoint's. */
  sources?: readonly DeliverySource[];
  logger?: DeliveryLogger;
  /** Epoch-ms clock used for every scheduling decision (default `Date.now`). */
  now?: () => number;
  /** Jitter source (default `Math.random`). */
  random?: RandomSource;
  timers?: Timers;
  /** How often to look for due jobs when nothing wakes the worker (default 1 s). */
  pollIntervalMs?: number;
  /** How long a leased job is reserved; must exceed the longest send timeout (at most 30 s) (default 60 s). */
  leaseMs?: number;
  /** Default 1 s base, 5 min cap. */
  backoff?: BackoffPolicy;
  /** Attempts after which a job is dead, unless its source says otherwise (default 100: about four hours on average at the default backoff). */
  maxAttempts?: number;
  /** Age after which a failing job is dead instead of retried (default 24 h). */
  maxAgeMs?: number;
  /** Default: open after 5 consecutive failures, probe after 30 s. */
  circuitBreaker?: CircuitBreakerOptions;
  /** Concurrent attempts per source, across different incidents (default 4). */
  concurrencyPerEndpoint?: number;
  /** Lease owner id (default a random UUID). */
  workerId?: string;
  /** Delivered and dead rows of resolved incidents are deleted this long after they were created (default 7 days). */
  retainFinishedMs?: number;
  /** Counts every attempt's outcome per source (`changewatch_deliveries_total`). */
  metrics?: ServiceMetrics;
}

/** How often old finished rows are deleted (wall clock). */
const PRUNE_EVERY_MS = 60 * 60_000;

/** What one `processDue` call did; `cancelled` jobs were withdrawn by their source before an attempt. */
export interface DeliveryReport {
  delivered: number;
  retried: number;
  dead: number;
  released: number;
  cancelled: number;
}

/** Counts and states for metrics and the dashboard. */
export interface DeliveryStatus {
  inFlight: Record<string, number>;
  circuits: Record<string, CircuitSnapshot>;
}

/** The final fate of one attempt, for the report. */
type AttemptResult = keyof DeliveryReport;

/** Delivers the outbox and the other sources. Call `start()` once; call `wake()` after enqueuing. */
export class DeliveryWorker {
  private readonly store: Store;
  private readonly notifiers: ReadonlyMap<string, Notifier>;
  private readonly sources: readonly DeliverySource[];
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
  private readonly metrics: ServiceMetrics | undefined;
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
    this.metrics = options.metrics;
    this.sources = [...[...this.notifiers.values()].map((notifier) => new OutboxSource(this.store, notifier, this.logger)), ...(options.sources ?? [])];
    const breakerOptions = options.circuitBreaker ?? { failureThreshold: 5, cooldownMs: 30_000 };
    for (const source of this.sources) {
      if (this.breakers.has(source.name)) throw new Error(`two delivery sources are named ${source.name}`);
      this.breakers.set(source.name, new CircuitBreaker(breakerOptions));
      this.inFlight.set(source.name, new Set());
      this.metrics?.knowEndpoint(source.name);
    }
  }

  /** Starts polling the sources in the background. */
  start(): void {
    if (this.running || this.shutdown.signal.aborted) return;
    this.running = true;
    this.schedule(0);
    void this.warnAboutUnconfiguredEndpoints();
  }

  /** Looks for due jobs now instead of at the next poll (call after enqueuing or approving). */
  wake(): void {
    if (this.running) this.schedule(0);
  }

  /**
   * Stops claiming, waits up to `graceMs` for attempts in flight, then aborts the rest; aborted jobs
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
   * Leases every due job the sources can take now, attempts them, and resolves when those
   * attempts are recorded. The background loop uses the same steps without waiting; tests call it
   * directly with a hand-driven clock.
   */
  async processDue(): Promise<DeliveryReport> {
    const attempts = await this.dispatchDue();
    const report: DeliveryReport = { delivered: 0, retried: 0, dead: 0, released: 0, cancelled: 0 };
    for (const result of await Promise.all(attempts)) report[result] += 1;
    return report;
  }

  /** In-flight counts and circuit states per source. */
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
   * Deletes finished outbox rows older than `retainFinishedMs` once an hour. Rows of incidents
   * still open stay whatever their age: the router reads them to know what was already paged.
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
      this.logger.error({ err: describeError(error) }, 'delivery worker could not read its queues; retrying at the next poll');
    } finally {
      this.ticking = false;
    }
    const again = this.wakeRequested;
    this.wakeRequested = false;
    this.schedule(again ? 0 : this.pollIntervalMs);
  }

  /** Leases due jobs for every source with spare capacity and starts their attempts. */
  private async dispatchDue(): Promise<Array<Promise<AttemptResult>>> {
    const started: Array<Promise<AttemptResult>> = [];
    const now = this.now();
    await Promise.all(
      this.sources.map(async (source) => {
        const breaker = this.breakers.get(source.name)!;
        const inFlight = this.inFlight.get(source.name)!;
        const capacity = Math.min(this.concurrencyPerEndpoint - inFlight.size, breaker.allowance(now));
        if (capacity <= 0) return;
        const jobs = await source.claimDue({ now, limit: capacity, owner: this.workerId, leaseMs: this.leaseMs });
        for (const job of jobs) {
          // Only possible if an attempt outlived its lease; the attempt in flight will record the outcome.
          const attemptKey = `${source.name}\u0000${job.id}`;
          if (this.attemptingIds.has(attemptKey)) continue;
          this.attemptingIds.add(attemptKey);
          breaker.onAttemptStart(now);
          const attempt = this.attempt(source, breaker, job).then((result) => {
            this.metrics?.deliveries.inc({ endpoint: source.name, outcome: result });
            return result;
          });
          inFlight.add(attempt);
          void attempt.finally(() => {
            inFlight.delete(attempt);
            this.attemptingIds.delete(attemptKey);
            this.wake();
          });
          started.push(attempt);
        }
      }),
    );
    return started;
  }

  /** Checks, sends and records one job; never rejects. */
  private async attempt<Job extends DeliveryJob>(source: DeliverySource<Job>, breaker: CircuitBreaker, job: Job): Promise<AttemptResult> {
    try {
      const settled = await source.settleBeforeSending?.(job, this.now());
      if (settled !== undefined) {
        breaker.recordAbandoned();
        return settled;
      }
      // Sources must not throw; if a buggy one does, treat it as a retryable failure rather than lose the job.
      const outcome = await source.send(job, this.shutdown.signal).catch(
        (error: unknown): DeliveryOutcome => ({ ok: false, retryable: true, reason: `${source.subject} to ${source.name} failed unexpectedly: ${error instanceof Error ? error.name : 'error'}` }),
      );
      return await this.record(source, breaker, job, outcome);
    } catch (error) {
      // The check or the outcome could not be stored: the lease will expire and the job be sent again (at-least-once).
      breaker.recordAbandoned();
      this.logger.error({ err: describeError(error), ...source.describe(job) }, 'could not record a delivery outcome');
      return 'released';
    }
  }

  /** Applies one outcome to the source and the breaker. */
  private async record<Job extends DeliveryJob>(source: DeliverySource<Job>, breaker: CircuitBreaker, job: Job, outcome: DeliveryOutcome): Promise<AttemptResult> {
    const now = this.now();
    const attempts = job.attempts + 1;
    const context = { ...source.describe(job), attempt: attempts };
    if (outcome.ok) {
      breaker.recordReachable();
      await source.markDelivered(job, { status: outcome.status, attempts, at: now });
      this.logger.info({ ...context, status: outcome.status }, `${source.subject} delivered`);
      return 'delivered';
    }
    if (outcome.aborted) {
      breaker.recordAbandoned();
      await source.releaseLease(job);
      return 'released';
    }
    const ageMs = now - job.createdAt;
    if (!outcome.retryable) {
      breaker.recordReachable();
      await source.markDead(job, { reason: outcome.reason, attempts, cause: 'rejected', ageMs, at: now });
      return 'dead';
    }
    if (breaker.recordFailure(now, outcome.retryAfterMs)) {
      this.logger.warn({ endpoint: source.name, circuit: breaker.snapshot(now) }, 'endpoint circuit opened after repeated failures');
    }
    if (attempts >= (source.maxAttempts ?? this.maxAttempts) || ageMs >= this.maxAgeMs) {
      await source.markDead(job, { reason: outcome.reason, attempts, cause: 'exhausted', ageMs, at: now });
      return 'dead';
    }
    const delay = Math.max(fullJitterDelay(attempts, this.backoff, this.random), outcome.retryAfterMs ?? 0);
    await source.scheduleRetry(job, { reason: outcome.reason, attempts, nextAttemptAt: now + delay, at: now });
    this.logger.warn({ ...context, reason: outcome.reason, retryInMs: delay }, `${source.subject} attempt failed; will retry`);
    return 'retried';
  }

  /** Pending rows addressed to endpoints no longer configured wait silently; say so once at start. */
  private async warnAboutUnconfiguredEndpoints(): Promise<void> {
    try {
      for (const { endpoint, status, count } of await this.store.outbox.countByStatus()) {
        // Change rows (`changes:<name>`) belong to a source of that name, not to a notifier.
        if (status === 'pending' && !this.notifiers.has(endpoint) && !this.breakers.has(endpoint)) {
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
