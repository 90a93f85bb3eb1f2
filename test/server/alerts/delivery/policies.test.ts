import { describe, expect, it } from 'vitest';
import { fullJitterDelay, seededRandom } from '../../../../server/alerts/delivery/backoff.ts';
import { CircuitBreaker } from '../../../../server/alerts/delivery/circuit-breaker.ts';

describe('full-jitter backoff', () => {
  const policy = { baseMs: 1_000, maxMs: 60_000 };

  it('stays under a ceiling that doubles per failure up to the cap', () => {
    expect(fullJitterDelay(1, policy, () => 0.999_999)).toBe(999);
    expect(fullJitterDelay(3, policy, () => 0.999_999)).toBe(3_999);
    expect(fullJitterDelay(10, policy, () => 0.999_999)).toBe(59_999);
    expect(fullJitterDelay(1_000, policy, () => 0.5)).toBe(30_000);
    expect(fullJitterDelay(4, policy, () => 0)).toBe(0);
  });

  it('spreads delays over the whole range with a seeded source, reproducibly', () => {
    const delays = Array.from({ length: 2_000 }, (_, i) => fullJitterDelay(5, policy, seededRandom(i)));
    expect(Math.min(...delays)).toBeLessThan(1_000);
    expect(Math.max(...delays)).toBeGreaterThan(15_000);
    expect(Math.max(...delays)).toBeLessThan(16_000);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(7_000);
    expect(mean).toBeLessThan(9_000);
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, allows one half-open probe after the cool-down, and closes on success', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000 });
    expect(breaker.allowance(0)).toBe(Number.POSITIVE_INFINITY);
    expect(breaker.recordFailure(1)).toBe(false);
    expect(breaker.recordFailure(2)).toBe(false);
    expect(breaker.recordFailure(3)).toBe(true);
    expect(breaker.snapshot(4)).toEqual({ state: 'open', consecutiveFailures: 3, blockedUntil: 10_003 });
    expect(breaker.allowance(10_002)).toBe(0);
    expect(breaker.state(10_003)).toBe('half-open');
    expect(breaker.allowance(10_003)).toBe(1);
    breaker.onAttemptStart(10_003);
    expect(breaker.allowance(10_004)).toBe(0);
    breaker.recordReachable();
    expect(breaker.snapshot(10_005)).toEqual({ state: 'closed', consecutiveFailures: 0 });
  });

  it('re-opens for another cool-down when the probe fails', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1_000 });
    breaker.recordFailure(0);
    breaker.onAttemptStart(1_000);
    expect(breaker.recordFailure(1_100)).toBe(true);
    expect(breaker.state(2_099)).toBe('open');
    expect(breaker.state(2_100)).toBe('half-open');
  });

  it('pauses for Retry-After even while closed, and a success resets the failure count', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 1_000 });
    breaker.recordFailure(0, 30_000);
    expect(breaker.state(1)).toBe('closed');
    expect(breaker.allowance(29_999)).toBe(0);
    expect(breaker.allowance(30_000)).toBe(Number.POSITIVE_INFINITY);
    breaker.recordFailure(1);
    breaker.recordReachable();
    for (let i = 0; i < 4; i++) breaker.recordFailure(2);
    expect(breaker.state(3)).toBe('closed');
  });

  it('frees the half-open probe slot when an attempt is abandoned', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10 });
    breaker.recordFailure(0);
    breaker.onAttemptStart(10);
    expect(breaker.allowance(10)).toBe(0);
    breaker.recordAbandoned();
    expect(breaker.allowance(10)).toBe(1);
  });
});
