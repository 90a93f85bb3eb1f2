import { describe, expect, it } from 'vitest';
import { ALERT_THRESHOLD, createDefaultDetector, registry, restoreDetector } from '../../detectors/index.ts';

describe('registry and default detector', () => {
  it('picks the metric kind and the calibrated detector from the metric name', () => {
    const options = (metric?: string) => createDefaultDetector({ metric }).toJSON();
    expect(options('error_rate').method).toBe('practical');
    expect(options('error_rate').options.kind).toBe('ratio');
    expect((options('error_rate').state as { calibrated: { method: string } }).calibrated.method).toBe('proportion');
    expect(options('request_rate').options.kind).toBe('rate');
    expect(options('http_requests_total').options.kind).toBe('counter');
    expect(options('latency_p99').options.kind).toBe('latency');
    expect((options('latency_p99').state as { calibrated: { options: { transform: string } } }).calibrated.options.transform).toBe('log');
    expect(options('cpu_utilization').options.kind).toBe('saturation');
    expect(options('payload_bytes').options.kind).toBe('size');
    expect(options().options.kind).toBe('gauge');
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
