/**
 * Reactive list of silences: loaded from `GET /api/v1/silences` whenever the socket (re)connects and
 * every 30 s while it is connected (the server sends no event for silences, so one created by a
 * colleague shows up within that time), and updated at once by this person's own create and expire.
 */
import { explainApiError } from '../api.ts';
import type { Silence } from '../silences.ts';
import type { DashboardSocket } from '../socket.ts';

/** Fetches the silences (e.g. `api.listSilences`). */
export type SilenceLoader = (signal: AbortSignal) => Promise<Silence[]>;

/** How often the list is refreshed while connected. */
export const SILENCE_REFRESH_MS = 30_000;

/** A change this dashboard made while a load was in flight, re-applied over the load's answer. */
type LocalChange = { kind: 'add'; silence: Silence } | { kind: 'remove'; id: string };

/** The silences the dashboard shows. */
export class SilenceBoard {
  /** Silences as the server listed them (plus this person's own changes); ended ones are filtered when shown. */
  silences = $state.raw<readonly Silence[]>([]);
  /** Whether a load has succeeded at least once. */
  loaded = $state(false);
  /** Why the latest load failed; undefined after a success. */
  problem = $state<string | undefined>(undefined);

  readonly #load: SilenceLoader;
  readonly #refreshMs: number;
  #inFlight: AbortController | undefined;
  /** Changes made while {@link #inFlight} runs: its answer may predate them. */
  #sinceLoad: LocalChange[] = [];

  constructor(load: SilenceLoader, options: { refreshMs?: number } = {}) {
    this.#load = load;
    this.#refreshMs = options.refreshMs ?? SILENCE_REFRESH_MS;
  }

  /** Loads on every (re)connect and then periodically while connected; returns a function that stops both. */
  bind(socket: Pick<DashboardSocket, 'on' | 'off' | 'connected'>): () => void {
    let timer: ReturnType<typeof setInterval> | undefined;
    const onConnect = (): void => {
      void this.reload();
      clearInterval(timer);
      timer = setInterval(() => void this.reload(), this.#refreshMs);
    };
    const onDisconnect = (): void => clearInterval(timer);
    socket.on('connect', onConnect);
    socket.on('disconnect', onDisconnect);
    if (socket.connected) onConnect();
    return () => {
      socket.off('connect', onConnect);
      socket.off('disconnect', onDisconnect);
      clearInterval(timer);
      this.#inFlight?.abort();
    };
  }

  /** Fetches the silences now; a load still in flight is abandoned. Never throws. */
  async reload(): Promise<void> {
    this.#inFlight?.abort();
    const aborter = new AbortController();
    this.#inFlight = aborter;
    this.#sinceLoad = [];
    try {
      const silences = await this.#load(aborter.signal);
      if (aborter.signal.aborted) return;
      let next: readonly Silence[] = silences;
      for (const change of this.#sinceLoad) next = apply(next, change);
      this.silences = next;
      this.loaded = true;
      this.problem = undefined;
    } catch (error) {
      if (aborter.signal.aborted) return;
      this.problem = explainApiError(error);
    } finally {
      if (this.#inFlight === aborter) {
        this.#inFlight = undefined;
        this.#sinceLoad = [];
      }
    }
  }

  /** Shows a silence this person just created (the API's answer). */
  add(silence: Silence): void {
    this.#change({ kind: 'add', silence });
  }

  /** Removes a silence this person just expired. */
  remove(id: string): void {
    this.#change({ kind: 'remove', id });
  }

  #change(change: LocalChange): void {
    if (this.#inFlight) this.#sinceLoad.push(change);
    this.silences = apply(this.silences, change);
  }
}

function apply(silences: readonly Silence[], change: LocalChange): readonly Silence[] {
  if (change.kind === 'remove') return silences.filter((silence) => silence.id !== change.id);
  return [...silences.filter((silence) => silence.id !== change.silence.id), change.silence];
}
