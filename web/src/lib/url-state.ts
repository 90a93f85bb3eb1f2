/**
 * The dashboard's address: which alert, incident or change is selected (`/alerts/:id`,
 * `/incidents/:id`, `/changes/:id`) and which filters apply (`?service=…&severity=…&q=…`), parsed
 * from and formatted back to a URL path and query. Pure functions; the History API lives in
 * state/navigation.svelte.ts.
 */
import { ALERT_STATUSES, SEVERITIES, type AlertStatus, type Severity } from '../../../contract/alert.ts';
import { AUTHOR_TYPES, type AuthorType } from '../../../contract/events.ts';

/** The kinds of thing a deep link can point at. */
export const SELECTION_KINDS = ['alert', 'incident', 'change'] as const;

/** What a deep link points at. */
export type SelectionKind = (typeof SELECTION_KINDS)[number];

/** One selected alert, incident or change. */
export interface Selection {
  kind: SelectionKind;
  id: string;
}

/** The filters the feed, incidents and changes are narrowed by; an absent field means "any". */
export interface Filters {
  service?: string;
  environment?: string;
  severity?: Severity;
  status?: AlertStatus;
  authorType?: AuthorType;
  /** Free text matched against service, metric, title, explanation and change summary. */
  search?: string;
}

/** Everything the URL holds. */
export interface UrlState {
  selection: Selection | undefined;
  filters: Filters;
}

/** A parsed URL, with what in it could not be used (shown to the person rather than silently dropped). */
export interface ParsedUrlState extends UrlState {
  problems: string[];
}

/** The path segment of each kind ("/alerts/…"). */
const PATH_SEGMENTS: Record<SelectionKind, string> = { alert: 'alerts', incident: 'incidents', change: 'changes' };

/** The query parameter of each filter, in the order they are written. */
const QUERY_NAMES = { service: 'service', environment: 'environment', severity: 'severity', status: 'status', authorType: 'author', search: 'q' } as const satisfies Record<
  keyof Filters,
  string
>;

/** Longest free-text value kept from a URL; nobody types more, and it keeps the address bar sane. */
const MAX_TEXT_LENGTH = 200;

/** The deep-link path of a selection, e.g. `/alerts/alert-42`; `/` without one. */
export function selectionPath(selection: Selection | undefined): string {
  return selection ? `/${PATH_SEGMENTS[selection.kind]}/${encodeURIComponent(selection.id)}` : '/';
}

/** Reads a location's path and query (`location.pathname`, `location.search`). */
export function parseUrlState(pathname: string, search: string): ParsedUrlState {
  const problems: string[] = [];
  return { selection: parseSelection(pathname, problems), filters: parseFilters(new URLSearchParams(search), problems), problems };
}

/** The path and query of a state, e.g. `/alerts/a1?service=checkout&q=timeout`; empty filters are left out. */
export function formatUrlState(state: UrlState): string {
  const query = new URLSearchParams();
  for (const [field, name] of Object.entries(QUERY_NAMES) as Array<[keyof Filters, string]>) {
    const value = state.filters[field];
    if (value !== undefined && value !== '') query.set(name, value);
  }
  const text = query.toString();
  return `${selectionPath(state.selection)}${text ? `?${text}` : ''}`;
}

/** Whether any filter is set. */
export function hasFilters(filters: Filters): boolean {
  return Object.values(filters).some((value) => value !== undefined && value !== '');
}

/** Whether two selections point at the same thing. */
export function sameSelection(a: Selection | undefined, b: Selection | undefined): boolean {
  return a?.kind === b?.kind && a?.id === b?.id;
}

function parseSelection(pathname: string, problems: string[]): Selection | undefined {
  const match = /^\/(alerts|incidents|changes)\/([^/]+)\/?$/.exec(pathname);
  if (!match) {
    if (pathname !== '/' && pathname !== '') problems.push(`The address ${pathname} is not a dashboard page; showing the whole dashboard.`);
    return undefined;
  }
  const kind = SELECTION_KINDS.find((candidate) => PATH_SEGMENTS[candidate] === match[1])!;
  let id: string;
  try {
    id = decodeURIComponent(match[2]!);
  } catch {
    problems.push(`The ${kind} id in the address is not valid URL encoding.`);
    return undefined;
  }
  if (id.trim() === '') return undefined;
  return { kind, id };
}

function parseFilters(query: URLSearchParams, problems: string[]): Filters {
  const filters: Filters = {};
  const text = (name: string): string | undefined => {
    const value = query.get(name)?.trim();
    return value ? value.slice(0, MAX_TEXT_LENGTH) : undefined;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], what: string): T | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`Ignored ${what} "${value}" from the address: it must be one of ${allowed.join(', ')}.`);
    return undefined;
  };
  const service = text(QUERY_NAMES.service);
  const environment = text(QUERY_NAMES.environment);
  const severity = oneOf(QUERY_NAMES.severity, SEVERITIES, 'severity');
  const status = oneOf(QUERY_NAMES.status, ALERT_STATUSES, 'status');
  const authorType = oneOf(QUERY_NAMES.authorType, AUTHOR_TYPES, 'author type');
  const search = text(QUERY_NAMES.search);
  if (service !== undefined) filters.service = service;
  if (environment !== undefined) filters.environment = environment;
  if (severity !== undefined) filters.severity = severity;
  if (status !== undefined) filters.status = status;
  if (authorType !== undefined) filters.authorType = authorType;
  if (search !== undefined) filters.search = search;
  return filters;
}
