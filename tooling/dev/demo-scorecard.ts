/**
 * The demo's scorecard: every incident the live fleet injects is either alerted or reported missed.
 * The simulator reports its ground truth (`onIncident`), a socket.io client watches alerts the way the
 * dashboard does, and one line is printed every few minutes and once more on exit:
 *
 * `scorecard 12:04: injected 5, alerted 4 (median 38 s to alert), right change named 4/4, missed 1 (search error_rate, chg-16-4 at 11:58), pending 1`
 *
 * The matching is {@link scoreDemo}, a pure function over plain arrays; {@link formatScorecard} prints it.
 */
import { io } from 'socket.io-client';
import type { Alert } from '../../contract/alert.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contract/socket.ts';
import type { Socket } from 'socket.io-client';
import type { InjectedIncident } from './live-simulator.ts';

/** How long after an incident ended an alert still counts for it (and before it is called missed), default 3 min. */
export const DEFAULT_GRACE_MS = 3 * 60_000;

/** An incident an alert caught. */
export interface AlertedIncident {
  incident: InjectedIncident;
  alertId: string;
  /** Service of the alert (the incident's own or one it hit). */
  alertService: string;
  /** From the metric starting to move (effect start) to the alert's first emission, ms. */
  delayMs: number;
  /** Top suspect of the alert's verdict while the incident lasted ("" when it had none). */
  topSuspect: string;
  /** Whether that top suspect is the causing change; null for an incident no change caused. */
  rightChange: boolean | null;
}

/** The score at one moment. */
export interface Scorecard {
  /** Incidents injected so far (their change shipped, or their fault began). */
  injected: number;
  alerted: AlertedIncident[];
  /** Incidents whose window plus grace passed without an alert, oldest first. */
  missed: InjectedIncident[];
  /** Incidents not alerted yet whose window plus grace is still open. */
  pending: InjectedIncident[];
}

/**
 * Matches each injected incident to the first alert (by first emission) that:
 * - is on a service the incident hit (its own or one its trouble reaches),
 * - is on the incident's metric (any metric for a traffic surge, which raises several),
 * - opened upward (the first emission observed above expected),
 * - opened (first emission) after the injection, once its effect had begun (a change moves nothing until
 *   its delay is over, so an alert between the two is someone else's), and no later than the incident's
 *   end plus `graceMs`,
 * - and was not credited to an earlier incident already (incidents are matched in injection order).
 *
 * `alerts` holds every emission seen, in arrival order (repeats of one alert id are its updates). The
 * top suspect is judged on the alert's last firing emission up to the incident's end (what on-call saw
 * while it mattered), its first emission when none is that early. An incident without such an alert is
 * missed once `now` is past its end plus `graceMs`, pending before.
 */
export function scoreDemo(incidents: readonly InjectedIncident[], alerts: readonly Alert[], now: number, graceMs = DEFAULT_GRACE_MS): Scorecard {
  const byId = new Map<string, Alert[]>();
  for (const alert of alerts) {
    const emissions = byId.get(alert.id);
    if (emissions) emissions.push(alert);
    else byId.set(alert.id, [alert]);
  }
  const opened = [...byId.values()]
    .map((emissions) => ({ emissions, first: emissions[0]!, openedAt: Date.parse(emissions[0]!.updatedAt) }))
    .sort((a, b) => a.openedAt - b.openedAt);
  const card: Scorecard = { injected: incidents.length, alerted: [], missed: [], pending: [] };
  const credited = new Set<string>();
  for (const incident of [...incidents].sort((a, b) => a.injectedAt - b.injectedAt)) {
    const hit = new Set([incident.service, ...incident.impactedServices]);
    const until = incident.end + graceMs;
    const match = opened.find(
      ({ first, openedAt }) =>
        !credited.has(first.id) &&
        hit.has(first.service) &&
        (incident.metric === 'request_rate' || first.metric === incident.metric) &&
        first.observed > first.expected &&
        openedAt >= Math.max(incident.injectedAt, incident.effectStart) &&
        openedAt <= until,
    );
    if (!match) {
      (now > until ? card.missed : card.pending).push(incident);
      continue;
    }
    credited.add(match.first.id);
    const verdict = match.emissions.filter((a) => a.status !== 'resolved' && Date.parse(a.updatedAt) <= incident.end).at(-1) ?? match.first;
    const topSuspect = verdict.suspects[0]?.changeId ?? '';
    card.alerted.push({
      incident,
      alertId: match.first.id,
      alertService: match.first.service,
      delayMs: match.openedAt - incident.effectStart,
      topSuspect,
      rightChange: incident.causeChangeId === null ? null : topSuspect === incident.causeChangeId,
    });
  }
  return card;
}

