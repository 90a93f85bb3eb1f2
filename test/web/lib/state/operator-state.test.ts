/**
 * The operator-facing state classes (session, action status, automation, incidents, silences), compiled for
 * the browser and run in Node like the other rune modules.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Incident } from '../../../../contract/incident.ts';
import type * as ApiModule from '../../../../web/src/lib/api.ts';
import type { DashboardSocket } from '../../../../web/src/lib/socket.ts';
import type * as ActionStatusModule from '../../../../web/src/lib/state/action-status.svelte.ts';
import type * as AutomationStateModule from '../../../../web/src/lib/state/automation-state.svelte.ts';
import type * as ConnectionStateModule from '../../../../web/src/lib/state/connection-state.svelte.ts';
import type * as IncidentBoardModule from '../../../../web/src/lib/state/incident-board.svelte.ts';
import type * as OperatorSessionModule from '../../../../web/src/lib/state/operator-session.svelte.ts';
import type * as SilenceBoardModule from '../../../../web/src/lib/state/silence-board.svelte.ts';
import type { Silence } from '../../../../web/src/lib/silences.ts';
import { makeAutomation, makeFreeze, makeIncident, makeRollback, makeSilence } from '../../support/fixtures.ts';
import { createRuneModuleLoader, type RuneModuleLoader } from '../../support/load-rune-module.ts';

const now = Date.now();
const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();

let loader: RuneModuleLoader;
let OperatorSession: typeof OperatorSessionModule.OperatorSession;
let TOKEN_STORAGE_KEY: string;
let ActionStatus: typeof ActionStatusModule.ActionStatus;
let AutomationState: typeof AutomationStateModule.AutomationState;
let IncidentBoard: typeof IncidentBoardModule.IncidentBoard;
let ConnectionState: typeof ConnectionStateModule.ConnectionState;
let SilenceBoard: typeof SilenceBoardModule.SilenceBoard;
// The state classes check `instanceof ApiError` against the module instance they were compiled with.
let ApiError: typeof ApiModule.ApiError;

beforeAll(async () => {
  loader = await createRuneModuleLoader();
  ({ OperatorSession, TOKEN_STORAGE_KEY } = await loader.load<typeof OperatorSessionModule>('/src/lib/state/operator-session.svelte.ts'));
  ({ ActionStatus } = await loader.load<typeof ActionStatusModule>('/src/lib/state/action-status.svelte.ts'));
  ({ AutomationState } = await loader.load<typeof AutomationStateModule>('/src/lib/state/automation-state.svelte.ts'));
  ({ IncidentBoard } = await loader.load<typeof IncidentBoardModule>('/src/lib/state/incident-board.svelte.ts'));
  ({ ConnectionState } = await loader.load<typeof ConnectionStateModule>('/src/lib/state/connection-state.svelte.ts'));
  ({ SilenceBoard } = await loader.load<typeof SilenceBoardModule>('/src/lib/state/silence-board.svelte.ts'));
  ({ ApiError } = await loader.load<typeof ApiModule>('/src/lib/api.ts'));
});

afterAll(async () => {
  await loader?.close();
});

/** Enough of a socket.io client for the state classes: listeners, and emitting to them. */
class FakeSocket {
  connected = false;
  readonly #listeners = new Map<string, Set<(...args: unknown[]) => void>>();

  on(event: string, listener: (...args: unknown[]) => void): this {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event)!.add(listener);
    return this;
  }

  off(event: string, listener: (...args: unknown[]) => void): this {
    this.#listeners.get(event)?.delete(listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(...args);
  }

  listenerCount(): number {
    return [...this.#listeners.values()].reduce((sum, set) => sum + set.size, 0);
  }

  get asSocket(): DashboardSocket {
    return this as unknown as DashboardSocket;
  }
}

