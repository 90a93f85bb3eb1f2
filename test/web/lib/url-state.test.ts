import { describe, expect, it } from 'vitest';
import { formatUrlState, hasFilters, parseUrlState, sameSelection, selectionPath } from '../../../web/src/lib/url-state.ts';

describe('URL state', () => {
  it('reads deep links to alerts, incidents and changes, decoding their ids', () => {
    expect(parseUrlState('/alerts/alrt-3641772df8d985da', '')).toEqual({ selection: { kind: 'alert', id: 'alrt-3641772df8d985da' }, filters: {}, problems: [] });
    expect(parseUrlState('/incidents/inc-1/', '').selection).toEqual({ kind: 'incident', id: 'inc-1' });
    expect(parseUrlState('/changes/a%20b%2Fc', '').selection).toEqual({ kind: 'change', id: 'a b/c' });
    expect(parseUrlState('/', '')).toEqual({ selection: undefined, filters: {}, problems: [] });
  });

  it('says what it could not use instead of guessing', () => {
    expect(parseUrlState('/alerts/%E0%A4%A', '')).toEqual({ selection: undefined, filters: {}, problems: ['The alert id in the address is not valid URL encoding.'] });
    expect(parseUrlState('/alerts/a/b', '').problems).toEqual(['The address /alerts/a/b is not a dashboard page; showing the whole dashboard.']);
    expect(parseUrlState('/alerts/%20', '').selection).toBeUndefined();
    const parsed = parseUrlState('/', '?severity=urgent&status=sleeping&author=robot&service=checkout');
    expect(parsed.filters).toEqual({ service: 'checkout' });
    expect(parsed.problems).toEqual([
      'Ignored severity "urgent" from the address: it must be one of critical, warning, info.',
      'Ignored status "sleeping" from the address: it must be one of firing, acknowledged, resolved.',
      'Ignored author type "robot" from the address: it must be one of ai_agent, ai_assisted, human.',
    ]);
  });

  it('reads every filter, trimmed, ignoring empty ones and capping long text', () => {
    const parsed = parseUrlState('/', '?service=+checkout+&environment=prod&severity=critical&status=firing&author=ai_agent&q=pool%20size&extra=1&q2=');
    expect(parsed.filters).toEqual({ service: 'checkout', environment: 'prod', severity: 'critical', status: 'firing', authorType: 'ai_agent', search: 'pool size' });
    expect(parseUrlState('/', '?service=&q=%20%20').filters).toEqual({});
    expect(parseUrlState('/', `?q=${'x'.repeat(500)}`).filters.search).toHaveLength(200);
  });

  it('writes path and query back, leaving out what is unset, and round-trips', () => {
    expect(formatUrlState({ selection: undefined, filters: {} })).toBe('/');
    expect(formatUrlState({ selection: { kind: 'alert', id: 'a/1 2' }, filters: { severity: 'critical', search: 'pool size' } })).toBe('/alerts/a%2F1%202?severity=critical&q=pool+size');
    const state = { selection: { kind: 'change' as const, id: 'chg-7' }, filters: { service: 'checkout', environment: 'prod', status: 'resolved' as const, authorType: 'human' as const, search: 'a&b=c' } };
    const url = new URL(formatUrlState(state), 'http://dashboard');
    expect(parseUrlState(url.pathname, url.search)).toEqual({ ...state, problems: [] });
  });

  it('compares selections and tells whether any filter is set', () => {
    expect(selectionPath({ kind: 'incident', id: 'inc-1' })).toBe('/incidents/inc-1');
    expect(sameSelection({ kind: 'alert', id: 'x' }, { kind: 'alert', id: 'x' })).toBe(true);
    expect(sameSelection({ kind: 'alert', id: 'x' }, { kind: 'change', id: 'x' })).toBe(false);
    expect(sameSelection(undefined, undefined)).toBe(true);
    expect(hasFilters({})).toBe(false);
    expect(hasFilters({ search: 'x' })).toBe(true);
  });
});
