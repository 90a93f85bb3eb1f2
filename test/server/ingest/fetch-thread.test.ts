import { describe, expect, it } from 'vitest';
import { restartDelayMs } from '../../../server/ingest/fetch-thread.ts';

describe('fetch thread restarts', () => {
  it('waits 1 s after a first failure and doubles while threads keep dying before they join, up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(restartDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });
});
