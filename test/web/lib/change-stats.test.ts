import { describe, expect, it } from 'vitest';
import { CHANGE_STATS_PATH, fetchChangeStats, isChangeStatsResponse } from '../../../web/src/lib/change-stats.ts';
import { makeChangeStats } from '../support/fixtures.ts';

const stats = makeChangeStats(Date.parse('2026-11-23T03:30:00Z'));

function answering(response: Response): { fetch: typeof fetch; requested: string[] } {
  const requested: string[] = [];
  return {
    requested,
    fetch: async (input) => {
      requested.push(String(input));
      return response;
    },
  };
}

describe('isChangeStatsResponse', () => {
  it('accepts the contract shape, with or without agents', () => {
    expect(isChangeStatsResponse(stats)).toBe(true);
    expect(isChangeStatsResponse({ ...stats, byAgent: {} })).toBe(true);
  });

  it('rejects bodies missing an author type or with malformed counts', () => {
    const { human: _human, ...withoutHuman } = stats.byAuthorType;
    expect(isChangeStatsResponse({ ...stats, byAuthorType: withoutHuman })).toBe(false);
    expect(isChangeStatsResponse({ ...stats, byAgent: { bot: { changes: '3' } } })).toBe(false);
    expect(isChangeStatsResponse({ error: 'not found' })).toBe(false);
    expect(isChangeStatsResponse(null)).toBe(false);
  });
});

describe('fetchChangeStats', () => {
  it('fetches the stats endpoint and returns the body', async () => {
    const server = answering(Response.json(stats));
    await expect(fetchChangeStats(server.fetch)).resolves.toEqual(stats);
    expect(server.requested).toEqual([CHANGE_STATS_PATH]);
  });

  it('explains an HTTP failure', async () => {
    await expect(fetchChangeStats(answering(new Response('nope', { status: 404 })).fetch)).rejects.toThrow(
      'server answered HTTP 404',
    );
  });

  it('explains a body of the wrong shape or not JSON at all', async () => {
    await expect(fetchChangeStats(answering(Response.json({ rates: [] })).fetch)).rejects.toThrow('unexpected response');
    await expect(fetchChangeStats(answering(new Response('<html>')).fetch)).rejects.toThrow('unexpected response');
  });
});
