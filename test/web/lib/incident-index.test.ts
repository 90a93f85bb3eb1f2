import { describe, expect, it } from 'vitest';
import { IncidentIndex, compareIncidents } from '../../../web/src/lib/incident-index.ts';
import { makeIncident } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');
const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();

describe('compareIncidents', () => {
  it('puts firing before acknowledged, then the most severe, then the newest start', () => {
    const incidents = [
      makeIncident(now, 1, { id: 'ack-critical', status: 'acknowledged', severity: 'critical' }),
      makeIncident(now, 30, { id: 'old-warning' }),
      makeIncident(now, 2, { id: 'new-warning' }),
      makeIncident(now, 40, { id: 'critical', severity: 'critical' }),
    ];
    expect(incidents.sort(compareIncidents).map((incident) => incident.id)).toEqual(['critical', 'new-warning', 'old-warning', 'ack-critical']);
  });
});

describe('IncidentIndex', () => {
  it('adds, replaces with newer versions only, and drops resolved incidents', () => {
    const index = new IncidentIndex();
    index.upsert([makeIncident(now, 5, { id: 'a' }), makeIncident(now, 3, { id: 'b' })]);
    index.upsert([makeIncident(now, 5, { id: 'a', status: 'acknowledged', updatedAt: at(1) })]);
    // A stale version (older updatedAt) is ignored.
    index.upsert([makeIncident(now, 5, { id: 'a', status: 'firing', updatedAt: at(4) })]);
    expect(index.ordered.map((incident) => [incident.id, incident.status])).toEqual([
      ['b', 'firing'],
      ['a', 'acknowledged'],
    ]);
    index.upsert([makeIncident(now, 3, { id: 'b', status: 'resolved', updatedAt: at(0) })]);
    expect(index.ordered.map((incident) => incident.id)).toEqual(['a']);
  });

  it('merges a load with the events that arrived while it was in flight', () => {
    const index = new IncidentIndex();
    index.upsert([makeIncident(now, 50, { id: 'resolved-while-away' })]);
    index.beginLoad();
    // During the load: one incident resolves, another opens, a third is acknowledged.
    index.upsert([
      makeIncident(now, 10, { id: 'x', status: 'resolved', updatedAt: at(0) }),
      makeIncident(now, 1, { id: 'fresh' }),
      makeIncident(now, 20, { id: 'y', status: 'acknowledged', updatedAt: at(0) }),
    ]);
    // The answer was computed before those events.
    index.finishLoad([makeIncident(now, 10, { id: 'x', updatedAt: at(2) }), makeIncident(now, 20, { id: 'y', updatedAt: at(2) })]);
    expect(index.ordered.map((incident) => [incident.id, incident.status])).toEqual([
      ['fresh', 'firing'],
      ['y', 'acknowledged'],
    ]);
  });

  it('keeps what it shows when a load is abandoned, and caps its size', () => {
    const index = new IncidentIndex(2);
    index.upsert([makeIncident(now, 1, { id: 'a' })]);
    index.beginLoad();
    index.abandonLoad();
    index.upsert([makeIncident(now, 2, { id: 'b' }), makeIncident(now, 3, { id: 'c', status: 'acknowledged' })]);
    expect(index.ordered.map((incident) => incident.id)).toEqual(['a', 'b']);
  });
});
