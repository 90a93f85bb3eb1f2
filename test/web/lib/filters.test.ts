import { describe, expect, it } from 'vitest';
import { alertMatches, changeMatches, distinctValues, incidentMatches } from '../../../web/src/lib/filters.ts';
import { makeAlert, makeChange, makeIncident, suspectFor } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');
const agentDeploy = makeChange(now, 9, { id: 'chg-agent', author: { type: 'ai_agent', name: 'deploy-pilot' }, summary: 'Raise payment client pool size' });
const critical = makeAlert(now, 4, { id: 'a-crit', severity: 'critical', metric: 'error_ratio', suspects: [suspectFor(agentDeploy, 0.8, [])] });
const staging = makeAlert(now, 6, { id: 'a-staging', service: 'payments', environment: 'staging', metric: 'queue_depth' });

describe('filters', () => {
  it('match alerts by every field, the author type being that of the top suspect', () => {
    expect(alertMatches(critical, {})).toBe(true);
    expect(alertMatches(critical, { severity: 'critical', status: 'firing', service: 'checkout', environment: 'prod' })).toBe(true);
    expect(alertMatches(staging, { severity: 'critical' })).toBe(false);
    expect(alertMatches(staging, { environment: 'prod' })).toBe(false);
    expect(alertMatches(critical, { status: 'resolved' })).toBe(false);
    expect(alertMatches(critical, { authorType: 'ai_agent' })).toBe(true);
    expect(alertMatches(staging, { authorType: 'ai_agent' })).toBe(false);
  });

  it('search alerts case-insensitively in service, metric, explanation and suspect summaries', () => {
    expect(alertMatches(critical, { search: 'POOL SIZE' })).toBe(true);
    expect(alertMatches(staging, { search: 'pool size' })).toBe(false);
    expect(alertMatches(staging, { search: 'queue_dep' })).toBe(true);
    expect(alertMatches(staging, { search: 'PAYMENTS' })).toBe(true);
  });

  it('match incidents by their own fields, and by author type and text through their alerts', () => {
    const incident = makeIncident(now, 4, { id: 'inc-1', severity: 'critical', title: 'checkout: error_ratio 20× normal', alertIds: ['a-crit'] });
    const alerts = new Map([[critical.id, critical]]);
    expect(incidentMatches(incident, { severity: 'critical', search: '20×' }, alerts)).toBe(true);
    expect(incidentMatches(incident, { status: 'acknowledged' }, alerts)).toBe(false);
    expect(incidentMatches(incident, { authorType: 'ai_agent', search: 'pool size' }, alerts)).toBe(true);
    expect(incidentMatches(incident, { authorType: 'ai_agent' }, new Map())).toBe(false);
    expect(incidentMatches(incident, { authorType: 'human' }, alerts)).toBe(false);
  });

  it('match changes by service, environment, author and text; severity and status do not apply', () => {
    expect(changeMatches(agentDeploy, { severity: 'info', status: 'resolved' })).toBe(true);
    expect(changeMatches(agentDeploy, { authorType: 'ai_agent', search: 'deploy-pilot' })).toBe(true);
    expect(changeMatches(agentDeploy, { authorType: 'human' })).toBe(false);
    expect(changeMatches(agentDeploy, { service: 'payments' })).toBe(false);
    expect(changeMatches(agentDeploy, { search: 'nothing like it' })).toBe(false);
  });

  it('list the distinct values for a filter’s choices, sorted', () => {
    expect(distinctValues(['search', 'checkout', undefined, '', 'checkout'])).toEqual(['checkout', 'search']);
  });
});
