import { describe, expect, it } from 'vitest';
import { ChangeIndex } from '../../../web/src/lib/change-index.ts';
import { makeChange } from '../support/fixtures.ts';

const now = Date.parse('2026-11-23T03:30:00Z');

describe('ChangeIndex', () => {
  it('lists changes newest first whatever order they arrive in', () => {
    const index = new ChangeIndex();
    index.add([makeChange(now, 20), makeChange(now, 5)]);
    index.add([makeChange(now, 12)]);
    expect(index.ordered.map((change) => change.id)).toEqual(['chg-5', 'chg-12', 'chg-20']);
  });

  it('keeps one entry per change id, the latest copy', () => {
    const index = new ChangeIndex();
    index.add([makeChange(now, 5, { summary: 'first' })]);
    index.add([makeChange(now, 5, { summary: 'corrected' })]);
    expect(index.ordered.map((change) => change.summary)).toEqual(['corrected']);
  });

  it('keeps only the newest changes past its limit', () => {
    const index = new ChangeIndex(2);
    index.add([makeChange(now, 1), makeChange(now, 3)]);
    index.add([makeChange(now, 2), makeChange(now, 9)]);
    expect(index.ordered.map((change) => change.id)).toEqual(['chg-1', 'chg-2']);
  });

  it('replaceAll starts over from the snapshot', () => {
    const index = new ChangeIndex();
    index.add([makeChange(now, 1)]);
    index.replaceAll([makeChange(now, 7)]);
    expect(index.ordered.map((change) => change.id)).toEqual(['chg-7']);
  });
});
