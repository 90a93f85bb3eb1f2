/**
 * Reactive list of open incidents: loaded from `GET /api/v1/incidents` whenever the socket
 * (re)connects, and kept current by the socket's `incident` events (coalesced, newest version per
 * incident), so a storm of alerts joining incidents costs a few renders per second.
 */
import type { ServerToClientEvents } from '../../../../contract/socket.ts';
import type { Incident } from '../../../../contract/incident.ts';
import { explainApiError } from '../api.ts';
import { IncidentIndex, incidentSupersedes } from '../incident-index.ts';
import { LatestBatcher } from '../latest-batcher.ts';
import type { DashboardSocket } from '../socket.ts';
import type { BatchTimers } from '../update-batcher.ts';

/** Fetches the open incidents (e.g. `api.listIncidents`). */
export type IncidentLoader = (signal: AbortSignal) => Promise<Incident[]>;

/** The open incidents the dashboard shows. */
export class IncidentBoard {
  /** Open incidents: firing first, most severe first, newest start first. */
  open = $state.raw<readonly Incident[]>([]);
  /** Whether a load has succeeded at least once; before that an empty board means "unknown". */
  loaded = $state(false);
  /** Why the latest load failed; undefined after a success. */
  problem = $state<string | undefined>(undefined);

  readonly #index: IncidentIndex;
  readonly #load: IncidentLoader;
  readonly #batcher: LatestBatcher<Incident>;
  #inFlight: AbortController | undefined;

  constructor(load: IncidentLoader, options: { limit?: number; intervalMs?: number; timers?: BatchTimers } = {}) {
    this.#load = load;
    this.#index = new IncidentIndex(options.limit);
    this.#batcher = new LatestBatcher((incidents) => this.upsert(incidents), {
      key: (incident) => incident.id,
      supersedes: incidentSupersedes,
      ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
      ...(options.timers === undefined ? {} : { timers: options.timers }),
    });
  }

  /** Loads on every (re)connect and listens for `incident` events; returns a function that stops both. */
  bind(socket: Pick<DashboardSocket, 'on' | 'off' | 'connected'>): () => void {
    const onConnect = (): void => void this.reload();
    const onIncident: ServerToClientEvents['incident'] = (incident) => this.#batcher.add(incident);
    socket.on('connect', onConnect);
    socket.on('incident', onIncident);
    if (socket.connected) onConnect();
    return () => {
      socket.off('connect', onConnect);
      socket.off('incident', onIncident);
      this.#batcher.discard();
      this.#inFlight?.abort();
    };
  }

  /** Fetches the open incidents now; a load still in flight is abandoned. Never throws. */
  async reload(): Promise<void> {
    this.#inFlight?.abort();
    const aborter = new AbortController();
    this.#inFlight = aborter;
    this.#index.beginLoad();
    try {
      const incidents = await this.#load(aborter.signal);
      if (aborter.signal.aborted) return;
      // Events still queued arrived while the load was in flight: record them so they win over its answer.
      this.#batcher.flush();
      this.#index.finishLoad(incidents);
      this.open = this.#index.ordered;
      this.loaded = true;
      this.problem = undefined;
    } catch (error) {
      if (aborter.signal.aborted) return;
      this.#index.abandonLoad();
      this.problem = explainApiError(error);
    } finally {
      if (this.#inFlight === aborter) this.#inFlight = undefined;
    }
  }

  /** Applies incident versions (live events, or the answer to an acknowledge or resolve). */
  upsert(incidents: readonly Incident[]): void {
    if (incidents.length === 0) return;
    this.#index.upsert(incidents);
    this.open = this.#index.ordered;
  }
}
