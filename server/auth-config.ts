/**
 * The `auth:` block of the YAML config and the roles it grants. It lives beside the config rather
 * than in the HTTP edge so that server/config.ts validates it without importing an edge;
 * server/http/auth.ts enforces it.
 */
import { z } from 'zod';

/**
 * Roles, lowest first; each may do everything the roles before it may. `ingest` sits between
 * `viewer` and `operator` so a CI/CD system's token can post events (and read) but never act.
 */
export const ROLES = ['viewer', 'ingest', 'operator', 'admin'] as const;
/**
 * What a token may do: `viewer` reads, `ingest` also posts events (POST /api/v1/events), `operator`
 * also acts (acknowledge, silence, approve, deny, lift, kill switch), `admin` everything.
 */
export type Role = (typeof ROLES)[number];

/** The `auth:` block of the YAML config. */
export const authConfigSchema = z
  .object({
    /** Reads (dashboard, socket, GET routes) need no token while true (NOC screens); mutations always do. */
    anonymousRead: z.boolean().default(true),
    tokens: z
      .array(
        z
          .object({
            name: z.string().min(1),
            role: z.enum(ROLES),
            /** Hex SHA-256 of the token (e.g. `printf %s "$TOKEN" | sha256sum`). */
            sha256: z
              .string()
              .regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be the 64-hex-digit SHA-256 of the token, not the token itself')
              .transform((hex) => hex.toLowerCase()),
          })
          .strict(),
      )
      .default([])
      .refine((tokens) => new Set(tokens.map((token) => token.name)).size === tokens.length, 'token names must be unique'),
  })
  .strict();

/** The parsed `auth:` block. */
export type AuthConfig = z.infer<typeof authConfigSchema>;
