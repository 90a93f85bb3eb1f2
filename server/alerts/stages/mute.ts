/**
 * The mute stage: silences (created through the API, with author and comment) and maintenance
 * windows (from the config). A muted incident is still recorded; its notifications are recorded as
 * suppressed in the audit log instead of being sent. An incident is muted while every one of its
 * alerts matches an active silence or window.
 *
 * Silences are kept durably as audit entries (`silence.create`, `silence.expire`): the audit log is
 * append-only and already records who did what, so a restart rebuilds the active silences from it.
 */
import { randomUUID } from 'node:crypto';
import type { Alert } from '../../../contract/alert.ts';
import type { AuditRepository } from '../../store/repositories/audit.ts';
import { coveringMutes, isInForce, type Silence, type SilenceInput } from '../../../contract/silence.ts';
import type { MaintenanceWindow } from './config.ts';
import type { IncidentStep } from './notify.ts';
import type { Stage } from './stage.ts';

/** What mutes an incident right now, or `undefined` when nothing does. */
export function muteReason(alerts: readonly Alert[], silences: readonly Silence[], windows: readonly MaintenanceWindow[], now: number): string | undefined {
  const active = [
    ...silences.filter((s) => isInForce(s, now)).map((s) => ({ matchers: s.matchers, label: `silence ${s.id} by ${s.createdBy}: ${s.comment}` })),
    ...windows.filter((w) => isInForce(w, now)).map((w) => ({ matchers: w.matchers, label: `maintenance window ${w.name}` })),
  ];
  return coveringMutes(alerts, active)?.map((mute) => mute.label).join('; ');
}

/** The silences, persisted through the audit log. */
export class SilenceBook {
  private readonly silences = new Map<string, Silence>();

  private constructor(private readonly now: () => number) {}

  /** Rebuilds the unexpired silences from every silence entry of the audit log, however old. */
  static async load(audit: AuditRepository, now: () => number = Date.now): Promise<SilenceBook> {
    const book = new SilenceBook(now);
    const entries = await audit.listAll({ action: 'silence.' });
    // Newest first: replay oldest first so that an expiry follows its creation.
    for (const entry of entries.reverse()) {
      if (entry.action === 'silence.create') {
        const silence = entry.evidence as Silence;
        book.silences.set(silence.id, silence);
      } else if (entry.action === 'silence.expire' && entry.target !== undefined) {
        book.silences.delete(entry.target.replace(/^silence:/, ''));
      }
    }
    book.dropExpired();
    return book;
  }

  /** Silences not yet ended, soonest start first. */
  list(): Silence[] {
    this.dropExpired();
    return [...this.silences.values()].sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  }

  /** Creates a silence and records it (the record is what makes it durable). */
  async create(audit: AuditRepository, input: SilenceInput, actor: string): Promise<Silence> {
    const silence = newSilence(input, actor, this.now());
    await audit.append({ actor, action: 'silence.create', target: `silence:${silence.id}`, reason: input.comment, evidence: silence });
    this.silences.set(silence.id, silence);
    return silence;
  }

  /** Ends a silence now; `false` when there is no such active silence. */
  async expire(audit: AuditRepository, id: string, actor: string, reason: string): Promise<boolean> {
    const silence = this.silences.get(id);
    if (silence === undefined) return false;
    await audit.append({ actor, action: 'silence.expire', target: `silence:${id}`, reason, evidence: silence });
    this.silences.delete(id);
    return true;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [id, silence] of this.silences) if (Date.parse(silence.endsAt) <= now) this.silences.delete(id);
  }
}

/** A new silence from what a person asked for, starting now unless they said when. */
export function newSilence(input: SilenceInput, actor: string, now: number): Silence {
  const createdAt = new Date(now).toISOString();
  return {
    id: `sil_${randomUUID()}`,
    matchers: input.matchers,
    startsAt: input.startsAt ?? createdAt,
    endsAt: input.endsAt,
    createdBy: actor,
    comment: input.comment,
    createdAt,
  };
}

/**
 * The mute stage: notes what mutes the incident now (an active silence or maintenance window
 * covering every one of its alerts). A muted incident is still grouped, stored and shown; only its
 * notifications are recorded as suppressed, by the notify stage.
 */
export function muteStage<T extends IncidentStep>(mutes: { silences: Pick<SilenceBook, 'list'>; maintenance: readonly MaintenanceWindow[] }): Stage<T> {
  return {
    name: 'mute',
    async run(step) {
      const muted = muteReason(step.alerts, mutes.silences.list(), mutes.maintenance, step.now);
      return muted === undefined ? step : { ...step, muted };
    },
  };
}
