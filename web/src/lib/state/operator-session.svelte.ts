/**
 * Who the dashboard acts as: an API token the person pasted ("Sign in with an API token"), kept in
 * localStorage so a reload keeps them signed in, and cleared by signing out. The token is only ever
 * handed to the API client and the socket; nothing renders it.
 */

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

/** The operator's sign-in state. */
export class OperatorSession {
  #token = $state<string | undefined>(undefined);
  /** Set when the server answered 401 to this token: it is unknown or was revoked. */
  rejected = $state(false);
  readonly #storage: TokenStore | undefined;

  constructor(storage: TokenStore | undefined = browserStorage()) {
    this.#storage = storage;
    try {
      this.#token = storage?.getItem(TOKEN_STORAGE_KEY)?.trim() || undefined;
    } catch {
      this.#token = undefined;
    }
  }

  /** Whether a token is present (its role is only known when the server answers an action). */
  get signedIn(): boolean {
    return this.#token !== undefined;
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
    this.rejected = false;
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
    this.rejected = false;
    try {
      this.#storage?.removeItem(TOKEN_STORAGE_KEY);
    } catch {
      // Nothing more to do: the in-memory token is gone either way.
    }
  }

  /** The server refused the token (HTTP 401). */
  markRejected(): void {
    if (this.#token !== undefined) this.rejected = true;
  }
}
