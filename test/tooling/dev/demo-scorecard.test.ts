import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../contract/alert.ts';
import { formatScorecard, scoreDemo, worthKeeping } from '../../../tooling/dev/demo-scorecard.ts';
import type { InjectedIncident } from '../../../tooling/dev/live-simulator.ts';
import { IncidentAnnouncer } from '../../../tooling/dev/live-simulator.ts';
import { demoArgs, simulatorArgs } from '../../../tooling/dev/simulator-args.ts';
import type { FleetRecord, IncidentTruth } from '../../../tooling/sim/fleet.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();
/** `HH:MM` in UTC, so the lines do not depend on the machine's time zone. */
const utc = (ms: number): string => iso(ms).slice(11, 16);

function incident(fields: Partial<InjectedIncident> = {}): InjectedIncident {
  return {
    id: 'inc-1',
    kind: 'change',
    service: 'search',
    metric: 'error_rate',
    causeChangeId: 'chg-1',
    injectedAt: T0,
    effectStart: T0 + MIN,
    end: T0 + 6 * MIN,
    impactedServices: ['search', 'frontend'],
    ...fields,
  };
}

function alert(fields: Partial<Alert> & { at: number; top?: string }): Alert {
  const { at, top, ...rest } = fields;
  return {
    id: 'a-1',
    status: 'firing',
    severity: 'warning',
    service: 'search',
    environment: 'prod',
    metric: 'error_rate',
    startedAt: iso(at - 10_000),
    updatedAt: iso(at),
    observed: 0.1,
    expected: 0.01,
    lower: 0,
    upper: 0.02,
    score: 0.9,
    detector: 'practical',
    explanation: 'error rate up',
    suspects: top
      ? [{ changeId: top, confidence: 0.8, evidence: [], change: { type: 'deploy', service: 'search', author: { type: 'human', name: 'x' }, timestamp: T0 } }]
      : [],
    noChangeConfidence: 0.2,
    ...rest,
  } as Alert;
}

