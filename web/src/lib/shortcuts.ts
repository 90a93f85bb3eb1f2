/**
 * The dashboard's keyboard shortcuts: which key does what, and the rule that none of them fires
 * while the person is typing (in a field, a text area, a select or anything editable).
 */

/** What a shortcut does. */
export type ShortcutAction = 'next' | 'previous' | 'acknowledge' | 'search' | 'help' | 'close';

/** The shortcuts, as the help overlay lists them. */
export const SHORTCUTS: ReadonlyArray<{ key: string; action: ShortcutAction; description: string }> = [
  { key: 'j', action: 'next', description: 'Select the next alert' },
  { key: 'k', action: 'previous', description: 'Select the previous alert' },
  { key: 'a', action: 'acknowledge', description: 'Acknowledge the incident of the selected alert (signed in)' },
  { key: '/', action: 'search', description: 'Search' },
  { key: '?', action: 'help', description: 'Show or hide this help' },
  { key: 'Escape', action: 'close', description: 'Close this help' },
];

/** The slice of a KeyboardEvent shortcuts look at. */
export type ShortcutKeyEvent = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target' | 'isComposing'>;

/** Whether the event comes from somewhere the person types (where `j` is a letter, not a command). */
export function isTyping(target: EventTarget | null): boolean {
  if (typeof Element === 'undefined' || !(target instanceof Element)) return false;
  if (target.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])')) return true;
  return false;
}

/** The action of a key press, or undefined when it is not a shortcut (or the person is typing, or holds Ctrl/⌘/Alt). */
export function shortcutFor(event: ShortcutKeyEvent): ShortcutAction | undefined {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || isTyping(event.target)) return undefined;
  return SHORTCUTS.find((shortcut) => shortcut.key === event.key)?.action;
}

/**
 * The id `step` places after `current` in `ids` (1 next, -1 previous), staying at the ends; from no
 * selection (or one not in the list) `next` starts at the first and `previous` at the last.
 */
export function stepThrough(ids: readonly string[], current: string | undefined, step: 1 | -1): string | undefined {
  if (ids.length === 0) return undefined;
  const index = current === undefined ? -1 : ids.indexOf(current);
  if (index === -1) return step === 1 ? ids[0] : ids[ids.length - 1];
  return ids[Math.min(ids.length - 1, Math.max(0, index + step))];
}
