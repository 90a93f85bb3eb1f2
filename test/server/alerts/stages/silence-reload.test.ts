/** A restart rebuilds silences from the whole audit log, not from its newest page. */
import { afterEach, describe, expect, it } from 'vitest';
import { SilenceBook } from '../../../../server/alerts/stages/mute.ts';
import { Store } from '../../../../server/store/store.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('SilenceBook.load', { timeout: 60_000 }, () => {
  it('keeps an old silence that is still active behind more than 1000 newer silence entries', async () => {
    const store = await Store.open();
    cleanup.push(() => store.close());
    const now = Date.parse('2026-03-02T10:00:00.000Z');
    const book = await SilenceBook.load(store.audit, () => now);
    const longLived = await book.create(
      store.audit,
      { matchers: { service: ['legacy'] }, endsAt: new Date(now + 30 * 86_400_000).toISOString(), comment: 'decommissioning legacy' },
      'alice',
    );
    // 600 short silences, each created and expired by hand: 1200 newer silence entries.
    await store.transaction(async ({ audit }) => {
      for (let i = 0; i < 600; i++) {
        const silence = await book.create(audit, { matchers: { service: [`svc-${i}`] }, endsAt: new Date(now + 3_600_000).toISOString(), comment: 'deploy' }, 'bob');
        await book.expire(audit, silence.id, 'bob', 'done');
      }
    });
    expect((await store.audit.list({ action: 'silence.', limit: 1000 })).some((entry) => entry.target === `silence:${longLived.id}`)).toBe(false);

    const reloaded = await SilenceBook.load(store.audit, () => now);
    expect(reloaded.list()).toEqual([longLived]);
  });
});
