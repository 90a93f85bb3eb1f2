import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LatestBatcher } from '../../../web/src/lib/latest-batcher.ts';

interface Versioned {
  id: string;
  version: number;
}

describe('LatestBatcher', () => {
  let batches: Versioned[][];
  let batcher: LatestBatcher<Versioned>;

  beforeEach(() => {
    vi.useFakeTimers();
    batches = [];
    batcher = new LatestBatcher((items) => batches.push(items), {
      key: (item) => item.id,
      supersedes: (candidate, current) => candidate.version >= current.version,
      intervalMs: 150,
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns a burst into one batch per interval with the newest version of each key', () => {
    for (let version = 1; version <= 5_000; version += 1) batcher.add({ id: `inc-${version % 7}`, version });
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(150);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((item) => item.version).sort((a, b) => a - b)).toEqual([4994, 4995, 4996, 4997, 4998, 4999, 5000]);
    vi.advanceTimersByTime(1_000);
    expect(batches).toHaveLength(1);
  });

  it('keeps a newer queued version when an older one arrives late', () => {
    batcher.add({ id: 'a', version: 9 });
    batcher.add({ id: 'a', version: 3 });
    batcher.flush();
    expect(batches).toEqual([[{ id: 'a', version: 9 }]]);
  });

  it('drops what is queued on discard', () => {
    batcher.add({ id: 'a', version: 1 });
    batcher.discard();
    vi.advanceTimersByTime(1_000);
    expect(batches).toEqual([]);
    expect(batcher.pendingCount).toBe(0);
  });

  it('lets the later arrival win when no order is given', () => {
    const latest: string[][] = [];
    const snapshots = new LatestBatcher<string>((items) => latest.push(items), { key: () => 'only', intervalMs: 10 });
    snapshots.add('first');
    snapshots.add('second');
    vi.advanceTimersByTime(10);
    expect(latest).toEqual([['second']]);
  });
});
