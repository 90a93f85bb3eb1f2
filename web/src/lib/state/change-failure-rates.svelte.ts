/**
 * Reactive change failure rates, polled from the server; keeps the last good answer when a poll fails.
 */
import type { ChangeStatsResponse } from '../../../../contract/alert.ts';
import { fetchChangeStats } from '../change-stats.ts';

/** How often the rates are refreshed; they move slowly, so this is generous. */
export const CHANGE_STATS_REFRESH_MS = 30_000;

/** Change failure rates by author type and per agent, refreshed periodically. */
export class ChangeFailureRates {
  /** The latest rates received, kept through later failures. */
  stats = $state.raw<ChangeStatsResponse | undefined>(undefined);
  /** When `stats` was received (epoch ms). */
  receivedAt = $state<number | undefined>(undefined);
  /** Why the latest refresh failed; undefined after a success. */
  problem = $state<string | undefined>(undefined);

  readonly #fetchImpl: typeof fetch;
  readonly #refreshMs: number;

  constructor(fetchImpl: typeof fetch = fetch, refreshMs = CHANGE_STATS_REFRESH_MS) {
    this.#fetchImpl = fetchImpl;
    this.#refreshMs = refreshMs;
  }

  /** Fetches now and then every refresh interval; returns a function that stops polling and cancels any fetch in flight. */
  start(): () => void {
    const aborter = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      await this.#refresh(aborter.signal);
      // Scheduling after each answer (not on a fixed interval) means a slow server never gets overlapping polls.
      if (!aborter.signal.aborted) timer = setTimeout(poll, this.#refreshMs);
    };
    void poll();
    return () => {
      aborter.abort();
      clearTimeout(timer);
    };
  }

  async #refresh(signal: AbortSignal): Promise<void> {
    try {
      this.stats = await fetchChangeStats(this.#fetchImpl, signal);
      this.receivedAt = Date.now();
      this.problem = undefined;
    } catch (error) {
      if (signal.aborted) return;
      this.problem = error instanceof Error ? error.message : String(error);
    }
  }
}
