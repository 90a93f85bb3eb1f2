import { describe, expect, it } from 'vitest';
import { effectInWords, incidentTitle, MAX_TITLE_LENGTH, metricInWords } from '../../../../server/alerts/stages/title.ts';
import { openIncident } from '../../../../server/alerts/stages/group.ts';
import { anAlert, aSuspect } from './fixtures.ts';

const kiroRetries = {
  ...aSuspect('chg-7f3a', 'checkout', 0.93),
  change: { ...aSuspect('chg-7f3a', 'checkout', 0.93).change, summary: 'Add retries to the order client', version: 'v2.19.2' },
};

describe('incident titles', () => {
  it('names what moved, by how much, and the likely change by what it was, not by its id', () => {
    const alert = anAlert({ metric: 'error_rate', observed: 0.045, peak: 0.09, expected: 0.01, suspects: [kiroRetries] });
    const incident = openIncident(alert, { key: 'service=checkout', labels: { service: 'checkout' }, service: 'checkout' }, alert.updatedAt);
    expect(incident.title).toBe("checkout error rate 9x — likely kiro's deploy 'Add retries to the order client' (v2.19.2)");
    expect(incident.title).not.toContain('chg-7f3a');
  });

  it('is plain what-and-how-much without a likely suspect', () => {
    const weak = anAlert({ metric: 'latency_p99', observed: 160, expected: 100, suspects: [{ ...kiroRetries, confidence: 0.3 }] });
    expect(incidentTitle(weak, 'checkout', [weak])).toBe('checkout p99 latency +60%');
    expect(incidentTitle(undefined, 'checkout', [])).toBe('checkout');
  });

  it('says the effect as a person does: a multiple, percentage points of a ratio, or a percentage', () => {
    expect(effectInWords({ metric: 'error_ratio', observed: 0.061, expected: 0.02 })).toBe('3.1x');
    expect(effectInWords({ metric: 'error_ratio', observed: 0.061, expected: 0.041 })).toBe('+2.0 pp');
    expect(effectInWords({ metric: 'error_pct', observed: 5.1, expected: 1 })).toBe('5.1x');
    expect(effectInWords({ metric: 'requests_per_second', observed: 60, expected: 100 })).toBe('−40%');
    expect(effectInWords({ metric: 'requests_per_second', observed: 10, expected: 100 })).toBe('10x lower');
    expect(metricInWords('http.server.duration_p95')).toBe('p95 http server duration');
  });

  it('names an AI-assisted change as its human author\'s, and counts the other alerts it groups', () => {
    const assisted = { ...kiroRetries, change: { ...kiroRetries.change, type: 'config' as const, author: { type: 'ai_assisted' as const, name: 'alice', model: 'copilot' } } };
    const lead = anAlert({ metric: 'error_rate', observed: 0.05, expected: 0.01, suspects: [assisted] });
    const caller = anAlert({ id: 'alrt-2', service: 'web', suspects: [assisted] });
    expect(incidentTitle(lead, 'checkout', [lead, caller])).toBe("checkout error rate 5x (+1 alert on 2 services) — likely alice's AI-assisted config change 'Add retries to the order client' (v2.19.2)");
  });

  it('stays bounded, shortening a long change summary first', () => {
    const long = { ...kiroRetries, change: { ...kiroRetries.change, summary: 'Refactor '.repeat(40).trim() } };
    const lead = anAlert({ suspects: [long] });
    const title = incidentTitle(lead, 'checkout', [lead]);
    expect(title.length).toBeLessThanOrEqual(MAX_TITLE_LENGTH);
    expect(title).toMatch(/^checkout p99 latency 5x — likely kiro's deploy 'Refactor( Refactor)*…' \(v2\.19\.2\)$/);
  });
});
