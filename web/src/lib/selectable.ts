/**
 * Shared behaviour of the selectable cards (alerts, incidents, changes): their title is a real link
 * to the deep link, so Ctrl-click and "copy link" work, while a plain click selects in place.
 */

/** A click handler for a deep link: a plain left click selects in the page; modified clicks are left to the browser (new tab, window). */
export function selectOnPlainClick(select: () => void): (event: MouseEvent) => void {
  return (event) => {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    select();
  };
}

/**
 * Scrolls a selected card into view. Call it in an effect with the selection's `reveal` counter, so
 * it runs when the person navigates to the card, not every time the card re-renders.
 */
export function revealWhenSelected(element: HTMLElement | undefined, selected: boolean, reveal: number): void {
  // `reveal` is only read so the effect re-runs for each request.
  if (!selected || element === undefined || reveal < 0) return;
  // Centred: the sticky header at the top would hide a card scrolled to the very top.
  element.scrollIntoView({ block: 'center' });
}
