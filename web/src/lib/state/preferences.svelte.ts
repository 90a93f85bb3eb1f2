/**
 * The person's display and attention choices, kept in localStorage so they survive a reload: the
 * theme (follow the system, light or dark), the time zone times are shown in (local or UTC), and
 * whether a new critical alert raises a desktop notification and a sound.
 */
import type { TimeZoneChoice } from '../format.ts';
import type { TokenStore } from './operator-session.svelte.ts';

/** Where the preferences are kept in localStorage (one JSON object). */
export const PREFERENCES_STORAGE_KEY = 'changewatch.preferences';

/** The colour themes: `system` follows `prefers-color-scheme`. */
export const THEME_CHOICES = ['system', 'light', 'dark'] as const;

/** A theme choice. */
export type ThemeChoice = (typeof THEME_CHOICES)[number];

/** What is stored. */
interface StoredPreferences {
  theme: ThemeChoice;
  timeZone: TimeZoneChoice;
  notifyCritical: boolean;
  soundCritical: boolean;
}

const DEFAULTS: StoredPreferences = { theme: 'system', timeZone: 'local', notifyCritical: false, soundCritical: false };

function browserStorage(): Pick<TokenStore, 'getItem' | 'setItem'> | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

/** Reads what was stored, keeping only well-formed values (an older or hand-edited entry falls back to the defaults). */
function readStored(storage: Pick<TokenStore, 'getItem'> | undefined): StoredPreferences {
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(PREFERENCES_STORAGE_KEY) ?? 'null');
  } catch {
    return { ...DEFAULTS };
  }
  const stored = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    theme: THEME_CHOICES.includes(stored.theme as ThemeChoice) ? (stored.theme as ThemeChoice) : DEFAULTS.theme,
    timeZone: stored.timeZone === 'utc' || stored.timeZone === 'local' ? stored.timeZone : DEFAULTS.timeZone,
    notifyCritical: stored.notifyCritical === true,
    soundCritical: stored.soundCritical === true,
  };
}

/** The person's preferences; every change is written to storage at once. */
export class Preferences {
  /** The colour theme. */
  theme = $state<ThemeChoice>(DEFAULTS.theme);
  /** The zone absolute times are shown in. */
  timeZone = $state<TimeZoneChoice>(DEFAULTS.timeZone);
  /** Whether a new critical alert shows a desktop notification (permission is asked when this is turned on, never before). */
  notifyCritical = $state(DEFAULTS.notifyCritical);
  /** Whether a new critical alert plays a short beep. */
  soundCritical = $state(DEFAULTS.soundCritical);

  readonly #storage: Pick<TokenStore, 'getItem' | 'setItem'> | undefined;

  constructor(storage: Pick<TokenStore, 'getItem' | 'setItem'> | undefined = browserStorage()) {
    this.#storage = storage;
    const stored = readStored(storage);
    this.theme = stored.theme;
    this.timeZone = stored.timeZone;
    this.notifyCritical = stored.notifyCritical;
    this.soundCritical = stored.soundCritical;
  }

  /** Changes one preference and stores them all. */
  set<K extends keyof StoredPreferences>(name: K, value: StoredPreferences[K]): void {
    (this as StoredPreferences)[name] = value;
    try {
      this.#storage?.setItem(
        PREFERENCES_STORAGE_KEY,
        JSON.stringify({ theme: this.theme, timeZone: this.timeZone, notifyCritical: this.notifyCritical, soundCritical: this.soundCritical }),
      );
    } catch {
      // Storage full or refused: the choice holds until the page is closed.
    }
  }
}

/** The preferences every component reads (times, theme), like the shared `clock`. */
export const preferences = new Preferences();
