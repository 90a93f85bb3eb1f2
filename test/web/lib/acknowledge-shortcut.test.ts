import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../web/src/lib/api.ts';
import { acknowledgeSelectedAlert } from '../../../web/src/lib/acknowledge-shortcut.ts';
import { makeIncident } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');
const firing = makeIncident(now, 4, { id: 'inc-1', title: 'checkout: errors', alertIds: ['a1'] });

describe('the acknowledge shortcut', () => {
  const run = (overrides: Partial<Parameters<typeof acknowledgeSelectedAlert>[0]> = {}) => {
    const sent: string[] = [];
    const answer = acknowledgeSelectedAlert({
      alertId: 'a1',
      signedIn: true,
      incidentOf: (id) => (firing.alertIds.includes(id) ? firing : undefined),
      acknowledge: async (id) => void sent.push(id),
      ...overrides,
    });
    return { answer, sent };
  };

  it('acknowledges the selected alert’s firing incident', async () => {
    const { answer, sent } = run();
    expect(await answer).toBe('Acknowledged incident “checkout: errors”.');
    expect(sent).toEqual(['inc-1']);
  });

  it('says why it did nothing, sending nothing', async () => {
    for (const [overrides, reason] of [
      [{ alertId: undefined }, 'Select an alert first'],
      [{ signedIn: false }, 'Sign in with an operator’s API token to acknowledge'],
      [{ alertId: 'a-lonely' }, 'not part of an open incident'],
      [{ incidentOf: () => ({ ...firing, status: 'acknowledged' as const, acknowledgedBy: 'bob' }) }, 'already acknowledged by bob'],
    ] as const) {
      const { answer, sent } = run(overrides);
      expect(await answer).toContain(reason);
      expect(sent).toEqual([]);
    }
  });

  it('words a refusal from the server', async () => {
    const { answer } = run({ acknowledge: async () => Promise.reject(new ApiError(403, 'CW_AUTH_FORBIDDEN', 'this action needs the operator role')) });
    expect(await answer).toMatch(/^Could not acknowledge “checkout: errors”: /);
  });
});
