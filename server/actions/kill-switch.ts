/**
 * The global kill switch for automated actions. Its state is the latest `killswitch.*` entry of the
 * append-only audit log, so every flip is recorded with who and why by construction, survives
 * restarts, and there is no second copy of the state to drift from the record.
 */
import type { KillSwitchState } from '../../contract/automation.ts';
import type { AuditRepository } from '../store/repositories/audit.ts';

/** Where the kill switch stands (defined in the contract). */
export type { KillSwitchState };

/** The audit target every kill switch entry uses. */
export const KILL_SWITCH_TARGET = 'killswitch:automation';

/** Reads and flips the kill switch. */
export class KillSwitch {
  constructor(private readonly audit: AuditRepository) {}

  /** The current state; off when it was never flipped. */
  state(): Promise<KillSwitchState> {
    return readKillSwitch(this.audit);
  }

  /** Turns it on or off, recording who and why; flipping to the current state is recorded too. */
  async set(engaged: boolean, actor: string, reason: string, at?: Date): Promise<KillSwitchState> {
    const entry = await this.audit.append({
      actor,
      action: engaged ? 'killswitch.engage' : 'killswitch.release',
      target: KILL_SWITCH_TARGET,
      reason,
      ...(at === undefined ? {} : { at: at.toISOString() }),
    });
    return { engaged, by: entry.actor, reason, since: entry.at };
  }
}

/**
 * The kill switch state as `audit` sees it; pass a transaction's repository to read it inside that
 * transaction (PGlite runs one transaction at a time, so a read outside it would wait forever).
 */
export async function readKillSwitch(audit: AuditRepository): Promise<KillSwitchState> {
  const [latest] = await audit.list({ action: 'killswitch.', target: KILL_SWITCH_TARGET, limit: 1 });
  if (!latest) return { engaged: false };
  return {
    engaged: latest.action === 'killswitch.engage',
    by: latest.actor,
    since: latest.at,
    ...(latest.reason === undefined ? {} : { reason: latest.reason }),
  };
}
