/**
 * The session contract between the API and the dashboard: who a token is (`GET /api/v1/whoami`)
 * and the audit log as `GET /api/v1/audit` lists it.
 */

/** What a token may do, lowest first; each role may do everything the roles before it may (server/auth-config.ts). */
export type ApiRole = 'viewer' | 'ingest' | 'operator' | 'admin';

/**
 * The answer of `GET /api/v1/whoami`: the presented token's configured name and role, or, with no
 * token while anonymous reads are on, `name: 'anonymous'` and no role. A bad token is a 401.
 */
export interface WhoAmI {
  /** The token's configured name (what the audit log records), or `anonymous`. */
  name: string;
  /** Absent for an anonymous reader. */
  role?: ApiRole;
  /** Whether reads (dashboard, socket, GET routes) need no token on this server (`auth.anonymousRead`). */
  anonymousReads: boolean;
}

/** One audit log entry: who or what did which action, to what, when, why, with the evidence they saw. */
export interface AuditEntryView {
  /** Increasing with insertion order; `beforeId` of the next page. */
  id: number;
  /** ISO-8601. */
  at: string;
  /** A token name, or a component such as `policy`, `delivery` or `killswitch`. */
  actor: string;
  /** Dotted verb, e.g. `rollback.approve`, `freeze.lift`, `incident.acknowledge`. */
  action: string;
  /** What it acted on, e.g. `rollback:rb-1`. */
  target?: string;
  /** Why, in the actor's or the policy's words. */
  reason?: string;
  /** Snapshot of the evidence the decision was based on (JSON). */
  evidence?: unknown;
}

/** The answer of `GET /api/v1/audit`: entries newest first. */
export interface AuditPage {
  entries: AuditEntryView[];
}
