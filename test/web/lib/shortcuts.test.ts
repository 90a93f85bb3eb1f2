import { describe, expect, it } from 'vitest';
import { shortcutFor, stepThrough } from '../../../web/src/lib/shortcuts.ts';

const key = (value: string, extra: Partial<KeyboardEvent> = {}) => ({ key: value, ctrlKey: false, metaKey: false, altKey: false, isComposing: false, target: null, ...extra });

describe('keyboard shortcuts', () => {
  it('map keys to actions, and ignore them with Ctrl, ⌘ or Alt held', () => {
    expect(['j', 'k', 'a', '/', '?', 'Escape'].map((value) => shortcutFor(key(value)))).toEqual(['next', 'previous', 'acknowledge', 'search', 'help', 'close']);
    expect(shortcutFor(key('x'))).toBeUndefined();
    expect(shortcutFor(key('j', { ctrlKey: true }))).toBeUndefined();
    expect(shortcutFor(key('a', { metaKey: true }))).toBeUndefined();
    expect(shortcutFor(key('k', { isComposing: true }))).toBeUndefined();
  });

  it('step through ids, staying at the ends, starting from either end without a selection', () => {
    const ids = ['a', 'b', 'c'];
    expect(stepThrough(ids, undefined, 1)).toBe('a');
    expect(stepThrough(ids, undefined, -1)).toBe('c');
    expect(stepThrough(ids, 'a', 1)).toBe('b');
    expect(stepThrough(ids, 'c', 1)).toBe('c');
    expect(stepThrough(ids, 'a', -1)).toBe('a');
    expect(stepThrough(ids, 'gone', 1)).toBe('a');
    expect(stepThrough([], undefined, 1)).toBeUndefined();
  });
});
