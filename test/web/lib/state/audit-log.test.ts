/** The audit log panel's state, compiled for the browser with Vite and the Svelte plugin. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryView } from '../../../../contract/session.ts';
import type * as ApiModule from '../../../../web/src/lib/api.ts';
import type { AuditQuery } from '../../../../web/src/lib/api.ts';
import type * as AuditLogModule from '../../../../web/src/lib/state/audit-log.svelte.ts';
import { createRuneModuleLoader, type RuneModuleLoader } from '../../support/load-rune-module.ts';

let loader: RuneModuleLoader;
let AuditLog: typeof AuditLogModule.AuditLog;
let AUDIT_PAGE_SIZE: number;
let ApiError: typeof ApiModule.ApiError;

beforeAll(async () => {
  loader = await createRuneModuleLoader();
  ({ AuditLog, AUDIT_PAGE_SIZE } = await loader.load<typeof AuditLogModule>('/src/lib/state/audit-log.svelte.ts'));
  ({ ApiError } = await loader.load<typeof ApiModule>('/src/lib/api.ts'));
});

afterAll(async () => {
  await loader?.close();
});

/** `count` entries, ids count…1 (newest first), alternating between two actors. */
function entries(count: number): AuditEntryView[] {
  return Array.from({ length: count }, (_, index) => {
    const id = count - index;
    return { id, at: new Date(Date.UTC(2026, 11, 7, 0, 0, id)).toISOString(), actor: id % 2 ? 'alice' : 'policy', action: 'rollback.approve', target: `rollback:rb-${id}` };
  });
}

/** A reader over `all` that filters like the server and records every query. */
function reader(all: AuditEntryView[]) {
  const queries: AuditQuery[] = [];
  const read = async (query: AuditQuery) => {
    queries.push(query);
    return all
      .filter((entry) => !query.actor || entry.actor === query.actor)
      .filter((entry) => query.beforeId === undefined || entry.id < query.beforeId)
      .slice(0, query.limit);
  };
  return { read, queries };
}

describe('AuditLog', () => {
  it('reads a page for the filters, then older pages with beforeId until a short page', async () => {
    const { read, queries } = reader(entries(120));
    const log = new AuditLog(read);
    await log.apply({ actor: '  ', action: '', target: '' });
    expect(log.entries).toHaveLength(AUDIT_PAGE_SIZE);
    expect(log).toMatchObject({ loaded: true, hasMore: true, problem: undefined });
    await log.more();
    await log.more();
    expect(log.entries.map((entry) => entry.id)).toEqual(Array.from({ length: 120 }, (_, index) => 120 - index));
    expect(log.hasMore).toBe(false);
    expect(queries.map((query) => query.beforeId)).toEqual([undefined, 71, 21]);

    await log.apply({ actor: 'alice', action: '', target: '' });
    expect(log.entries.every((entry) => entry.actor === 'alice')).toBe(true);
    expect(log.entries).toHaveLength(AUDIT_PAGE_SIZE);
    expect(queries.at(-1)).toEqual({ actor: 'alice', action: '', target: '', limit: AUDIT_PAGE_SIZE });
  });

  it('keeps a refused read apart: a 401 says a token is needed, and nothing stale is shown', async () => {
    const log = new AuditLog(async () => {
      throw new ApiError(401, 'CW_AUTH_UNAUTHORIZED', 'an API token is required');
    });
    await log.apply();
    expect(log).toMatchObject({ needsToken: true, entries: [], hasMore: false, loading: false });
    expect(log.problem).toMatch(/did not accept your API token/);
  });
});
