/**
 * What the delivery worker drains: a durable queue of jobs for one receiver. The notification
 * outbox is one source per configured endpoint (outbox-source.ts); approved rollbacks are another
 * (server/actions/rollback-delivery.ts). A source stores and sends; the worker decides when to
 * attempt (concurrency, circuit breaker, backoff) and when to give up (`maxAttempts`, `maxAgeMs`).
 */
import type { DeliveryOutcome } from '../notifiers/types.ts';

/** The logging methods the worker and its sources use (a pino logger fits). */
export interface DeliveryLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** One leased job, as the worker sees it. */
export interface DeliveryJob {
  /** The job's id, also the receiver's idempotency key on every attempt. */
  id: string;
  /** Attempts made before this one (a shutdown-aborted attempt does not count). */
  attempts: number;
  /** Epoch ms from which the job's age counts (the worker's `maxAgeMs`). */
  createdAt: number;
}

/** A lease request: up to `limit` due jobs for `owner` until `now + leaseMs` (epoch ms). */
export interface DeliveryClaim {
  now: number;
  limit: number;
  owner: string;
  leaseMs: number;
}

/** Why the worker gave up on a job. */
export interface FinalFailure {
  /** The last attempt's secret-free reason. */
  reason: string;
  /** Attempts made, the last one included. */
  attempts: number;
  /** `rejected`: the receiver refused it for good; `exhausted`: `maxAttempts` or `maxAgeMs` was reached. */
  cause: 'rejected' | 'exhausted';
  /** Milliseconds since the job's `createdAt`. */
  ageMs: number;
  /** Epoch ms. */
  at: number;
}

/** How a source settled a job itself, without sending it: `cancelled` (withdrawn) or `dead` (must no longer be sent). */
export type SettledBeforeSending = 'cancelled' | 'dead';

/** A queue the delivery worker drains; its methods never retry or sleep. */
export interface DeliverySource<Job extends DeliveryJob = DeliveryJob> {
  /** Unique among the worker's sources: the circuit breaker and concurrency key (an endpoint name). */
  readonly name: string;
  /** What a job is, for log messages (`notification`, `rollback`). */
  readonly subject: string;
  /** Attempts after which a job is given up (the worker's `maxAttempts` when absent). */
  readonly maxAttempts?: number;
  /** Leases due jobs, oldest first. */
  claimDue(claim: DeliveryClaim): Promise<Job[]>;
  /**
   * The last check before an attempt, when the source has one: the job is settled without being
   * sent (and the answer says how), or `undefined` to send it. Rollbacks check the kill switch here.
   */
  settleBeforeSending?(job: Job, now: number): Promise<SettledBeforeSending | undefined>;
  /** Makes one attempt; never throws (every failure is an outcome). `signal` aborts it (shutdown). */
  send(job: Job, signal: AbortSignal): Promise<DeliveryOutcome>;
  /** The receiver accepted the job (`status` is its HTTP status, `at` epoch ms). */
  markDelivered(job: Job, delivery: { status: number; attempts: number; at: number }): Promise<void>;
  /** A retryable failure: record it and when the job is due again (epoch ms); the lease ends. */
  scheduleRetry(job: Job, retry: { reason: string; attempts: number; nextAttemptAt: number; at: number }): Promise<void>;
  /** The worker gave up: record the final failure (and audit it). */
  markDead(job: Job, failure: FinalFailure): Promise<void>;
  /** Gives the job back without counting an attempt (shutdown). */
  releaseLease(job: Job): Promise<void>;
  /** Log fields naming the job. */
  describe(job: Job): object;
}
