/**
 * Zod schemas for the incident settings of the YAML config: grouping and its timers (`incidents:`),
 * silence matchers, and maintenance windows (`maintenance:`). server/config.ts composes them.
 */
import { z } from 'zod';
import { SEVERITIES } from '../../../contract/alert.ts';
import type { MuteMatchers } from '../../../contract/silence.ts';

/** Alert labels an incident can be grouped by. */
export const GROUP_LABELS = ['service', 'environment', 'metric', 'severity'] as const;
/** An alert label an incident can be grouped by. */
export type GroupLabel = (typeof GROUP_LABELS)[number];

const nonNegativeMs = z.number().int().min(0);

/** `incidents:` — how alerts become incidents and when incidents notify (Alertmanager's route timers). */
export const incidentsConfigSchema = z
  .strictObject({
    /** Labels whose values form an incident's group key (default: one incident per service). */
    groupBy: z.array(z.enum(GROUP_LABELS)).min(1).default(['service']),
    /**
     * Alerts whose top suspect is the same change join one incident whatever their labels, so the
     * broken service and the callers it drags down page once.
     */
    groupByCulprit: z.boolean().default(true),
    /** Least confidence of the top suspect for culprit grouping. */
    culpritMinConfidence: z.number().gt(0).lte(1).default(0.5),
    /**
     * Wait after an incident opens before its first page, so related alerts join it first: wall
     * clock, or as much event time while a backlog is replayed (stages/notify.ts).
     */
    groupWaitMs: nonNegativeMs.default(30_000),
    /** Least wall-clock time between pages about new alerts joining an already paged incident. */
    groupIntervalMs: nonNegativeMs.default(5 * 60_000),
    /** A firing, unacknowledged incident pages again after this long (wall clock). */
    repeatIntervalMs: z.number().int().positive().default(4 * 60 * 60_000),
    /**
     * Hysteresis: an incident whose alerts all resolved is only reported resolved after this long
     * (wall clock); if any of its groups fires again before that, the same incident re-opens and
     * nobody is paged again.
     */
    flapWindowMs: nonNegativeMs.default(5 * 60_000),
  })
  .prefault({});
/** Parsed `incidents:` settings. */
export type IncidentsConfig = z.output<typeof incidentsConfigSchema>;

/** Which alerts a silence or maintenance window covers: every key given must match; any listed value matches. */
export const muteMatchersSchema = z
  .strictObject({
    service: z.array(z.string().min(1)).min(1).optional(),
    environment: z.array(z.string().min(1)).min(1).optional(),
    metric: z.array(z.string().min(1)).min(1).optional(),
    severity: z.array(z.enum(SEVERITIES)).min(1).optional(),
  })
  .refine((matchers) => Object.keys(matchers).length > 0, 'at least one matcher is required (a silence never mutes everything by accident)') satisfies z.ZodType<MuteMatchers>;

/** One entry of `maintenance:`: a planned window during which matching incidents are recorded but not paged. */
export const maintenanceWindowSchema = z
  .strictObject({
    name: z.string().min(1),
    matchers: muteMatchersSchema,
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    comment: z.string().default(''),
  })
  .refine((window) => Date.parse(window.startsAt) < Date.parse(window.endsAt), 'startsAt must be before endsAt');
/** A parsed maintenance window. */
export type MaintenanceWindow = z.output<typeof maintenanceWindowSchema>;
