import { describe, expect, it } from 'vitest';
import { incidentsConfigSchema } from '../../../../server/alerts/stages/config.ts';
import { groupOf, incidentIdFor, openIncident, reconcileIncident } from '../../../../server/alerts/stages/group.ts';
import { flapSettled, isDone, withResolution } from '../../../../server/alerts/notify-state.ts';
import type { Silence } from '../../../../contract/silence.ts';
import { muteReason } from '../../../../server/alerts/stages/mute.ts';
import { dueNotification, freshNotifyState, observeEventTime, type NotifyState } from '../../../../server/alerts/stages/notify.ts';
import { anAlert, aSuspect } from './fixtures.ts';

const config = incidentsConfigSchema.parse({ groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 3_600_000, flapWindowMs: 300_000 });
const NOW = '2026-03-02T10:00:05.000Z';

describe('group stage', () => {
  it('groups by the configured labels, and by the culprit change across services when it is confident enough', () => {
    expect(groupOf(anAlert(), config).key).toBe('service=checkout');
    expect(groupOf(anAlert({ metric: 'error_rate' }), config).key).toBe('service=checkout');
    expect(groupOf(anAlert(), { ...config, groupBy: ['service', 'metric'] }).key).toBe('service=checkout,metric=latency_p99');

    const culprit = aSuspect('chg-9', 'payments', 0.8);
    const payments = groupOf(anAlert({ service: 'payments', suspects: [culprit] }), config);
    const caller = groupOf(anAlert({ service: 'checkout', suspects: [culprit] }), config);
    expect(caller.key).toBe(payments.key);
    expect(caller.service).toBe('payments');
    // A weak suspect does not pull unrelated services together.
    expect(groupOf(anAlert({ suspects: [aSuspect('chg-9', 'payments', 0.3)] }), config).key).toBe('service=checkout');
    expect(groupOf(anAlert({ suspects: [culprit] }), { ...config, groupByCulprit: false }).key).toBe('service=checkout');
  });

  it('derives a stable incident id from the first alert, so a replay after a crash continues the same incident', () => {
    expect(incidentIdFor('alrt-1')).toBe(incidentIdFor('alrt-1'));
    expect(incidentIdFor('alrt-1')).not.toBe(incidentIdFor('alrt-2'));
    expect(openIncident(anAlert(), groupOf(anAlert(), config), NOW).id).toBe(incidentIdFor('alrt-1'));
  });

  it('takes the highest open severity, resolves when every alert resolved, re-opens on a firing alert and keeps an acknowledgement', () => {
    const first = anAlert();
    const second = anAlert({ id: 'alrt-2', metric: 'error_rate', severity: 'critical' });
    let incident = openIncident(first, groupOf(first, config), NOW);
    incident = reconcileIncident(incident, [first, second], NOW);
    expect(incident).toMatchObject({ status: 'firing', severity: 'critical', alertIds: ['alrt-1', 'alrt-2'] });

    const resolved = (alert: typeof first, at: string) => ({ ...alert, status: 'resolved' as const, resolvedAt: at, updatedAt: at });
    incident = reconcileIncident(incident, [resolved(first, '2026-03-02T10:05:00.000Z'), second], NOW);
    expect(incident).toMatchObject({ status: 'firing', severity: 'critical' });
    incident = reconcileIncident(incident, [resolved(first, '2026-03-02T10:05:00.000Z'), resolved(second, '2026-03-02T10:07:00.000Z')], NOW);
    expect(incident).toMatchObject({ status: 'resolved', resolvedAt: '2026-03-02T10:07:00.000Z' });

    incident = reconcileIncident({ ...incident, acknowledgedBy: 'alice' }, [first, second], NOW);
    expect(incident.status).toBe('acknowledged');
    expect(incident.resolvedAt).toBeUndefined();
  });
});

describe('mute stage', () => {
  const silence = (overrides: Partial<Silence> = {}): Silence => ({
    id: 'sil_1',
    matchers: { service: ['checkout'] },
    startsAt: '2026-03-02T09:00:00.000Z',
    endsAt: '2026-03-02T11:00:00.000Z',
    createdBy: 'alice',
    comment: 'load test',
    createdAt: '2026-03-02T09:00:00.000Z',
    ...overrides,
  });
  const at = Date.parse('2026-03-02T10:00:00Z');

  it('mutes only while every alert of the incident matches an active silence or window', () => {
    expect(muteReason([anAlert()], [silence()], [], at)).toMatch(/silence sil_1 by alice: load test/);
    expect(muteReason([anAlert(), anAlert({ id: 'a2', service: 'payments' })], [silence()], [], at)).toBeUndefined();
    expect(muteReason([anAlert()], [silence({ endsAt: '2026-03-02T09:30:00.000Z' })], [], at)).toBeUndefined();
    expect(muteReason([anAlert()], [silence({ startsAt: '2026-03-02T10:30:00.000Z' })], [], at)).toBeUndefined();
    expect(muteReason([anAlert()], [silence({ matchers: { service: ['checkout'], severity: ['critical'] } })], [], at)).toBeUndefined();
    const window = { name: 'db-upgrade', matchers: { environment: ['prod'] }, startsAt: '2026-03-02T09:55:00Z', endsAt: '2026-03-02T10:30:00Z', comment: '' };
    expect(muteReason([anAlert()], [], [window], at)).toBe('maintenance window db-upgrade');
  });
});

