/**
 * Small factories for test events: valid by default, overridable field by field.
 */
import type { ChangeEvent, TelemetryPoint } from '../../contract/events.ts';
import type { DeadLetterOf } from '../../server/core.ts';
import type { ReplayRecord } from '../../server/wire/schemas.ts';

/** A fixed start of event time for tests: 2026-03-02T00:00:00Z. */
export const T0 = Date.UTC(2026, 2, 2);

/** A valid AI-agent deploy on `checkout`. */
export function aChange(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id: 'chg-1',
    type: 'deploy',
    service: 'checkout',
    environment: 'prod',
    timestamp: T0,
    version: 'v2.4.0',
    previousVersion: 'v2.3.9',
    author: { type: 'ai_agent', name: 'kiro', agent: 'kiro' },
    summary: 'Refactor payment retries',
    diff: { files: 3, linesAdded: 120, linesRemoved: 4 },
    ...overrides,
  };
}

/** A valid telemetry point of checkout's error_rate. */
export function aPoint(overrides: Partial<TelemetryPoint> = {}): TelemetryPoint {
  return { service: 'checkout', metric: 'error_rate', value: 0.01, timestamp: T0, ...overrides };
}

/**
 * A steady noisy series followed by a step: `normal` points every `stepMs` around `base`, then
 * `anomalous` points at `base * factor`. Noise is a fixed deterministic pattern, not random.
 */
export function stepSeries(options: { service?: string; metric?: string; start?: number; stepMs?: number; normal?: number; anomalous?: number; base?: number; factor?: number }): TelemetryPoint[] {
  const { service = 'checkout', metric = 'latency_p99', start = T0, stepMs = 10_000, normal = 200, anomalous = 20, base = 100, factor = 5 } = options;
  const noise = [0.02, -0.01, 0.03, -0.025, 0.0, 0.015, -0.02, 0.01];
  const points: TelemetryPoint[] = [];
  for (let i = 0; i < normal + anomalous; i++) {
    const level = i < normal ? base : base * factor;
    points.push({ service, metric, timestamp: start + i * stepMs, value: level * (1 + noise[i % noise.length]!) });
  }
  return points;
}

/** Wraps points as replay records. */
export function metricRecords(points: TelemetryPoint[]): ReplayRecord[] {
  return points.map((metric) => ({ metric }));
}

/** The dead letter a test's record would get if refused: an HTTP array item at index 0. */
export function httpDeadLetterOf(original = '{}'): DeadLetterOf {
  return (error) => ({ error, original, source: { kind: 'http', index: 0 } });
}
