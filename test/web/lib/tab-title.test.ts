import { describe, expect, it } from 'vitest';
import { countFiringCritical, tabTitle } from '../../../web/src/lib/tab-title.ts';
import { makeAlert } from '../support/fixtures.ts';

describe('tab title', () => {
  it('counts firing critical and firing alerts, and is plain when nothing fires', () => {
    expect(tabTitle(0, 0)).toBe('changewatch');
    expect(tabTitle(0, 4)).toBe('(0 critical · 4 firing) changewatch');
    expect(tabTitle(2, 5)).toBe('(2 critical · 5 firing) changewatch');
    // The server's count can lag the feed by a moment; the total never reads less than the critical count.
    expect(tabTitle(3, 1)).toBe('(3 critical · 3 firing) changewatch');
  });

  it('counts critical alerts nobody has acknowledged yet', () => {
    const now = Date.parse('2026-11-23T03:30:00Z');
    expect(
      countFiringCritical([
        makeAlert(now, 1, { id: 'a', severity: 'critical' }),
        makeAlert(now, 2, { id: 'b', severity: 'critical', status: 'acknowledged' }),
        makeAlert(now, 3, { id: 'c' }),
      ]),
    ).toBe(1);
  });
});