/** Local wall-clock hours and minutes, `12:04`. */
export function clockTime(ms: number): string {
  const date = new Date(ms);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/** Missed incidents named in the line; the rest are counted. */
const MISSED_SHOWN = 3;

/** The scorecard as one readable line (see the module comment). */
export function formatScorecard(card: Scorecard, now: number, time: (ms: number) => string = clockTime): string {
  const parts = [`injected ${card.injected}`];
  const delays = card.alerted.map((a) => a.delayMs);
  parts.push(`alerted ${card.alerted.length}${delays.length ? ` (median ${duration(median(delays))} to alert)` : ''}`);
  const judged = card.alerted.filter((a) => a.rightChange !== null);
  if (judged.length) parts.push(`right change named ${judged.filter((a) => a.rightChange).length}/${judged.length}`);
  if (card.missed.length) {
    const named = card.missed.slice(-MISSED_SHOWN).map((i) => `${i.service} ${i.metric}, ${cause(i)} at ${time(i.injectedAt)}`);
    const more = card.missed.length - named.length;
    parts.push(`missed ${card.missed.length} (${named.join('; ')}${more > 0 ? `; ${more} earlier` : ''})`);
  } else parts.push('missed 0');
  parts.push(`pending ${card.pending.length}`);
  return `scorecard ${time(now)}: ${parts.join(', ')}`;
}

function cause(incident: InjectedIncident): string {
  if (incident.causeChangeId) return incident.causeChangeId;
  return incident.kind.replace(/_/g, ' ');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `${seconds} s` : `${(seconds / 60).toFixed(1)} min`;
}

/**
 * Whether an alert emission is worth keeping when `previous` (the last kept emission of the same alert)
 * is: the first one, and any that changes its status or its top suspect. Enough for {@link scoreDemo}
 * (which reads the first emission and the top suspect of the last firing one up to a time) without
 * holding the update an open alert gets on every point.
 */
export function worthKeeping(previous: Alert | undefined, next: Alert): boolean {
  return !previous || previous.status !== next.status || (previous.suspects[0]?.changeId ?? '') !== (next.suspects[0]?.changeId ?? '');
}

/** Options of the live scorecard. */
export interface DemoScorecardOptions {
  /** Base URL of the running service (its socket.io endpoint). */
  url: string;
  /** Gets each line. */
  print: (line: string) => void;
  /** Between two lines, default 3 min; 0 prints only on `stop`. */
  everyMs?: number;
  graceMs?: number;
  now?: () => number;
}

/** A scorecard that is watching. */
export interface DemoScorecard {
  /** Give it to the simulator as `onIncident`. */
  record(incident: InjectedIncident): void;
  /** The score now. */
  score(): Scorecard;
  /** The line now. */
  line(): string;
  /** Prints a last line and disconnects. */
  stop(): void;
}

/** Connects to the service's socket.io endpoint as a dashboard would and prints the score periodically. */
export function startDemoScorecard(options: DemoScorecardOptions): DemoScorecard {
  const now = options.now ?? Date.now;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const incidents: InjectedIncident[] = [];
  const kept: Alert[] = [];
  const last = new Map<string, Alert>();
  const keep = (alert: Alert): void => {
    if (!worthKeeping(last.get(alert.id), alert)) return;
    last.set(alert.id, alert);
    kept.push(alert);
  };
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(options.url, { transports: ['websocket'] });
  // The snapshot (on every connect, so reconnects too) holds each alert's latest state; the events every update.
  socket.on('snapshot', ({ alerts }) => alerts.forEach(keep));
  socket.on('alert', keep);
  const score = (): Scorecard => scoreDemo(incidents, kept, now(), graceMs);
  const line = (): string => formatScorecard(score(), now());
  const everyMs = options.everyMs ?? 3 * 60_000;
  const timer = everyMs > 0 ? setInterval(() => options.print(line()), everyMs) : undefined;
  timer?.unref();
  let stopped = false;
  return {
    record: (incident) => void incidents.push(incident),
    score,
    line,
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      options.print(line());
      socket.close();
    },
  };
}