describe('scoreDemo', () => {
  it('matches an incident to the first alert on a service it hit, after the injection, and judges its top suspect', () => {
    const alerts = [
      alert({ id: 'early', at: T0 - MIN, top: 'chg-0' }), // opened before the injection: not this incident's
      alert({ id: 'caller', service: 'frontend', at: T0 + MIN + 50_000, top: 'chg-9' }),
      alert({ id: 'root', at: T0 + MIN + 38_000, top: 'chg-1' }),
      alert({ id: 'root', at: T0 + 2 * MIN, top: 'chg-1' }),
    ];
    const card = scoreDemo([incident()], alerts, T0 + 3 * MIN);
    expect(card.injected).toBe(1);
    expect(card.alerted).toEqual([
      expect.objectContaining({ alertId: 'root', alertService: 'search', delayMs: 38_000, topSuspect: 'chg-1', rightChange: true }),
    ]);
    expect(card.missed).toEqual([]);
    expect(card.pending).toEqual([]);
  });

  it('accepts an alert on a service the incident hit, and says when the top suspect is not the cause', () => {
    const card = scoreDemo([incident()], [alert({ id: 'caller', service: 'frontend', at: T0 + 2 * MIN, top: 'chg-9' })], T0 + 3 * MIN);
    expect(card.alerted[0]).toMatchObject({ alertService: 'frontend', rightChange: false, topSuspect: 'chg-9' });
    expect(scoreDemo([incident()], [alert({ at: T0 + 2 * MIN })], T0 + 3 * MIN).alerted[0]).toMatchObject({ topSuspect: '', rightChange: false });
  });

  it('ignores alerts on other services, other metrics, downward ones, and ones after the end plus grace', () => {
    const alerts = [
      alert({ id: 'other-service', service: 'payments', at: T0 + 2 * MIN }),
      alert({ id: 'other-metric', metric: 'latency_p99', at: T0 + 2 * MIN }),
      alert({ id: 'down', observed: 0, expected: 0.01, at: T0 + 2 * MIN }),
      alert({ id: 'late', at: T0 + 9 * MIN + 1 }),
    ];
    const card = scoreDemo([incident()], alerts, T0 + 20 * MIN);
    expect(card.alerted).toEqual([]);
    expect(card.missed.map((i) => i.id)).toEqual(['inc-1']);
    // Just inside the grace period still counts.
    expect(scoreDemo([incident()], [alert({ at: T0 + 9 * MIN })], T0 + 20 * MIN).alerted).toHaveLength(1);
  });

  it('is pending until the end plus grace has passed, missed after', () => {
    expect(scoreDemo([incident()], [], T0 + 9 * MIN).pending).toHaveLength(1);
    expect(scoreDemo([incident()], [], T0 + 9 * MIN + 1).missed).toHaveLength(1);
    expect(scoreDemo([incident()], [], T0 + 8 * MIN, 30_000).missed).toHaveLength(1);
  });

  it('judges the top suspect while the incident lasted, not after it', () => {
    const alerts = [
      alert({ at: T0 + 2 * MIN, top: 'chg-9' }),
      alert({ at: T0 + 4 * MIN, top: 'chg-1' }),
      alert({ at: T0 + 7 * MIN, top: 'chg-rollback' }), // after the end
      alert({ at: T0 + 8 * MIN, status: 'resolved', top: 'chg-rollback' }),
    ];
    expect(scoreDemo([incident()], alerts, T0 + 10 * MIN).alerted[0]).toMatchObject({ topSuspect: 'chg-1', rightChange: true });
  });

  it('has no right or wrong change for an incident no change caused; any metric counts for a traffic surge', () => {
    const surge = incident({ id: 'inc-2', kind: 'traffic_surge', metric: 'request_rate', causeChangeId: null, service: 'frontend', injectedAt: T0, effectStart: T0 });
    const card = scoreDemo([surge], [alert({ service: 'search', metric: 'latency_p99', at: T0 + 90_000, top: 'chg-3' })], T0 + 3 * MIN);
    expect(card.alerted[0]).toMatchObject({ rightChange: null, delayMs: 90_000 });
  });

  it('does not credit an alert that opened between the change and its visible effect', () => {
    const card = scoreDemo([incident()], [alert({ at: T0 + 20_000, top: 'chg-1' })], T0 + 3 * MIN);
    expect(card.alerted).toEqual([]);
    expect(card.pending).toHaveLength(1);
  });
});

describe('formatScorecard', () => {
  it('prints one line with counts, the median delay, the attribution score, what was missed and what is pending', () => {
    const incidents = [
      incident({ id: 'i1', causeChangeId: 'chg-1' }),
      incident({ id: 'i2', causeChangeId: 'chg-2', injectedAt: T0 + MIN, effectStart: T0 + MIN, end: T0 + 5 * MIN }),
      incident({ id: 'i3', causeChangeId: 'chg-16-4', injectedAt: T0 - 10 * MIN, effectStart: T0 - 10 * MIN, end: T0 - 8 * MIN }),
      incident({ id: 'i4', service: 'payments', impactedServices: ['payments'], causeChangeId: 'chg-5', injectedAt: T0 + 3 * MIN, effectStart: T0 + 3 * MIN }),
    ];
    const alerts = [
      alert({ id: 'a1', at: T0 + MIN + 30_000, top: 'chg-1' }),
      alert({ id: 'a2', service: 'frontend', at: T0 + MIN + 46_000, top: 'chg-2' }),
    ];
    const now = T0 + 4 * MIN;
    const line = formatScorecard(scoreDemo(incidents, alerts, now), now, utc);
    // a1 opened 30 s after i1's effect; i2 would take it too, but it is i1's, so i2 gets a2, 46 s after its effect.
    expect(line).toBe('scorecard 12:04: injected 4, alerted 2 (median 38 s to alert), right change named 2/2, missed 1 (search error_rate, chg-16-4 at 11:50), pending 1');
    expect(line).not.toContain('\n');
  });

  it('reads well with nothing yet, with incidents no change caused, and with many missed', () => {
    expect(formatScorecard(scoreDemo([], [], T0), T0, utc)).toBe('scorecard 12:00: injected 0, alerted 0, missed 0, pending 0');
    const old = (n: number, fields: Partial<InjectedIncident> = {}): InjectedIncident =>
      incident({ id: `m${n}`, causeChangeId: `chg-${n}`, injectedAt: T0 + n * MIN, effectStart: T0 + n * MIN, end: T0 + n * MIN, ...fields });
    const missed = [old(1), old(2, { kind: 'dependency_failure', causeChangeId: null, service: 'db', metric: 'latency_p99' }), old(3), old(4)];
    const now = T0 + 30 * MIN;
    expect(formatScorecard(scoreDemo(missed, [], now), now, utc)).toBe(
      'scorecard 12:30: injected 4, alerted 0, missed 4 (db latency_p99, dependency failure at 12:02; search error_rate, chg-3 at 12:03; search error_rate, chg-4 at 12:04; 1 earlier), pending 0',
    );
  });

  it('says minutes for slow alerts', () => {
    const card = scoreDemo([incident()], [alert({ at: T0 + MIN + 150_000, top: 'chg-1' })], T0 + 5 * MIN);
    expect(formatScorecard(card, T0 + 5 * MIN, utc)).toContain('alerted 1 (median 2.5 min to alert), right change named 1/1');
  });
});

