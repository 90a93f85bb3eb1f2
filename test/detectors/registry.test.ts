import { describe, expect, it } from 'vitest';
import { ALERT_THRESHOLD, createDefaultDetector, registry, restoreDetector } from '../../detectors/index.ts';

describe('registry and default detector', () => {
  it('picks the detector from the metric name', () => {
    expect(createDefaultDetector({ metric: 'error_rate' }).method).toBe('proportion');
    expect(createDefaultDetector({ metric: 'request_rate' }).method).toBe('ensemble');
    expect(createDefaultDetector({ metric: 'http_requests_total' }).toJSON().options.transform).toBe('rate');
    expect(createDefaultDetector({ metric: 'latency_p99' }).toJSON().options.transform).toBe('log');
    expect(createDefaultDetector().toJSON().options.transform).toBe('none');
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
