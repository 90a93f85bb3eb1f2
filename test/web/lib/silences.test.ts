import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../contract/alert.ts';
import {
  currentSilences,
  describeMatchers,
  formatUtcDateTime,
  incidentMuteTargets,
  incidentSilenceScope,
  matchersCover,
  mutingSilences,
  parseUtcDateTime,
  silenceEndsAt,
} from '../../../web/src/lib/silences.ts';
import { makeAlert, makeIncident, makeSilence } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');
const HOUR = 60 * 60_000;

describe('the end of a new silence', () => {
  it('is 1 or 4 hours from now, or the UTC time typed', () => {
    expect(silenceEndsAt({ kind: '1h' }, now)).toEqual({ endsAt: now + HOUR });
    expect(silenceEndsAt({ kind: '4h' }, now)).toEqual({ endsAt: now + 4 * HOUR });
    expect(silenceEndsAt({ kind: 'until', value: '2026-11-23T06:15' }, now)).toEqual({ endsAt: Date.parse('2026-11-23T06:15:00Z') });
  });

  it('says what is wrong with a time that cannot be used', () => {
    expect(silenceEndsAt({ kind: 'until', value: '' }, now)).toEqual({ problem: 'Pick the time (UTC) the silence ends.' });
    expect(silenceEndsAt({ kind: 'until', value: 'tomorrow' }, now)).toEqual({ problem: 'That is not a date and time.' });
    expect(silenceEndsAt({ kind: 'until', value: '2026-11-23T03:30' }, now)).toMatchObject({ problem: expect.stringMatching(/has passed/) });
  });

  it('reads datetime-local values as UTC and refuses dates that do not exist', () => {
    expect(parseUtcDateTime('2026-11-23T14:30')).toBe(Date.parse('2026-11-23T14:30:00Z'));
    expect(parseUtcDateTime('2026-11-23T14:30:15')).toBe(Date.parse('2026-11-23T14:30:15Z'));
    expect(parseUtcDateTime('2026-02-31T10:00')).toBeUndefined();
    expect(parseUtcDateTime('2026-11-23T24:10')).toBeUndefined();
    expect(parseUtcDateTime('2026-11-23 14:30')).toBeUndefined();
    expect(formatUtcDateTime(Date.parse('2026-11-23T14:30:59Z'))).toBe('2026-11-23T14:30');
  });
});

describe('silences shown', () => {
  it('drops ended ones, lists those in force ending soonest first, then those starting later', () => {
    const ended = makeSilence(now, 90, 1, { id: 'ended' });
    const long = makeSilence(now, 10, 4, { id: 'long' });
    const short = makeSilence(now, 50, 1, { id: 'short' });
    const later = makeSilence(now, -60, 1, { id: 'later' });
    expect(currentSilences([later, long, ended, short], now).map((silence) => silence.id)).toEqual(['short', 'long', 'later']);
  });

  it('describes matchers in words', () => {
    expect(describeMatchers({ service: ['checkout', 'payments'], environment: ['prod'] })).toBe('service checkout or payments · environment prod');
    expect(describeMatchers({ severity: ['warning', 'info'] })).toBe('severity warning or info');
  });
});

describe('which silences mute an incident', () => {
  const target = { service: 'checkout', environment: 'prod', severity: 'critical', metric: 'error_rate' };

  it('needs every given matcher to match, and a known metric for a metric matcher', () => {
    expect(matchersCover({ service: ['checkout'] }, target)).toBe(true);
    expect(matchersCover({ service: ['checkout'], environment: ['staging'] }, target)).toBe(false);
    expect(matchersCover({ severity: ['critical'] }, target)).toBe(true);
    expect(matchersCover({ metric: ['error_rate'] }, target)).toBe(true);
    expect(matchersCover({ metric: ['error_rate'] }, { ...target, metric: undefined })).toBe(false);
  });

  it('mutes only while every alert is covered by a silence in force', () => {
    const checkout = makeSilence(now, 5, 1, { id: 'checkout', matchers: { service: ['checkout'] } });
    const payments = makeSilence(now, 5, 1, { id: 'payments', matchers: { service: ['payments'] } });
    const future = makeSilence(now, -30, 1, { id: 'future', matchers: { service: ['payments'] } });
    const both = [target, { ...target, service: 'payments' }];
    expect(mutingSilences([target], [checkout], now)?.map((silence) => silence.id)).toEqual(['checkout']);
    expect(mutingSilences(both, [checkout], now)).toBeUndefined();
    expect(mutingSilences(both, [checkout, future], now)).toBeUndefined();
    expect(mutingSilences(both, [checkout, payments], now)?.map((silence) => silence.id)).toEqual(['checkout', 'payments']);
    expect(mutingSilences([], [checkout], now)).toBeUndefined();
    expect(mutingSilences([target], [checkout], Date.parse(checkout.endsAt))).toBeUndefined();
  });

  it("checks an incident's alerts the feed holds, and its own labels for those it does not", () => {
    const incident = makeIncident(now, 5, { service: 'checkout', severity: 'critical', alertIds: ['a-checkout', 'a-payments', 'a-unknown'] });
    const alerts = new Map<string, Alert>([
      ['a-checkout', makeAlert(now, 5, { id: 'a-checkout', metric: 'error_rate' })],
      ['a-payments', makeAlert(now, 4, { id: 'a-payments', service: 'payments', environment: 'prod-eu', metric: 'latency_p99_ms' })],
    ]);
    expect(incidentMuteTargets(incident, alerts)).toEqual([
      { service: 'checkout', environment: 'prod', severity: 'warning', metric: 'error_rate' },
      { service: 'payments', environment: 'prod-eu', severity: 'warning', metric: 'latency_p99_ms' },
      { service: 'checkout', environment: 'prod', severity: 'critical' },
    ]);
    expect(incidentMuteTargets({ ...incident, alertIds: ['a-checkout'] }, alerts)).toHaveLength(1);
    // A new silence covers every service and environment of the incident, its own first.
    expect(incidentSilenceScope(incident, alerts)).toEqual({ services: ['checkout', 'payments'], environments: ['prod', 'prod-eu'] });
  });
});
