/**
 * The deep-linked alert, incident or change when the live page does not hold it (an alert resolved
 * long ago, a closed incident, an old change): fetched once by id from the API, or a clear "not
 * found" when the server has no such thing.
 */
import type { Alert } from '../../../../contract/alert.ts';
import type { ChangeEvent } from '../../../../contract/events.ts';
import type { Incident } from '../../../../contract/incident.ts';
import { ApiError, explainApiError } from '../api.ts';
import { sameSelection, type Selection } from '../url-state.ts';

/** What was fetched for a selection. */
export type LinkedThing = { kind: 'alert'; alert: Alert } | { kind: 'incident'; incident: Incident } | { kind: 'change'; change: ChangeEvent };

/** Where fetching a linked item stands. */
export type LinkedItemState =
  | { phase: 'idle' }
  | { phase: 'loading'; selection: Selection }
  | { phase: 'found'; selection: Selection; thing: LinkedThing }
  | { phase: 'missing'; selection: Selection }
  | { phase: 'failed'; selection: Selection; problem: string };

/** Reads one thing by id (the ApiClient's getAlert, getIncident and getChange). */
export interface LinkedItemFetchers {
  alert(id: string, signal: AbortSignal): Promise<Alert>;
  incident(id: string, signal: AbortSignal): Promise<Incident>;
  change(id: string, signal: AbortSignal): Promise<ChangeEvent>;
}

/** The linked item fetched from the API. */
export class LinkedItem {
  /** The current fetch and its outcome. */
  state = $state.raw<LinkedItemState>({ phase: 'idle' });

  readonly #fetchers: LinkedItemFetchers;
  #inFlight: AbortController | undefined;

  constructor(fetchers: LinkedItemFetchers) {
    this.#fetchers = fetchers;
  }

  /** Fetches the selection unless it is already fetched or being fetched. Never throws. */
  async load(selection: Selection): Promise<void> {
    if (this.state.phase !== 'idle' && this.state.phase !== 'failed' && sameSelection(this.state.selection, selection)) return;
    this.#inFlight?.abort();
    const aborter = new AbortController();
    this.#inFlight = aborter;
    this.state = { phase: 'loading', selection };
    try {
      const thing = await this.#fetch(selection, aborter.signal);
      if (!aborter.signal.aborted) this.state = { phase: 'found', selection, thing };
    } catch (error) {
      if (aborter.signal.aborted) return;
      this.state =
        error instanceof ApiError && error.code === 'CW_NOT_FOUND' ? { phase: 'missing', selection } : { phase: 'failed', selection, problem: explainApiError(error) };
    }
  }

  /** Forgets the linked item (nothing selected, or the page holds it). */
  clear(): void {
    this.#inFlight?.abort();
    this.#inFlight = undefined;
    if (this.state.phase !== 'idle') this.state = { phase: 'idle' };
  }

  async #fetch(selection: Selection, signal: AbortSignal): Promise<LinkedThing> {
    switch (selection.kind) {
      case 'alert':
        return { kind: 'alert', alert: await this.#fetchers.alert(selection.id, signal) };
      case 'incident':
        return { kind: 'incident', incident: await this.#fetchers.incident(selection.id, signal) };
      case 'change':
        return { kind: 'change', change: await this.#fetchers.change(selection.id, signal) };
    }
  }
}
