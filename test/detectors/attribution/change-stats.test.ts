import { describe, expect, it } from 'vitest';
import { agentOf, computeChangeStats, LINK_CONFIDENCE, UNNAMED_AGENT } from '../../../detectors/attribution/index.ts';
import type { ChangeAuthor, ChangeEvent } from '../../../contract/events.ts';

const T0 = Date.UTC(2026, 2, 1);

function change(id: string, author: ChangeAuthor, at = T0 + 1000): ChangeEvent {
  return { id, type: 'deploy', service: 'api', environment: 'prod', timestamp: at, author };
}

const kiro: ChangeAuthor = { type: 'ai_agent', name: 'kiro-bot', agent: 'kiro' };
const devin: ChangeAuthor = { type: 'ai_agent', name: 'devin' };
const assisted: ChangeAuthor = { type: 'ai_assisted', name: 'alice', model: 'copilot' };
const human: ChangeAuthor = { type: 'human', name: 'bob' };

describe('computeChangeStats', () => {
  const changes = [change('k1', kiro), change('k2', kiro), change('d1', devin), change('a1', assisted), change('h1', human), change('h2', human), change('late', kiro, T0 + 10 * 86_400_000)];
  const incidents = [
    { suspects: [{ changeId: 'k1', confidence: 0.9 }] },
    { suspects: [{ changeId: 'h1', confidence: LINK_CONFIDENCE }] },
    // Weakly attributed and second-ranked suspects are not links.
    { suspects: [{ changeId: 'd1', confidence: 0.3 }] },
    { suspects: [{ changeId: 'a1', confidence: 0.6 }, { changeId: 'h2', confidence: 0.35 }] },
    { suspects: [] },
  ];

  it('counts changes linked to incidents (top suspect at confidence ≥ 0.5) by author type and agent', () => {
    const stats = computeChangeStats(changes, incidents, { from: T0, to: T0 + 86_400_000 });
    expect(stats.from).toBe('2026-03-01T00:00:00.000Z');
    expect(stats.to).toBe('2026-03-02T00:00:00.000Z');
    expect(stats.byAuthorType).toEqual({
      ai_agent: { changes: 3, linkedToIncident: 1, failureRate: 1 / 3 },
      ai_assisted: { changes: 1, linkedToIncident: 1, failureRate: 1 },
      human: { changes: 2, linkedToIncident: 1, failureRate: 0.5 },
    });
    expect(stats.byAgent).toEqual({
      kiro: { changes: 2, linkedToIncident: 1, failureRate: 0.5 },
      devin: { changes: 1, linkedToIncident: 0, failureRate: 0 },
      // The AI-assisted change counts for the assistant alice used, not for alice.
      copilot: { changes: 1, linkedToIncident: 1, failureRate: 1 },
    });
  });

  it('keys AI-assisted changes by their agent, else their model, never by the human author', () => {
    const range = { from: T0, to: T0 + 86_400_000 };
    const byAgent = computeChangeStats(
      [
        change('x1', { type: 'ai_assisted', name: 'alice', agent: 'cursor', model: 'claude' }),
        change('x2', { type: 'ai_assisted', name: 'bob', model: 'claude' }),
        change('x3', { type: 'ai_assisted', name: 'fatima' }),
        change('x4', { type: 'ai_agent', name: 'kiro-bot', agent: 'kiro' }),
        change('x5', { type: 'human', name: 'alice' }),
      ],
      [],
      range,
    ).byAgent;
    expect(Object.keys(byAgent).sort()).toEqual(['claude', 'cursor', 'kiro', UNNAMED_AGENT].sort());
    for (const human of ['alice', 'bob', 'fatima', 'kiro-bot']) expect(byAgent).not.toHaveProperty(human);
    expect(agentOf({ type: 'human', name: 'bob' })).toBeUndefined();
  });

  it('reports zero rates for an empty range', () => {
    const stats = computeChangeStats(changes, incidents, { from: 0, to: 1 });
    expect(stats.byAuthorType.human).toEqual({ changes: 0, linkedToIncident: 0, failureRate: 0 });
    expect(stats.byAgent).toEqual({});
  });

  it('counts a change seen twice once', () => {
    const stats = computeChangeStats([change('k1', kiro), change('k1', kiro)], incidents, { from: T0, to: T0 + 86_400_000 });
    expect(stats.byAuthorType.ai_agent.changes).toBe(1);
  });
});
