/**
 * The selection and filters, kept in the address bar: reading the URL on load and on back/forward
 * (`popstate`), writing it with the History API when the person selects something or changes a
 * filter. No router: the dashboard is one page and only its address changes.
 */
import { formatUrlState, hasFilters, parseUrlState, sameSelection, type Filters, type Selection, type UrlState } from '../url-state.ts';

/** The slice of `window` navigation uses, injectable for tests. */
export interface NavigationWindow {
  location: { pathname: string; search: string };
  history: { pushState(data: unknown, unused: string, url: string): void; replaceState(data: unknown, unused: string, url: string): void };
  addEventListener(type: 'popstate', listener: () => void): void;
  removeEventListener(type: 'popstate', listener: () => void): void;
}

/** How a change reaches the browser history. */
export type HistoryMode = 'push' | 'replace';

/** Where the person is on the dashboard: what is selected and which filters apply. */
export class Navigation {
  /** The selected alert, incident or change, if any. */
  selection = $state.raw<Selection | undefined>(undefined);
  /** The filters in force. */
  filters = $state.raw<Filters>({});
  /** What in the address could not be used (an unknown severity, a malformed id). */
  problems = $state.raw<readonly string[]>([]);
  /**
   * Counts navigations to a selection that should bring it into view (deep link, back/forward, j/k):
   * the selected card scrolls itself when this changes, not when it merely re-renders.
   */
  revealRequest = $state(0);

  /** Whether any filter is set. */
  readonly filtered = $derived(hasFilters(this.filters));

  readonly #window: NavigationWindow;

  constructor(window: NavigationWindow = globalThis.window) {
    this.#window = window;
    this.#read();
  }

  /** Follows back and forward; returns a function that stops. */
  bind(): () => void {
    const onPopState = (): void => this.#read();
    this.#window.addEventListener('popstate', onPopState);
    return () => this.#window.removeEventListener('popstate', onPopState);
  }

  /**
   * Selects something (or nothing) and records it as a new history entry (`replace` for stepping
   * with j/k, so Back does not walk every alert passed); `reveal` scrolls it into view.
   */
  select(selection: Selection | undefined, { reveal = false, mode = 'push' }: { reveal?: boolean; mode?: HistoryMode } = {}): void {
    if (reveal) this.revealRequest += 1;
    if (sameSelection(selection, this.selection)) return;
    this.selection = selection;
    this.#write(mode);
  }

  /**
   * Sets one filter (`undefined` or '' clears it). Typing in the search box replaces the current
   * history entry rather than adding one per keystroke; the other filters add one.
   */
  setFilter<K extends keyof Filters>(field: K, value: Filters[K] | '', mode: HistoryMode = field === 'search' ? 'replace' : 'push'): void {
    const next: Filters = { ...this.filters };
    if (value === undefined || value === '') delete next[field];
    else next[field] = value as Filters[K];
    this.filters = next;
    this.problems = [];
    this.#write(mode);
  }

  /** Clears every filter (one history entry). */
  clearFilters(): void {
    if (!this.filtered && this.problems.length === 0) return;
    this.filters = {};
    this.problems = [];
    this.#write('push');
  }

  /** The address of the current state (path and query). */
  get url(): string {
    return formatUrlState(this.#state());
  }

  #state(): UrlState {
    return { selection: this.selection, filters: this.filters };
  }

  #read(): void {
    const parsed = parseUrlState(this.#window.location.pathname, this.#window.location.search);
    this.selection = parsed.selection;
    this.filters = parsed.filters;
    this.problems = parsed.problems;
    if (parsed.selection) this.revealRequest += 1;
  }

  #write(mode: HistoryMode): void {
    const url = this.url;
    const current = `${this.#window.location.pathname}${this.#window.location.search}`;
    if (url === current) return;
    if (mode === 'push') this.#window.history.pushState(null, '', url);
    else this.#window.history.replaceState(null, '', url);
  }
}