describe('hysteresis (the flap window)', () => {
  it('starts when the incident resolves, ends when it fires again, and is settled once the window passed', () => {
    const resolved = withResolution(freshNotifyState(0), true, 1_000);
    expect(resolved.resolvedSeenAt).toBe(1_000);
    expect(withResolution(resolved, true, 5_000).resolvedSeenAt).toBe(1_000); // a second resolved emission does not restart it
    expect(flapSettled(resolved, 300_000, 200_000)).toBe(false);
    expect(flapSettled(resolved, 300_000, 301_000)).toBe(true);
    expect(flapSettled(withResolution(resolved, false, 2_000), 300_000, 2_000)).toBe(true);
    expect(isDone('resolved', resolved, 300_000, 200_000)).toBe(false);
    expect(isDone('resolved', resolved, 300_000, 301_000)).toBe(true);
    expect(isDone('resolved', { ...resolved, lastAction: 'trigger', lastSentAt: 500 }, 300_000, 301_000)).toBe(false); // its resolve is still to send
  });
});

describe('notify stage timing', () => {
  const firing = openIncident(anAlert(), groupOf(anAlert(), config), NOW);
  const triggered = (at: number, alerts = 1): NotifyState => ({ openedAt: 0, lastAction: 'trigger', lastSentAt: at, alertsAtLastSend: alerts });

  it('waits groupWait before the first page', () => {
    expect(dueNotification(firing, freshNotifyState(0), true, config, 29_999)).toBeUndefined();
    expect(dueNotification(firing, freshNotifyState(0), true, config, 30_000)).toBe('trigger');
  });

  it('pages again for new alerts only after groupInterval, and for a forgotten incident after repeatInterval', () => {
    const grown = { ...firing, alertIds: ['alrt-1', 'alrt-2'] };
    expect(dueNotification(grown, triggered(0), true, config, 299_999)).toBeUndefined();
    expect(dueNotification(grown, triggered(0), true, config, 300_000)).toBe('trigger');
    expect(dueNotification(firing, triggered(0), true, config, 3_599_999)).toBeUndefined();
    expect(dueNotification(firing, triggered(0), true, config, 3_600_000)).toBe('trigger');
  });

  it('acknowledges and resolves only what paged, and resolves only once the flap window settled', () => {
    expect(dueNotification({ ...firing, status: 'acknowledged' }, triggered(0), true, config, 1)).toBe('acknowledge');
    expect(dueNotification({ ...firing, status: 'acknowledged' }, freshNotifyState(0), true, config, 1)).toBeUndefined();
    const resolved = { ...firing, status: 'resolved' as const };
    expect(dueNotification(resolved, triggered(0), false, config, 1)).toBeUndefined();
    expect(dueNotification(resolved, triggered(0), true, config, 1)).toBe('resolve');
    expect(dueNotification(resolved, { ...triggered(0), lastAction: 'acknowledge' }, true, config, 1)).toBe('resolve');
    expect(dueNotification(resolved, freshNotifyState(0), true, config, 1)).toBeUndefined();
    expect(dueNotification(resolved, { ...triggered(0), lastAction: 'resolve' }, true, config, 1)).toBeUndefined();
  });

  it('counts groupWait in event time too, so an incident that fired and resolved inside a backlog pages late', () => {
    // A backlog: 10 minutes of data routed within 5 ms of wall time.
    const caughtUp = observeEventTime(observeEventTime(freshNotifyState(0), '2026-03-02T10:00:00Z'), '2026-03-02T10:10:00Z');
    expect(dueNotification(firing, caughtUp, true, config, 5)).toBe('trigger');
    const resolved = { ...firing, status: 'resolved' as const };
    expect(dueNotification(resolved, caughtUp, false, config, 5)).toBe('trigger');
    // Shorter than groupWait in both clocks: it would not have paged live either.
    const blip = observeEventTime(observeEventTime(freshNotifyState(0), '2026-03-02T10:00:00Z'), '2026-03-02T10:00:20Z');
    expect(dueNotification(resolved, blip, true, config, 5)).toBeUndefined();
    // A person who resolved it by hand already knows.
    expect(dueNotification(resolved, caughtUp, true, config, 5, true)).toBeUndefined();
    // Event time never runs backwards for the wait: an older emission leaves it as it was.
    expect(observeEventTime(caughtUp, '2026-03-02T09:00:00Z')).toEqual(caughtUp);
  });
});