describe('worthKeeping', () => {
  it('keeps an alert’s first emission and those that change its status or top suspect', () => {
    const first = alert({ at: T0, top: 'chg-1' });
    expect(worthKeeping(undefined, first)).toBe(true);
    expect(worthKeeping(first, alert({ at: T0 + 10_000, top: 'chg-1', observed: 0.2 }))).toBe(false);
    expect(worthKeeping(first, alert({ at: T0 + 10_000, top: 'chg-2' }))).toBe(true);
    expect(worthKeeping(first, alert({ at: T0 + 10_000, top: 'chg-1', status: 'resolved' }))).toBe(true);
  });
});

describe('IncidentAnnouncer', () => {
  const truth = (fields: Partial<IncidentTruth>): IncidentTruth => ({
    id: 'inc-1',
    kind: 'change',
    service: 'checkout',
    metric: 'error_rate',
    causeChangeId: 'chg-7',
    effectStart: T0 + MIN,
    end: T0 + 10 * MIN,
    impactedServices: ['checkout'],
    ...fields,
  });
  const change = (id: string, timestamp: number): FleetRecord =>
    ({ change: { id, type: 'deploy', service: 'checkout', environment: 'prod', timestamp, author: { type: 'human', name: 'x' } } }) as FleetRecord;

  it('tells a change-caused incident once, when its change is produced, with the change time', () => {
    const told: InjectedIncident[] = [];
    const announcer = new IncidentAnnouncer((i) => told.push(i));
    const truths = [truth({})];
    announcer.announce(truths, [change('chg-6', T0 - MIN)], T0); // scheduled, not shipped yet
    expect(told).toEqual([]);
    announcer.announce(truths, [change('chg-7', T0 + 5_000)], T0 + 5_000);
    announcer.announce(truths, [], T0 + 6_000);
    expect(told).toEqual([{ ...truths[0], injectedAt: T0 + 5_000 }]);
  });

  it('tells a fault no change caused when it starts', () => {
    const told: InjectedIncident[] = [];
    const announcer = new IncidentAnnouncer((i) => told.push(i));
    const truths = [truth({ kind: 'dependency_failure', causeChangeId: null, effectStart: T0 + MIN })];
    announcer.announce(truths, [], T0);
    expect(told).toEqual([]);
    announcer.announce(truths, [], T0 + MIN);
    expect(told.map((i) => i.injectedAt)).toEqual([T0 + MIN]);
  });
});

describe('demo arguments', () => {
  it('default to a scorecard every 3 minutes, and the simulator keeps its own options', () => {
    expect(demoArgs([])).toEqual({ seed: 42, historyMinutes: 120, incidentEveryMinutes: 4, scorecardEveryMinutes: 3 });
    expect(demoArgs(['--scorecard-every-minutes', '0.5', '--seed', '7'])).toMatchObject({ seed: 7, scorecardEveryMinutes: 0.5 });
    expect(() => demoArgs(['--scorecard-every-minutes=-1'])).toThrow('--scorecard-every-minutes must be a non-negative number');
    expect(() => simulatorArgs(['--scorecard-every-minutes', '1'])).toThrow();
  });
});
