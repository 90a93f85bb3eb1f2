/**
 * The audit log panel's state: the entries read from `GET /api/v1/audit` for the current filters
 * (actor, action, target), newest first, a page at a time ("Show older entries" asks for the next
 * page with `beforeId`), and why the last read failed. The route needs a viewer token even while
 * anonymous reads are on, since the log names people; a 401 is kept apart so the panel can say so.
 */
import type { AuditEntryView } from '../../../../contract/session.ts';
import { ApiError, explainApiError, type AuditQuery } from '../api.ts';

/** Entries read per page. */
export const AUDIT_PAGE_SIZE = 50;

/** The filters a person can set; empty strings mean "any". */
export interface AuditFilters {
  actor: string;
  action: string;
  target: string;
}

/** Reads one page of the audit log; `ApiClient.listAudit` in the app. */
export type AuditReader = (query: AuditQuery, signal?: AbortSignal) => Promise<AuditEntryView[]>;

/** The audit log as the panel shows it. */
export class AuditLog {
  /** Entries read so far, newest first. */
  entries = $state.raw<AuditEntryView[]>([]);
  /** The filters of the entries shown. */
  filters = $state<AuditFilters>({ actor: '', action: '', target: '' });
  /** Whether a read is in flight. */
  loading = $state(false);
  /** Whether the first page for the current filters has arrived. */
  loaded = $state(false);
  /** Whether the last page was full, so older entries may exist. */
  hasMore = $state(false);
  /** Why the last read failed, for people; undefined after a success. */
  problem = $state<string | undefined>(undefined);
  /** Whether the server refused the read for want of a valid viewer token (401). */
  needsToken = $state(false);

  readonly #read: AuditReader;
  #controller: AbortController | undefined;

  constructor(read: AuditReader) {
    this.#read = read;
  }

  /** Reads the first page for `filters` (replacing what is shown). */
  async apply(filters: AuditFilters = this.filters): Promise<void> {
    this.filters = { actor: filters.actor.trim(), action: filters.action.trim(), target: filters.target.trim() };
    await this.#load(undefined);
  }

  /** Reads the page after the oldest entry shown, and appends it. */
  async more(): Promise<void> {
    const oldest = this.entries.at(-1);
    if (!oldest || this.loading) return;
    await this.#load(oldest.id);
  }

  async #load(beforeId: number | undefined): Promise<void> {
    this.#controller?.abort();
    const controller = (this.#controller = new AbortController());
    this.loading = true;
    try {
      const page = await this.#read({ ...this.filters, limit: AUDIT_PAGE_SIZE, ...(beforeId === undefined ? {} : { beforeId }) }, controller.signal);
      if (controller.signal.aborted) return;
      this.entries = beforeId === undefined ? page : [...this.entries, ...page];
      this.hasMore = page.length === AUDIT_PAGE_SIZE;
      this.loaded = true;
      this.problem = undefined;
      this.needsToken = false;
    } catch (error) {
      if (controller.signal.aborted) return;
      this.needsToken = error instanceof ApiError && error.status === 401;
      this.problem = explainApiError(error);
      if (beforeId === undefined) {
        this.entries = [];
        this.hasMore = false;
      }
    } finally {
      if (this.#controller === controller) this.loading = false;
    }
  }
}
