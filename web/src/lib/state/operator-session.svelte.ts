/**
 * Who the dashboard acts as: an API token the person pasted ("Sign in with an API token"), kept in
 * localStorage so a reload keeps them signed in, and cleared by signing out. The token is checked
 * with the server (`GET /api/v1/whoami`) as soon as it is given, so a wrong one is reported at
 * sign-in rather than at the first action. The token is only ever handed to the API client and the
 * socket; nothing renders it.
 */
import { ApiError } from '../api.ts';
import type { WhoAmI } from '../../../../contract/session.ts';

/** Where the token is kept in localStorage. */
export const TOKEN_STORAGE_KEY = 'changewatch.apiToken';

/** The slice of `Storage` the session uses, injectable for tests. */
export interface TokenStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The page's localStorage, or nothing when the browser refuses it (e.g. storage disabled). */
function browserStorage(): TokenStore | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the server said about the current token: not asked yet, being asked, accepted (with
 * `identity`), rejected (401), or not answered (the server could not be reached; `problem` says why).
 */
export type TokenCheck = 'unchecked' | 'checking' | 'accepted' | 'rejected' | 'unreachable';

/** The operator's sign-in state. */
export class OperatorSession {
  #token = $state<string | undefined>(undefined);
  /** Set when the server answered 401 to this token: it is unknown or was revoked. */
  rejected = $state(false);
  /** Where the check of the current token (or of no token) stands. */
  check = $state<TokenCheck>('unchecked');
  /** Who the server says the current token is, once it answered (anonymous without a token). */
  identity = $state.raw<WhoAmI | undefined>(undefined);
  /** Why the last check got no answer, when `check` is `unreachable`. */
  problem = $state<string | undefined>(undefined);
  /** Whether the server lets anyone read without a token, as its last whoami answer said (undefined until one did). */
  anonymousReads = $state<boolean | undefined>(undefined);
  /** Counts checks, so an answer about a token that was replaced meanwhile is ignored. */
  #checks = 0;
  readonly #storage: TokenStore | undefined;

  constructor(storage: TokenStore | undefined = browserStorage()) {
    this.#storage = storage;
    try {
      this.#token = storage?.getItem(TOKEN_STORAGE_KEY)?.trim() || undefined;
    } catch {
      this.#token = undefined;
    }
  }

  /** Whether a token is present (see `check` for whether the server accepted it). */
  get signedIn(): boolean {
    return this.#token !== undefined;
  }

  /**
   * Whether the action buttons should let this session try: signed in, the token not rejected, and
   * not known (from whoami) to be below `operator`. A token not checked yet may try: the server decides.
   */
  get mayAct(): boolean {
    const role = this.identity?.role;
    return this.signedIn && !this.rejected && (role === undefined || role === 'operator' || role === 'admin');
  }

  /** The role of a signed-in, accepted token too low to act (`viewer`, `ingest`), for the read-only hints. */
  get readOnlyRole(): string | undefined {
    return this.signedIn && !this.rejected && !this.mayAct ? this.identity?.role : undefined;
  }

  /** The token, for the API client and the socket handshake only. */
  get token(): string | undefined {
    return this.#token;
  }

  /** Keeps the token (trimmed); returns false, changing nothing, when it is empty. */
  signIn(token: string): boolean {
    const trimmed = token.trim();
    if (!trimmed) return false;
    this.#token = trimmed;
    this.#reset();
    try {
      this.#storage?.setItem(TOKEN_STORAGE_KEY, trimmed);
    } catch {
      // Storage full or refused: the session still works until the page is closed.
    }
    return true;
  }

  /** Forgets the token, here and in storage. */
  signOut(): void {
    this.#token = undefined;
    this.#reset();
    try {
      this.#storage?.removeItem(TOKEN_STORAGE_KEY);
    } catch {
      // Nothing more to do: the in-memory token is gone either way.
    }
  }

  /** The server refused the token (HTTP 401), on whoami or any other request. */
  markRejected(): void {
    if (this.#token === undefined) return;
    this.rejected = true;
    this.check = 'rejected';
    this.identity = undefined;
  }

  /**
   * Asks the server who the current token is (`ask` calls `GET /api/v1/whoami`) and records the
   * answer; an answer about a token replaced in the meantime is dropped. Never throws.
   */
  async verify(ask: () => Promise<WhoAmI>): Promise<void> {
    const check = ++this.#checks;
    this.check = 'checking';
    this.problem = undefined;
    try {
      const identity = await ask();
      if (check !== this.#checks) return;
      this.identity = identity;
      this.anonymousReads = identity.anonymousReads;
      this.check = 'accepted';
      this.rejected = false;
    } catch (error) {
      if (check !== this.#checks) return;
      if (error instanceof ApiError && error.status === 401) {
        // Without a token, a 401 means reads need one; with one, that the token is not valid.
        if (this.#token === undefined) {
          this.anonymousReads = false;
          this.check = 'accepted';
        } else {
          this.markRejected();
        }
        return;
      }
      this.check = 'unreachable';
      this.problem = error instanceof Error ? error.message : String(error);
    }
  }

  #reset(): void {
    this.#checks++;
    this.rejected = false;
    this.check = 'unchecked';
    this.identity = undefined;
    this.problem = undefined;
  }
}
