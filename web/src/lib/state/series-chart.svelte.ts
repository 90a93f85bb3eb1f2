/**
 * Reactive data of one metric chart: the latest history of an alert's series, loaded on demand
 * through a shared {@link RequestSlots} so that many charts appearing at once queue instead of all
 * asking at the same moment. Keeps the last good answer when a refresh fails.
 */
import type { SeriesPointsResponse } from '../../../../contract/series.ts';
import { ApiError, explainApiError } from '../api.ts';
import { RequestSlots } from '../request-slots.ts';
import type { SeriesLoader } from '../series-source.ts';

/** Chart requests in flight at once, page-wide. */
export const CHART_REQUEST_SLOTS = new RequestSlots(3);

/** The history of one alert's series as a chart shows it. */
export class SeriesChart {
  /** The latest answer; each refresh swaps in a new one (raw: it is only ever replaced). */
  data = $state.raw<SeriesPointsResponse | undefined>(undefined);
  /** True when the server has no history for the series (a 404: after a restart, or the series was forgotten). */
  missing = $state(false);
  /** Why the latest refresh failed (other than `missing`); undefined after a success. */
  problem = $state<string | undefined>(undefined);
  /** Number of answers received, so a view can tell a new answer from the same one. */
  received = $state(0);

  readonly #load: SeriesLoader;
  readonly #alertId: string;
  readonly #slots: RequestSlots;
  readonly #aborter = new AbortController();
  #inFlight = false;
  #again = false;

  constructor(load: SeriesLoader, alertId: string, slots: RequestSlots = CHART_REQUEST_SLOTS) {
    this.#load = load;
    this.#alertId = alertId;
    this.#slots = slots;
  }

  /** Fetches the newest history; a call while one is in flight runs once more after it, never in parallel. */
  refresh(): void {
    if (this.#aborter.signal.aborted) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    void this.#fetch().finally(() => {
      this.#inFlight = false;
      if (this.#again) {
        this.#again = false;
        this.refresh();
      }
    });
  }

  /** Cancels any request in flight or queued; the chart is gone. */
  stop(): void {
    this.#aborter.abort();
  }

  async #fetch(): Promise<void> {
    const signal = this.#aborter.signal;
    try {
      const data = await this.#slots.run(() => this.#load(this.#alertId, signal), signal);
      this.data = data;
      this.missing = false;
      this.problem = undefined;
      this.received += 1;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status === 404) this.missing = true;
      else this.problem = explainApiError(error);
    }
  }
}
