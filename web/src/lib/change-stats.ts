/**
 * Fetches change failure rates from `GET /api/v1/stats/changes`, checking the body's shape so a
 * missing or older server shows "unavailable" instead of breaking the page.
 */
import type { AuthorType } from '../../../contract/events.ts';
import type { ChangeFailureStats, ChangeStatsResponse } from '../../../contract/alert.ts';

/** Where the server publishes change failure rates. */
export const CHANGE_STATS_PATH = '/api/v1/stats/changes';

/** Author types in the order the dashboard lists them (mirrors AUTHOR_TYPES without bundling server code). */
export const AUTHOR_TYPE_ORDER: readonly AuthorType[] = ['ai_agent', 'ai_assisted', 'human'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFailureStats(value: unknown): value is ChangeFailureStats {
  return (
    isRecord(value) &&
    typeof value.changes === 'number' &&
    typeof value.linkedToIncident === 'number' &&
    typeof value.failureRate === 'number'
  );
}

/** Whether a parsed JSON body has the {@link ChangeStatsResponse} shape. */
export function isChangeStatsResponse(body: unknown): body is ChangeStatsResponse {
  if (!isRecord(body) || typeof body.from !== 'string' || typeof body.to !== 'string') return false;
  const { byAuthorType, byAgent } = body;
  return (
    isRecord(byAuthorType) &&
    AUTHOR_TYPE_ORDER.every((type) => isFailureStats(byAuthorType[type])) &&
    isRecord(byAgent) &&
    Object.values(byAgent).every(isFailureStats)
  );
}

/** Fetches and validates the change failure rates; rejects with a short, human-readable reason. */
export async function fetchChangeStats(fetchImpl: typeof fetch = fetch, signal?: AbortSignal): Promise<ChangeStatsResponse> {
  const response = await fetchImpl(CHANGE_STATS_PATH, { headers: { accept: 'application/json' }, signal });
  if (!response.ok) throw new Error(`server answered HTTP ${response.status}`);
  const body: unknown = await response.json().catch(() => undefined);
  if (!isChangeStatsResponse(body)) throw new Error('server sent an unexpected response');
  return body;
}
