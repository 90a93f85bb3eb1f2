import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../contract/alert.ts';
import { AlertIndex, compareForFeed, openAlertsByTopSuspect } from '../../../web/src/lib/alert-index.ts';
import { makeAlert, makeChange, suspectFor } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');
const at = (minutesAgo: number): string => new Date(now - minutesAgo * 60_000).toISOString();

describe('AlertIndex', () => {
  it('keeps the newest version of each alert and ignores stale ones', () => {
    const index = new AlertIndex();
    const first = makeAlert(now, 10, { id: 'a', updatedAt: at(5), explanation: 'v2' });
    const stale = makeAlert(now, 10, { id: 'a', updatedAt: at(8), explanation: 'v1' });
    const newest = makeAlert(now, 10, { id: 'a', updatedAt: at(1), explanation: 'v3' });
    index.upsert([first]);
    index.upsert([stale]);
    expect(index.ordered.map((alert) => alert.explanation)).toEqual(['v2']);
    index.upsert([newest]);
    expect(index.ordered.map((alert) => alert.explanation)).toEqual(['v3']);
  });

  it('orders open alerts by severity then newest onset, with resolved alerts last, most recently resolved first', () => {
    const index = new AlertIndex();
    index.upsert([
      makeAlert(now, 30, { id: 'old-warning', severity: 'warning' }),
      makeAlert(now, 2, { id: 'new-info', severity: 'info' }),
      makeAlert(now, 40, { id: 'resolved-early', status: 'resolved', severity: 'critical', resolvedAt: at(20) }),
      makeAlert(now, 25, { id: 'critical', severity: 'critical' }),
      makeAlert(now, 5, { id: 'new-warning', severity: 'warning', status: 'acknowledged' }),
      makeAlert(now, 35, { id: 'resolved-late', status: 'resolved', resolvedAt: at(3) }),
    ]);
    expect(index.ordered.map((alert) => alert.id)).toEqual([
      'critical',
      'new-warning',
      'old-warning',
      'new-info',
      'resolved-late',
      'resolved-early',
    ]);
  });

  it('keeps its position when an alert updates, since order follows onset', () => {
    const index = new AlertIndex();
    index.upsert([makeAlert(now, 10, { id: 'a' }), makeAlert(now, 5, { id: 'b' })]);
    index.upsert([makeAlert(now, 10, { id: 'a', updatedAt: at(0) })]);
    expect(index.ordered.map((alert) => alert.id)).toEqual(['b', 'a']);
  });

  it('evicts the oldest resolved alerts first when over its limit', () => {
    const index = new AlertIndex(3);
    index.upsert([
      makeAlert(now, 50, { id: 'resolved-old', status: 'resolved', resolvedAt: at(40) }),
      makeAlert(now, 50, { id: 'resolved-new', status: 'resolved', resolvedAt: at(10) }),
      makeAlert(now, 60, { id: 'open-old', severity: 'info' }),
      makeAlert(now, 1, { id: 'open-new', severity: 'info' }),
    ]);
    expect(index.ordered.map((alert) => alert.id)).toEqual(['open-new', 'open-old', 'resolved-new']);
    // An evicted alert is forgotten entirely: a later version comes back as new.
    index.upsert([makeAlert(now, 50, { id: 'resolved-old', status: 'firing', severity: 'critical', updatedAt: at(0) })]);
    expect(index.ordered.map((alert) => alert.id)).toEqual(['resolved-old', 'open-new', 'open-old']);
  });

  it('replaceAll forgets alerts missing from the snapshot', () => {
    const index = new AlertIndex();
    index.upsert([makeAlert(now, 10, { id: 'gone' })]);
    index.replaceAll([makeAlert(now, 3, { id: 'kept' })]);
    expect(index.ordered.map((alert) => alert.id)).toEqual(['kept']);
  });

  it('never holds more than its limit, and shows the newest version of every alert it holds', () => {
    const versions = fc.array(
      fc.record({
        id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
        minutesAgo: fc.integer({ min: 0, max: 60 }),
        updatedOffset: fc.integer({ min: 0, max: 1_000 }),
        status: fc.constantFrom('firing', 'acknowledged', 'resolved') as fc.Arbitrary<Alert['status']>,
        severity: fc.constantFrom('critical', 'warning', 'info') as fc.Arbitrary<Alert['severity']>,
      }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(versions, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 10 }), (specs, limit, batchSize) => {
        const alerts = specs.map((spec, arrival) =>
          makeAlert(now, spec.minutesAgo, {
            id: spec.id,
            status: spec.status,
            severity: spec.severity,
            updatedAt: new Date(now + spec.updatedOffset).toISOString(),
            explanation: `arrival ${arrival}`,
          }),
        );
        const index = new AlertIndex(limit);
        for (let start = 0; start < alerts.length; start += batchSize) index.upsert(alerts.slice(start, start + batchSize));

        expect(index.ordered.length).toBeLessThanOrEqual(limit);
        expect([...index.ordered].sort(compareForFeed)).toEqual(index.ordered);
        if (limit >= 6) {
          // Nothing was evicted, so every alert shows its newest version (the latest arrival among equal times).
          for (const shown of index.ordered) {
            const mine = alerts.filter((alert) => alert.id === shown.id);
            const newestTime = Math.max(...mine.map((alert) => Date.parse(alert.updatedAt)));
            const expected = mine.filter((alert) => Date.parse(alert.updatedAt) === newestTime).at(-1);
            expect(shown).toBe(expected);
          }
        }
      }),
    );
  });
});

describe('openAlertsByTopSuspect', () => {
  it('groups open alerts under their top suspect only, skipping resolved alerts and alerts without suspects', () => {
    const deploy = makeChange(now, 15, { id: 'deploy' });
    const flag = makeChange(now, 20, { id: 'flag' });
    const critical = makeAlert(now, 5, { id: 'critical', severity: 'critical', suspects: [suspectFor(deploy, 0.8, [])] });
    const warning = makeAlert(now, 6, { id: 'warning', suspects: [suspectFor(deploy, 0.5, []), suspectFor(flag, 0.3, [])] });
    const resolved = makeAlert(now, 9, { id: 'resolved', status: 'resolved', suspects: [suspectFor(flag, 0.9, [])] });
    const unexplained = makeAlert(now, 2, { id: 'unexplained' });

    const grouped = openAlertsByTopSuspect([critical, warning, resolved, unexplained]);
    expect([...grouped.keys()]).toEqual(['deploy']);
    expect(grouped.get('deploy')?.map((alert) => alert.id)).toEqual(['critical', 'warning']);
  });
});
