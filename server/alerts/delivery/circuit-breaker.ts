/**
 * Per-endpoint circuit breaker: after `failureThreshold` consecutive retryable failures the endpoint
 * is left alone for `cooldownMs`, then a single probe decides between closing and another cool-down.
 * A receiver's `Retry-After` additionally pauses the endpoint until that time. State is in memory:
 * after a restart every endpoint starts closed, which costs at most one more failing round.
 */

/** Breaker tuning. */
export interface CircuitBreakerOptions {
  /** Consecutive retryable failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before a half-open probe. */
  cooldownMs: number;
}

/** `closed`: normal; `open`: no attempts; `half-open`: one probe allowed. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** What the breaker says about an endpoint right now. */
export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** Epoch ms until which nothing is sent (open circuit or Retry-After), when in the future. */
  blockedUntil?: number;
}

/** The breaker of one endpoint. */
export class CircuitBreaker {
  private consecutiveFailures = 0;
  private tripped = false;
  private openUntil = 0;
  private pausedUntil = 0;
  private probeInFlight = false;

  constructor(private readonly options: CircuitBreakerOptions) {}

  /** The current state at `now`. */
  state(now: number): CircuitState {
    if (!this.tripped) return 'closed';
    return now < this.openUntil ? 'open' : 'half-open';
  }

  /** How many attempts may start at `now`: unlimited when closed, one probe when half-open, else none. */
  allowance(now: number): number {
    if (now < this.pausedUntil) return 0;
    switch (this.state(now)) {
      case 'closed':
        return Number.POSITIVE_INFINITY;
      case 'half-open':
        return this.probeInFlight ? 0 : 1;
      case 'open':
        return 0;
    }
  }

  /** Call when an attempt starts; in half-open it becomes the probe. */
  onAttemptStart(now: number): void {
    if (this.state(now) === 'half-open') this.probeInFlight = true;
  }

  /** The endpoint answered (2xx, or a final 4xx: the receiver is up even if it refused this one). */
  recordReachable(): void {
    this.consecutiveFailures = 0;
    this.tripped = false;
    this.probeInFlight = false;
  }

  /** A retryable failure; returns true when this failure opened (or re-opened) the circuit. */
  recordFailure(now: number, retryAfterMs?: number): boolean {
    this.consecutiveFailures += 1;
    if (retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
    const wasProbe = this.probeInFlight;
    this.probeInFlight = false;
    if (wasProbe || (!this.tripped && this.consecutiveFailures >= this.options.failureThreshold)) {
      this.tripped = true;
      this.openUntil = now + this.options.cooldownMs;
      return true;
    }
    return false;
  }

  /** An attempt ended without an answer either way (aborted at shutdown). */
  recordAbandoned(): void {
    this.probeInFlight = false;
  }

  /** State for metrics and logs. */
  snapshot(now: number): CircuitSnapshot {
    const blockedUntil = Math.max(this.tripped ? this.openUntil : 0, this.pausedUntil);
    return {
      state: this.state(now),
      consecutiveFailures: this.consecutiveFailures,
      ...(blockedUntil > now ? { blockedUntil } : {}),
    };
  }
}
