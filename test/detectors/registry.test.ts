import { describe, expect, it } from 'vitest';
import { ALERT_THRESHOLD, createDefaultDetector, registry, restoreDetector } from '../../detectors/index.ts';

describe('registry and default detector', () => {
  it('picks the metric kind, and with it the inner detector, from the metric name', () => {
    const state = (metric?: string) => createDefaultDetector({ metric }).toJSON();
    const inner = (metric?: string) => (state(metric).state as { inner: { method: string; options: Record<string, unknown> } }).inner;
    expect(state('error_rate').method).toBe('practical');
    expect(state('error_rate').options.kind).toBe('ratio');
    expect(inner('error_rate').method).toBe('effect');
    expect(state('request_rate').options.kind).toBe('rate');
    expect(state('http_requests_total').options.kind).toBe('counter');
    expect(state('latency_p99').options.kind).toBe('latency');
    expect(state('cpu_utilization').options.kind).toBe('saturation');
    // Without an effect size, the calibrated ensemble decides (on a log scale for sizes).
    expect(state('payload_bytes').options.kind).toBe('size');
    expect(inner('payload_bytes')).toMatchObject({ method: 'ensemble', options: { transform: 'log' } });
    expect(state().options.kind).toBe('gauge');
    expect(inner()).toMatchObject({ method: 'ensemble', options: { transform: 'none' } });
  });

  it('takes an effect size from the hints', () => {
    const size = { up: 2, down: null, minAbsolute: 0 };
    expect(createDefaultDetector({ metric: 'latency_p99', effectSize: size }).toJSON().options.size).toEqual(size);
  });

  it('restores every registered method and refuses unknown ones', () => {
    for (const [method, definition] of registry) expect(restoreDetector(definition.create().toJSON()).method).toBe(method);
    expect(() => restoreDetector({ method: 'nope', version: 1, options: {}, state: {} })).toThrow(/unknown detector method "nope"/);
  });

  it('refuses the first robust-zscore state format with a clear error', () => {
    expect(() => restoreDetector({ method: 'robust-zscore', version: 1, options: {}, state: { values: [1, 2, 3] } })).toThrow(/start a fresh detector/);
  });

  it('refuses a state whose layout does not match', () => {
    const state = registry.get('ensemble')!.create().toJSON();
    state.state.scalars = state.state.scalars.slice(0, -12);
    expect(() => restoreDetector(state)).toThrow(/layout/);
  });

  it('alerts at one in ten thousand', () => {
    expect(ALERT_THRESHOLD).toBe(0.5);
  });
});
