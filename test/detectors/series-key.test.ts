import { describe, expect, it } from 'vitest';
import { DEFAULT_ENVIRONMENT, environmentOf, scopeOfKey, seriesKey, seriesScope } from '../../detectors/series-key.ts';

const readable = (key: string) => key.split('\u0000').join('|');

describe('seriesKey', () => {
  it('is service, metric and environment, separated by NUL (the format alert ids derive from)', () => {
    expect(seriesKey({ service: 'checkout', metric: 'latency_p99', environment: 'prod' })).toBe('checkout\u0000latency_p99\u0000prod');
  });

  it('includes the environment: prod and staging are two series', () => {
    const prod = seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod' });
    const staging = seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'staging' });
    expect(prod).not.toBe(staging);
    expect(readable(staging)).toBe('checkout|error_rate|staging');
  });

  it('leaves out the version (per-version points are parts of one series) and the environment tags', () => {
    const plain = seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod' });
    expect(seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod', tags: { version: 'v2' } })).toBe(plain);
    expect(seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod', tags: { environment: 'prod', env: 'x', version: 'v1' } })).toBe(plain);
  });

  it('splits by every other tag, in name order whatever the order of the tags', () => {
    const a = seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod', tags: { zone: 'a', region: 'eu', version: 'v1' } });
    const b = seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod', tags: { version: 'v2', region: 'eu', zone: 'a' } });
    expect(a).toBe(b);
    expect(readable(a)).toBe('checkout|error_rate|prod|region=eu|zone=a');
    expect(seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod', tags: { region: 'us' } })).not.toBe(a);
  });

  it('ends in the scope, which a key of the same service and metric gives back', () => {
    const key = seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'staging', tags: { region: 'eu' } });
    expect(scopeOfKey(key, 'checkout', 'error_rate')).toBe(seriesScope('staging', { region: 'eu' }));
    expect(scopeOfKey(key, 'checkout', 'latency_p99')).toBeUndefined();
    expect(seriesScope('prod')).toBe('prod');
  });
});

describe('environmentOf', () => {
  it('reads the environment tag, else env, else the default', () => {
    expect(environmentOf({ environment: 'staging', env: 'dev' }, DEFAULT_ENVIRONMENT)).toBe('staging');
    expect(environmentOf({ env: 'dev' }, DEFAULT_ENVIRONMENT)).toBe('dev');
    expect(environmentOf({ version: 'v1' }, DEFAULT_ENVIRONMENT)).toBe('prod');
    expect(environmentOf(undefined, 'production')).toBe('production');
  });
});
