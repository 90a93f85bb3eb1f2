import { describe, expect, it } from 'vitest';
import { tabTitle } from '../../../web/src/lib/tab-title.ts';

describe('tab title', () => {
  it('counts firing critical and firing alerts, and is plain when nothing fires', () => {
    expect(tabTitle(0, 0)).toBe('changewatch');
    expect(tabTitle(0, 4)).toBe('(0 critical · 4 firing) changewatch');
    expect(tabTitle(2, 5)).toBe('(2 critical · 5 firing) changewatch');
    // The server's count can lag the feed by a moment; the total never reads less than the critical count.
    expect(tabTitle(3, 1)).toBe('(3 critical · 3 firing) changewatch');
  });
});
