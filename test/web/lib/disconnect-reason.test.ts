import { describe, expect, it } from 'vitest';
import { explainDisconnect, type DisconnectFacts } from '../../../web/src/lib/disconnect-reason.ts';

const down: DisconnectFacts = { connected: false, hasConnected: true, refusedCode: undefined, problem: 'transport close', signedIn: false, tokenRejected: false, anonymousReads: true };

describe('explainDisconnect', () => {
  it('says nothing while connected', () => {
    expect(explainDisconnect({ ...down, connected: true })).toBeUndefined();
  });

  it('blames the token, not the server, when a token was refused while anonymous reads are on', () => {
    const text = explainDisconnect({ ...down, refusedCode: 'CW_AUTH_UNAUTHORIZED', signedIn: true, tokenRejected: true });
    expect(text).toBe('No live updates: the server rejected your API token. Sign out to watch without one, or sign in with a valid one.');
    expect(text).not.toMatch(/only to signed-in users/);
  });

  it('says the server needs a token only when it refused a connection without one', () => {
    expect(explainDisconnect({ ...down, refusedCode: 'CW_AUTH_UNAUTHORIZED', anonymousReads: false })).toBe(
      'No live updates: this server shows live data only to signed-in users. Sign in with an API token.',
    );
    expect(explainDisconnect({ ...down, refusedCode: 'CW_AUTH_UNAUTHORIZED', signedIn: true, anonymousReads: false })).toBe(
      'No live updates: the server rejected your API token. Sign in with a valid one.',
    );
  });

  it('tells a network failure from a server that closed the connection', () => {
    expect(explainDisconnect(down)).toBe('Live updates stopped: cannot reach the server; retrying.');
    expect(explainDisconnect({ ...down, problem: 'io server disconnect' })).toBe('Live updates stopped: the server closed the connection.');
    expect(explainDisconnect({ ...down, hasConnected: false, problem: 'xhr poll error' })).toBe('Cannot reach the server; retrying.');
    expect(explainDisconnect({ ...down, hasConnected: false, problem: undefined })).toBeUndefined();
  });
});
