/**
 * Desktop notifications and a beep for new critical alerts, both opt-in. The browser's permission is
 * asked for only when the person turns notifications on, never on load. Alerts are gathered for a
 * second before notifying, so a storm raises a few notifications and one summary, not hundreds.
 */
import type { Alert } from '../../../../contract/alert.ts';
import { Beeper } from '../beep.ts';
import { CriticalAlertWatch } from '../critical-alerts.ts';
import type { DashboardSocket } from '../socket.ts';
import type { DashboardSnapshot } from '../live-updates.ts';
import type { Preferences } from './preferences.svelte.ts';

/** The browser's Notification API, or a stand-in with the same shape. */
export type NotificationApi = Pick<typeof Notification, 'permission' | 'requestPermission'> & (new (title: string, options?: NotificationOptions) => Notification);

/** Notifications per burst before the rest are summed up in one. */
const MAX_SINGLE_NOTIFICATIONS = 3;

/** Raises the attention signals for new critical alerts. */
export class CriticalAlertNotifier {
  /** The browser's answer about notifications; `unsupported` when it has no Notification API. */
  permission = $state<NotificationPermission | 'unsupported'>('default');
  /** Why notifications cannot be shown, after the person asked for them. */
  problem = $state<string | undefined>(undefined);

  readonly #preferences: Preferences;
  readonly #notification: NotificationApi | undefined;
  readonly #beeper: Beeper;
  readonly #onOpen: (alertId: string) => void;
  readonly #gatherMs: number;
  readonly #watch = new CriticalAlertWatch();
  #pending: Alert[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Alert events before the first snapshot are not judged: what is already known is not known yet. */
  #learned = false;

  constructor(
    preferences: Preferences,
    options: { notification?: NotificationApi | undefined; beeper?: Beeper; onOpen?: (alertId: string) => void; gatherMs?: number } = {},
  ) {
    this.#preferences = preferences;
    this.#notification = 'notification' in options ? options.notification : (globalThis.Notification as NotificationApi | undefined);
    this.#beeper = options.beeper ?? new Beeper();
    this.#onOpen = options.onOpen ?? (() => undefined);
    this.#gatherMs = options.gatherMs ?? 1_000;
    // Reading the permission asks nothing; it tells whether an earlier opt-in still holds.
    this.permission = this.#notification ? this.#notification.permission : 'unsupported';
  }

  /** Whether new critical alerts raise a desktop notification now. */
  get notifying(): boolean {
    return this.#preferences.notifyCritical && this.permission === 'granted';
  }

  /** The person opted in: asks the browser for permission (the first time) and turns notifications on if granted. */
  async enableNotifications(): Promise<void> {
    this.problem = undefined;
    if (!this.#notification) {
      this.permission = 'unsupported';
      this.problem = 'This browser cannot show desktop notifications.';
      return;
    }
    const answer = this.#notification.permission === 'granted' ? 'granted' : await this.#notification.requestPermission();
    this.permission = answer;
    this.#preferences.set('notifyCritical', answer === 'granted');
    if (answer === 'denied') this.problem = 'The browser blocks notifications for this page: allow them in its site settings, then try again.';
    else if (answer === 'default') this.problem = 'Notifications were not allowed: the browser’s question was dismissed.';
  }

  /** Turns desktop notifications off (the browser's permission stays as it is). */
  disableNotifications(): void {
    this.problem = undefined;
    this.#preferences.set('notifyCritical', false);
  }

  /** Turns the beep on or off; turning it on plays it once, so the person hears what it sounds like. */
  setSound(on: boolean): void {
    this.#preferences.set('soundCritical', on);
    if (on) {
      this.#beeper.prime();
      this.#beeper.play();
    }
  }

  /** Listens for snapshots (learned silently) and alerts (news notified); returns a function that stops. */
  bind(socket: Pick<DashboardSocket, 'on' | 'off'>): () => void {
    const onSnapshot = (snapshot: DashboardSnapshot): void => {
      this.#watch.learn(snapshot.alerts);
      this.#learned = true;
    };
    const onAlert = (alert: Alert): void => {
      if (!this.#learned) return;
      const news = this.#watch.news([alert]);
      if (news.length === 0) return;
      this.#pending.push(...news);
      this.#timer ??= setTimeout(() => this.#flush(), this.#gatherMs);
    };
    socket.on('snapshot', onSnapshot);
    socket.on('alert', onAlert);
    return () => {
      socket.off('snapshot', onSnapshot);
      socket.off('alert', onAlert);
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#pending = [];
    };
  }

  #flush(): void {
    this.#timer = undefined;
    const news = this.#pending;
    this.#pending = [];
    if (news.length === 0) return;
    if (this.#preferences.soundCritical) this.#beeper.play();
    if (!this.notifying || !this.#notification) return;
    const singles = news.length <= MAX_SINGLE_NOTIFICATIONS + 1 ? news : news.slice(0, MAX_SINGLE_NOTIFICATIONS);
    for (const alert of singles) {
      this.#show(`Critical: ${alert.service} ${alert.environment}`, alert.explanation, alert.id, () => this.#onOpen(alert.id));
    }
    const rest = news.length - singles.length;
    if (rest > 0) this.#show(`${rest} more critical alerts`, `On ${[...new Set(news.slice(singles.length).map((alert) => alert.service))].join(', ')}`, 'changewatch-critical-burst', () => undefined);
  }

  #show(title: string, body: string, tag: string, onClick: () => void): void {
    try {
      const notification = new this.#notification!(title, { body, tag });
      notification.onclick = () => {
        globalThis.focus?.();
        onClick();
        notification.close();
      };
    } catch {
      // Some browsers (Android Chrome) allow notifications only from a service worker: nothing to show then.
    }
  }
}
