/**
 * Reactive guarded-automation state: the rollback mode, the kill switch, rollbacks waiting for a
 * person and the latest decided ones, and the freezes in force. Fed by the socket's `automation`
 * snapshots (coalesced, so a burst costs one render), and by the answers to the person's own
 * actions, so a click shows its effect without waiting for the next snapshot.
 */
import type { ServerToClientEvents } from '../../../../contract/socket.ts';
import type { AutomationSnapshot, Freeze, KillSwitchState, RollbackView } from '../../../../contract/automation.ts';
import { LatestBatcher } from '../latest-batcher.ts';
import type { DashboardSocket } from '../socket.ts';
import type { BatchTimers } from '../update-batcher.ts';

/** Statuses of rollbacks still in motion: waiting for a person, or approved and being sent. */
const OPEN_STATUSES = new Set<RollbackView['status']>(['pending', 'approved']);

function updatedMs(rollback: RollbackView): number {
  return Date.parse(rollback.updatedAt);
}

/** The automation panel's state. */
export class AutomationState {
  /** The latest snapshot, once one arrived. */
  snapshot = $state.raw<AutomationSnapshot | undefined>(undefined);

  /** Rollbacks awaiting a decision, soonest deadline first (the server's order). */
  readonly pending = $derived(this.snapshot?.rollbacks.filter((rollback) => rollback.status === 'pending') ?? []);
  /** Approved rollbacks the CD system has not accepted yet. */
  readonly approved = $derived(this.snapshot?.rollbacks.filter((rollback) => rollback.status === 'approved') ?? []);
  /** Decided rollbacks (denied, expired, suppressed, dry run, executed, failed), most recent first. */
  readonly decided = $derived(
    (this.snapshot?.rollbacks.filter((rollback) => !OPEN_STATUSES.has(rollback.status)) ?? []).sort(
      (a, b) => updatedMs(b) - updatedMs(a),
    ),
  );
  /** Whether the kill switch is on. */
  readonly killSwitchEngaged = $derived(this.snapshot?.killSwitch.engaged ?? false);

  readonly #intervalMs: number | undefined;
  readonly #timers: BatchTimers | undefined;

  constructor(options: { intervalMs?: number; timers?: BatchTimers } = {}) {
    this.#intervalMs = options.intervalMs;
    this.#timers = options.timers;
  }

  /** Listens for `automation` snapshots; returns a function that stops listening. */
  bind(socket: Pick<DashboardSocket, 'on' | 'off'>): () => void {
    const batcher = new LatestBatcher<AutomationSnapshot>((snapshots) => this.apply(snapshots[snapshots.length - 1]!), {
      key: () => 'automation',
      ...(this.#intervalMs === undefined ? {} : { intervalMs: this.#intervalMs }),
      ...(this.#timers === undefined ? {} : { timers: this.#timers }),
    });
    const onAutomation: ServerToClientEvents['automation'] = (snapshot) => batcher.add(snapshot);
    socket.on('automation', onAutomation);
    return () => {
      socket.off('automation', onAutomation);
      batcher.discard();
    };
  }

  /** Replaces everything with a server snapshot. */
  apply(snapshot: AutomationSnapshot): void {
    this.snapshot = snapshot;
  }

  /** Applies one rollback as an action answered it, unless the snapshot already holds a newer version. */
  applyRollback(rollback: RollbackView): void {
    const snapshot = this.snapshot;
    if (!snapshot) return;
    const index = snapshot.rollbacks.findIndex((candidate) => candidate.id === rollback.id);
    const current = snapshot.rollbacks[index];
    if (current && updatedMs(current) > updatedMs(rollback)) return;
    const rollbacks = [...snapshot.rollbacks];
    if (index === -1) rollbacks.push(rollback);
    else rollbacks[index] = rollback;
    this.snapshot = { ...snapshot, rollbacks };
  }

  /** Applies the kill switch as an action answered it, unless the snapshot holds a later flip. */
  applyKillSwitch(killSwitch: KillSwitchState): void {
    const snapshot = this.snapshot;
    if (!snapshot) return;
    const since = (state: KillSwitchState) => (state.since ? Date.parse(state.since) : 0);
    if (since(snapshot.killSwitch) > since(killSwitch)) return;
    this.snapshot = { ...snapshot, killSwitch };
  }

  /** Applies a freeze as an action answered it: a lifted freeze leaves the list. */
  applyFreeze(freeze: Freeze): void {
    const snapshot = this.snapshot;
    if (!snapshot) return;
    const freezes = freeze.active
      ? snapshot.freezes.map((candidate) => (candidate.id === freeze.id ? freeze : candidate))
      : snapshot.freezes.filter((candidate) => candidate.id !== freeze.id);
    this.snapshot = { ...snapshot, freezes };
  }
}