/** An in-memory localStorage. */
function memoryStorage(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

describe('OperatorSession', () => {
  it('keeps the token in storage until sign-out, and restores it on reload', () => {
    const storage = memoryStorage();
    const session = new OperatorSession(storage);
    expect(session.signedIn).toBe(false);
    expect(session.signIn('   ')).toBe(false);
    expect(session.signedIn).toBe(false);

    expect(session.signIn('  cw_secret  ')).toBe(true);
    expect(session.signedIn).toBe(true);
    expect(session.token).toBe('cw_secret');
    expect(storage.items.get(TOKEN_STORAGE_KEY)).toBe('cw_secret');
    expect(new OperatorSession(storage).token).toBe('cw_secret');

    session.markRejected();
    expect(session.rejected).toBe(true);
    session.signOut();
    expect(session.signedIn).toBe(false);
    expect(session.rejected).toBe(false);
    expect(storage.items.has(TOKEN_STORAGE_KEY)).toBe(false);
  });

  it('works without storage, and with storage that throws', () => {
    const throwing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    const session = new OperatorSession(throwing);
    expect(session.signedIn).toBe(false);
    expect(session.signIn('tok')).toBe(true);
    expect(session.token).toBe('tok');
    session.signOut();
    expect(new OperatorSession(undefined).signedIn).toBe(false);
  });

  it('ignores a 401 while signed out', () => {
    const session = new OperatorSession(memoryStorage());
    session.markRejected();
    expect(session.rejected).toBe(false);
  });

  it('checks a token with whoami: accepted with its role, rejected on a 401, unreachable without an answer', async () => {
    const session = new OperatorSession(memoryStorage());
    session.signIn('cw_good');
    expect(session.check).toBe('unchecked');
    const answer = session.verify(async () => ({ name: 'alice', role: 'operator', anonymousReads: true }));
    expect(session.check).toBe('checking');
    await answer;
    expect(session).toMatchObject({ check: 'accepted', identity: { name: 'alice', role: 'operator' }, anonymousReads: true, rejected: false, mayAct: true });
    await session.verify(async () => ({ name: 'wallboard', role: 'viewer', anonymousReads: true }));
    expect(session).toMatchObject({ mayAct: false, readOnlyRole: 'viewer' });

    session.signIn('cw_bad');
    expect(session.identity).toBeUndefined();
    await session.verify(async () => {
      throw new ApiError(401, 'CW_AUTH_UNAUTHORIZED', 'the API token is not valid');
    });
    expect(session).toMatchObject({ check: 'rejected', rejected: true, identity: undefined, mayAct: false, readOnlyRole: undefined });

    session.signIn('cw_other');
    await session.verify(async () => {
      throw new ApiError(0, 'CW_CLIENT_NETWORK', 'Failed to fetch');
    });
    // Not checked: it may try, and the server decides.
    expect(session).toMatchObject({ check: 'unreachable', problem: 'Failed to fetch', rejected: false, mayAct: true });
  });

  it('drops the answer about a token replaced while it was being checked', async () => {
    const session = new OperatorSession(memoryStorage());
    session.signIn('cw_first');
    let answerFirst: (value: { name: string; anonymousReads: boolean }) => void = () => {};
    const first = session.verify(() => new Promise((resolve) => (answerFirst = resolve)));
    session.signIn('cw_second');
    await session.verify(async () => {
      throw new ApiError(401, 'CW_AUTH_UNAUTHORIZED', 'the API token is not valid');
    });
    answerFirst({ name: 'first', anonymousReads: true });
    await first;
    expect(session.check).toBe('rejected');
  });

  it('learns from a signed-out 401 that reads need a token', async () => {
    const session = new OperatorSession(memoryStorage());
    await session.verify(async () => {
      throw new ApiError(401, 'CW_AUTH_UNAUTHORIZED', 'an API token is required');
    });
    expect(session).toMatchObject({ anonymousReads: false, rejected: false });
  });
});

describe('ActionStatus', () => {
  it('is busy while the action runs, explains its failure, and clears it', async () => {
    const status = new ActionStatus();
    let finish!: () => void;
    const running = status.run(() => new Promise<void>((resolve) => (finish = resolve)));
    expect(status.busy).toBe(true);
    // A second click while in flight does nothing.
    await expect(status.run(async () => undefined)).resolves.toBe(false);
    finish();
    await expect(running).resolves.toBe(true);
    expect(status.busy).toBe(false);

    await expect(
      status.run(async () => {
        throw new ApiError(409, 'CW_ROLLBACK_NOT_PENDING', 'rollback rb-1 is denied');
      }),
    ).resolves.toBe(false);
    expect(status.error).toBe('This rollback was already decided; the list shows what was decided.');
    expect(status.code).toBe('CW_ROLLBACK_NOT_PENDING');
    expect(status.busy).toBe(false);

    status.clear();
    expect(status.error).toBeUndefined();
    expect(status.code).toBeUndefined();
  });
});

describe('AutomationState', () => {
  const pendingLate = makeRollback(now, 2, { id: 'rb-late' });
  const pendingSoon = makeRollback(now, 10, { id: 'rb-soon' });
  const approved = makeRollback(now, 12, { id: 'rb-approved', status: 'approved', updatedAt: at(6) });
  const suppressed = makeRollback(now, 20, { id: 'rb-suppressed', status: 'suppressed', reason: 'timing only', updatedAt: at(20) });
  const denied = makeRollback(now, 30, { id: 'rb-denied', status: 'denied', updatedAt: at(5) });
  const snapshot = makeAutomation({
    rollbacks: [pendingSoon, pendingLate, approved, suppressed, denied],
    freezes: [makeFreeze(now, 8, { id: 'frz-a' }), makeFreeze(now, 9, { id: 'frz-b' })],
  });

  it('splits the snapshot into pending, approved and decided (most recent first)', () => {
    const state = new AutomationState();
    expect(state.pending).toEqual([]);
    expect(state.killSwitchEngaged).toBe(false);
    state.apply(snapshot);
    expect(state.pending.map((rollback) => rollback.id)).toEqual(['rb-soon', 'rb-late']);
    expect(state.approved.map((rollback) => rollback.id)).toEqual(['rb-approved']);
    expect(state.decided.map((rollback) => rollback.id)).toEqual(['rb-denied', 'rb-suppressed']);
  });

  it("applies its own actions' answers unless the snapshot already knows better", () => {
    const state = new AutomationState();
    state.apply(snapshot);

    state.applyRollback({ ...pendingSoon, status: 'denied', updatedAt: at(0) });
    expect(state.pending.map((rollback) => rollback.id)).toEqual(['rb-late']);
    expect(state.decided[0]!.id).toBe('rb-soon');
    // An answer older than what a snapshot already brought is ignored.
    state.applyRollback({ ...pendingSoon, status: 'approved', updatedAt: at(1) });
    expect(state.decided[0]!.status).toBe('denied');

    state.applyKillSwitch({ engaged: true, by: 'alice', reason: 'storm', since: at(0) });
    expect(state.killSwitchEngaged).toBe(true);
    state.applyKillSwitch({ engaged: false, by: 'bob', reason: 'old', since: at(3) });
    expect(state.killSwitchEngaged).toBe(true);

    state.applyFreeze({ ...makeFreeze(now, 8, { id: 'frz-a' }), active: false });
    expect(state.snapshot?.freezes.map((freeze) => freeze.id)).toEqual(['frz-b']);
  });

  it('follows the socket, one render per burst of snapshots, until unbound', async () => {
    const socket = new FakeSocket();
    const state = new AutomationState({ intervalMs: 20 });
    const unbind = state.bind(socket.asSocket);
    for (let index = 0; index < 500; index += 1) socket.emit('automation', makeAutomation({ mode: index % 2 ? 'automatic' : 'dry-run' }));
    socket.emit('automation', { ...snapshot, killSwitch: { engaged: true, by: 'alice', since: at(0) } });
    await vi.waitFor(() => expect(state.killSwitchEngaged).toBe(true));
    expect(state.pending).toHaveLength(2);

    unbind();
    expect(socket.listenerCount()).toBe(0);
  });
});

describe('IncidentBoard', () => {
  /** A loader whose answers the test hands out one at a time. */
  function controlledLoader() {
    const calls: Array<{ resolve: (incidents: Incident[]) => void; reject: (error: unknown) => void; signal: AbortSignal }> = [];
    const load = (signal: AbortSignal) => new Promise<Incident[]>((resolve, reject) => calls.push({ resolve, reject, signal }));
    return { calls, load };
  }

  it('loads on connect, applies live events, and keeps events newer than the load', async () => {
    const { calls, load } = controlledLoader();
    const socket = new FakeSocket();
    const board = new IncidentBoard(load, { intervalMs: 10 });
    const unbind = board.bind(socket.asSocket);
    expect(calls).toHaveLength(0);
    expect(board.loaded).toBe(false);

    socket.connected = true;
    socket.emit('connect');
    expect(calls).toHaveLength(1);
    // While the load is in flight, an incident is acknowledged and another opens.
    socket.emit('incident', makeIncident(now, 10, { id: 'inc-a', status: 'acknowledged', acknowledgedBy: 'alice', updatedAt: at(0) }));
    socket.emit('incident', makeIncident(now, 1, { id: 'inc-new', severity: 'critical' }));
    calls[0]!.resolve([makeIncident(now, 10, { id: 'inc-a', updatedAt: at(3) }), makeIncident(now, 20, { id: 'inc-b' })]);

    await vi.waitFor(() => expect(board.loaded).toBe(true));
    expect(board.open.map((incident) => [incident.id, incident.status])).toEqual([
      ['inc-new', 'firing'],
      ['inc-b', 'firing'],
      ['inc-a', 'acknowledged'],
    ]);

    socket.emit('incident', makeIncident(now, 20, { id: 'inc-b', status: 'resolved', updatedAt: at(0) }));
    await vi.waitFor(() => expect(board.open.map((incident) => incident.id)).toEqual(['inc-new', 'inc-a']));

    unbind();
    expect(socket.listenerCount()).toBe(0);
  });

  it('loads at once when bound to a connected socket, and abandons a load overtaken by a reconnect', async () => {
    const { calls, load } = controlledLoader();
    const socket = new FakeSocket();
    socket.connected = true;
    const board = new IncidentBoard(load);
    board.bind(socket.asSocket);
    expect(calls).toHaveLength(1);

    socket.emit('connect');
    expect(calls[0]!.signal.aborted).toBe(true);
    calls[0]!.resolve([makeIncident(now, 5, { id: 'stale' })]);
    calls[1]!.resolve([makeIncident(now, 6, { id: 'current' })]);
    await vi.waitFor(() => expect(board.open.map((incident) => incident.id)).toEqual(['current']));
  });

  it('explains a failed load, keeps what it showed, and recovers on retry', async () => {
    const { calls, load } = controlledLoader();
    const board = new IncidentBoard(load);
    const first = board.reload();
    calls[0]!.resolve([makeIncident(now, 5, { id: 'kept' })]);
    await first;

    const failed = board.reload();
    calls[1]!.reject(new ApiError(401, 'CW_AUTH_UNAUTHORIZED', 'an API token is required'));
    await failed;
    expect(board.problem).toMatch(/did not accept your API token/);
    expect(board.open.map((incident) => incident.id)).toEqual(['kept']);

    const retry = board.reload();
    calls[2]!.resolve([]);
    await retry;
    expect(board.problem).toBeUndefined();
    expect(board.open).toEqual([]);
  });
});

describe('SilenceBoard', () => {
  /** A loader whose answers the test hands out one at a time. */
  function controlledLoader() {
    const calls: Array<{ resolve: (silences: Silence[]) => void; reject: (error: unknown) => void; signal: AbortSignal }> = [];
    const load = (signal: AbortSignal) => new Promise<Silence[]>((resolve, reject) => calls.push({ resolve, reject, signal }));
    return { calls, load };
  }

  it('loads on every connect and then periodically while connected, until unbound', async () => {
    vi.useFakeTimers();
    try {
      const { calls, load } = controlledLoader();
      const socket = new FakeSocket();
      const board = new SilenceBoard(load, { refreshMs: 1_000 });
      const unbind = board.bind(socket.asSocket);
      expect(calls).toHaveLength(0);

      socket.connected = true;
      socket.emit('connect');
      expect(calls).toHaveLength(1);
      calls[0]!.resolve([makeSilence(now, 5, 1, { id: 'sil-a' })]);
      await vi.waitFor(() => expect(board.loaded).toBe(true));
      expect(board.silences.map((silence) => silence.id)).toEqual(['sil-a']);

      await vi.advanceTimersByTimeAsync(1_000);
      expect(calls).toHaveLength(2);
      socket.emit('disconnect');
      await vi.advanceTimersByTimeAsync(5_000);
      expect(calls).toHaveLength(2);

      socket.emit('connect');
      expect(calls).toHaveLength(3);
      expect(calls[1]!.signal.aborted).toBe(true);
      unbind();
      expect(calls[2]!.signal.aborted).toBe(true);
      expect(socket.listenerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(calls).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps this person's own create and expire over a load that was in flight", async () => {
    const { calls, load } = controlledLoader();
    const board = new SilenceBoard(load);
    const first = board.reload();
    calls[0]!.resolve([makeSilence(now, 5, 1, { id: 'sil-old' }), makeSilence(now, 6, 1, { id: 'sil-gone' })]);
    await first;

    const second = board.reload();
    board.add(makeSilence(now, 0, 1, { id: 'sil-new', createdBy: 'alice' }));
    board.remove('sil-gone');
    expect(board.silences.map((silence) => silence.id)).toEqual(['sil-old', 'sil-new']);
    // The answer was computed before both: it still lists sil-gone and not sil-new.
    calls[1]!.resolve([makeSilence(now, 5, 1, { id: 'sil-old' }), makeSilence(now, 6, 1, { id: 'sil-gone' })]);
    await second;
    expect(board.silences.map((silence) => silence.id)).toEqual(['sil-old', 'sil-new']);

    // The next load is the server's word again.
    const third = board.reload();
    calls[2]!.resolve([makeSilence(now, 0, 1, { id: 'sil-new', createdBy: 'alice' })]);
    await third;
    expect(board.silences.map((silence) => silence.id)).toEqual(['sil-new']);
  });

  it('explains a failed load and keeps what it showed', async () => {
    const { calls, load } = controlledLoader();
    const board = new SilenceBoard(load);
    const first = board.reload();
    calls[0]!.resolve([makeSilence(now, 5, 1, { id: 'kept' })]);
    await first;
    const failed = board.reload();
    calls[1]!.reject(new ApiError(0, 'CW_CLIENT_NETWORK', 'Failed to fetch'));
    await failed;
    expect(board.problem).toMatch(/^Could not reach the server/);
    expect(board.silences.map((silence) => silence.id)).toEqual(['kept']);
  });
});

describe('ConnectionState when the server wants a token', () => {
  it('says so, and stops claiming to connect, until a connection succeeds', () => {
    const connection = new ConnectionState();
    connection.markConnectFailed('xhr poll error');
    expect(connection.needsToken).toBe(false);
    expect(connection.phase).toBe('connecting');

    connection.markConnectFailed('an API token is required', 'CW_AUTH_UNAUTHORIZED');
    expect(connection.needsToken).toBe(true);
    expect(connection.phase).toBe('disconnected');

    connection.markConnected();
    expect(connection.needsToken).toBe(false);
  });
});
