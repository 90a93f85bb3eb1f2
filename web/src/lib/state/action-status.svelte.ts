/**
 * The state of one button's action (approve, deny, lift, …): whether it is in flight and, when it
 * failed, the sentence shown next to it. Each control owns one, so errors appear where they happened.
 */
import { ApiError, explainApiError } from '../api.ts';

/** One action's progress and last failure. */
export class ActionStatus {
  /** True while the request is in flight (the button is disabled meanwhile). */
  busy = $state(false);
  /** Why the last attempt failed, for people; undefined after a success or {@link clear}. */
  error = $state<string | undefined>(undefined);
  /** The server's error code of the last failure, if it sent one. */
  code = $state<string | undefined>(undefined);

  /** Runs the action unless one is in flight; returns whether it succeeded. Never throws. */
  async run(action: () => Promise<unknown>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.error = undefined;
    this.code = undefined;
    try {
      await action();
      return true;
    } catch (error) {
      this.error = explainApiError(error);
      this.code = error instanceof ApiError ? error.code : undefined;
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Forgets the last failure (e.g. when the person cancels). */
  clear(): void {
    this.error = undefined;
    this.code = undefined;
  }
}
