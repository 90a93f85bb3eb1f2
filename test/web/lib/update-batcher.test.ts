import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpdateBatcher, type UpdateBatch } from '../../../web/src/lib/update-batcher.ts';
import { makeAlert, makeChange } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');
const version = (id: string, second: number, explanation = `${id}@${second}`) =>
  makeAlert(now, 5, { id, updatedAt: new Date(now + second * 1_000).toISOString(), explanation });

describe('UpdateBatcher', () => {
  let batches: UpdateBatch[];
  let batcher: UpdateBatcher;

  beforeEach(() => {
    vi.useFakeTimers();
    batches = [];
    batcher = new UpdateBatcher((batch) => batches.push(batch), { intervalMs: 150, maxPendingChanges: 3 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers nothing until the interval has passed since the first queued event', () => {
    batcher.addAlert(version('a', 1));
    vi.advanceTimersByTime(100);
    batcher.addAlert(version('b', 1));
    vi.advanceTimersByTime(49);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.alerts.map((alert) => alert.id)).toEqual(['a', 'b']);
  });

  it('turns a storm into one batch per interval holding only the newest version of each alert', () => {
    for (let second = 1; second <= 1_000; second += 1) {
      batcher.addAlert(version(`alert-${second % 10}`, second));
    }
    vi.advanceTimersByTime(150);
    expect(batches).toHaveLength(1);
    // alert-1 last updated at second 991, alert-2 at 992, ..., alert-0 at 1000.
    const lastSecond = (index: number) => (index === 0 ? 1_000 : 990 + index);
    const expected = Array.from({ length: 10 }, (_, index) => `alert-${index}@${lastSecond(index)}`);
    expect(batches[0]!.alerts.map((alert) => alert.explanation).sort()).toEqual(expected.sort());
  });

  it('keeps a newer queued version when an older one arrives late', () => {
    batcher.addAlert(version('a', 9, 'newer'));
    batcher.addAlert(version('a', 3, 'older'));
    batcher.flush();
    expect(batches[0]!.alerts.map((alert) => alert.explanation)).toEqual(['newer']);
  });

  it('holds at most maxPendingChanges changes, dropping the earliest arrivals', () => {
    for (const minutesAgo of [5, 4, 3, 2, 1]) batcher.addChange(makeChange(now, minutesAgo));
    batcher.flush();
    expect(batches[0]!.changes.map((change) => change.id)).toEqual(['chg-3', 'chg-2', 'chg-1']);
  });

  it('flush delivers immediately and cancels the pending timer; an empty flush delivers nothing', () => {
    batcher.addChange(makeChange(now, 1));
    batcher.flush();
    batcher.flush();
    vi.advanceTimersByTime(1_000);
    expect(batches).toHaveLength(1);
    expect(batcher.pendingCount).toBe(0);
  });

  it('discard drops queued events without delivering them', () => {
    batcher.addAlert(version('a', 1));
    batcher.addChange(makeChange(now, 1));
    batcher.discard();
    vi.advanceTimersByTime(1_000);
    expect(batches).toEqual([]);
    batcher.addAlert(version('b', 2));
    vi.advanceTimersByTime(150);
    expect(batches.map((batch) => batch.alerts.map((alert) => alert.id))).toEqual([['b']]);
  });
});
