/**
 * Why the dashboard gets no live updates, in a sentence that names the real cause: a token the
 * server rejected, a server that needs one, a server that closed the connection, or a network that
 * does not reach it. It never claims the server requires signing in when whoami said anonymous
 * reads are on.
 */

/** What the sentence is made from: the connection's state and the session's. */
export interface DisconnectFacts {
  /** Whether the socket is connected now (nothing to explain then). */
  connected: boolean;
  /** Whether the page was connected before, i.e. whether what it shows may be stale. */
  hasConnected: boolean;
  /** The server's error code when it refused the connection; undefined for a network failure. */
  refusedCode: string | undefined;
  /** socket.io's last reason or message (`transport close`, `io server disconnect`, `xhr poll error`…). */
  problem: string | undefined;
  /** Whether a token is presented. */
  signedIn: boolean;
  /** Whether the server rejected that token (whoami or any request answered 401). */
  tokenRejected: boolean;
  /** What whoami said of anonymous reads; undefined when it has not answered. */
  anonymousReads: boolean | undefined;
}

/** The sentence for the banner, or undefined while live updates flow (or before the first attempt settled). */
export function explainDisconnect(facts: DisconnectFacts): string | undefined {
  if (facts.connected) return undefined;
  const refusedForToken = facts.refusedCode === 'CW_AUTH_UNAUTHORIZED' || facts.refusedCode === 'CW_AUTH_FORBIDDEN';
  if (refusedForToken && (facts.signedIn || facts.tokenRejected)) {
    const way = facts.anonymousReads === false ? 'sign in with a valid one' : 'sign out to watch without one, or sign in with a valid one';
    return `No live updates: the server rejected your API token. ${way.charAt(0).toUpperCase()}${way.slice(1)}.`;
  }
  if (refusedForToken) return 'No live updates: this server shows live data only to signed-in users. Sign in with an API token.';
  if (facts.refusedCode !== undefined) return `No live updates: the server refused the connection (${facts.problem ?? facts.refusedCode}).`;
  if (!facts.hasConnected) return facts.problem ? 'Cannot reach the server; retrying.' : undefined;
  if (facts.problem === 'io server disconnect') return 'Live updates stopped: the server closed the connection.';
  return 'Live updates stopped: cannot reach the server; retrying.';
}
