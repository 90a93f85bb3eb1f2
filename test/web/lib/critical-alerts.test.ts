import { describe, expect, it } from 'vitest';
import { CriticalAlertWatch } from '../../../web/src/lib/critical-alerts.ts';
import { makeAlert } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');

describe('critical alert news', () => {
  it('reports alerts first seen firing and critical, never the snapshot or a replay of a known one', () => {
    const watch = new CriticalAlertWatch();
    const known = makeAlert(now, 5, { id: 'known', severity: 'critical' });
    watch.learn([known]);
    expect(watch.news([known, { ...known, updatedAt: new Date(now).toISOString() }])).toEqual([]);
    const fresh = makeAlert(now, 1, { id: 'fresh', severity: 'critical' });
    expect(watch.news([fresh, makeAlert(now, 1, { id: 'warn' })])).toEqual([fresh]);
    expect(watch.news([fresh])).toEqual([]);
  });

  it('reports a warning that escalates to critical once, and not acknowledged or resolved ones', () => {
    const watch = new CriticalAlertWatch();
    const warning = makeAlert(now, 3, { id: 'esc' });
    watch.learn([warning]);
    const escalated = { ...warning, severity: 'critical' as const };
    expect(watch.news([escalated])).toEqual([escalated]);
    expect(watch.news([warning, escalated])).toEqual([]);
    expect(watch.news([makeAlert(now, 1, { id: 'acked', severity: 'critical', status: 'acknowledged' })])).toEqual([]);
  });

  it('forgets the oldest ids past its memory', () => {
    const watch = new CriticalAlertWatch(2);
    const first = makeAlert(now, 3, { id: 'first', severity: 'critical' });
    watch.learn([first, makeAlert(now, 2, { id: 'second' }), makeAlert(now, 1, { id: 'third' })]);
    expect(watch.news([first])).toEqual([first]);
  });
});
