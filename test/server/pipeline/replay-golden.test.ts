/**
 * Replay output pinned byte for byte: the SHA-256 of `replayRecords` over three simulated fleets
 * (6 h each, one environment), as computed at be0532a, the commit before the redesign of issue 16
 * (one output path, the contract at the bottom, one series key and threshold). The redesign was
 * to leave detection and attribution of single-environment input unchanged, and this shows it did.
 * A later change that alters detection on purpose updates these digests and says why in its commit.
 * Updated 2026-12-07 for attribution's departure shift and interval-averaged timing (same alert ids and
 * resolutions; suspects and their update emissions differ).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { replayRecords } from '../../../server/pipeline/replay.ts';
import { FleetSimulator } from '../../../tooling/sim/fleet.ts';
import { T0 } from '../../support/factories.ts';

const PINNED: Array<{ seed: number; events: number; emissions: number; sha256: string }> = [
  { seed: 11, events: 105_106, emissions: 1_171, sha256: '775c204fce4d46c4c36c2066e5a7cd5ea1d32f981e0f6844c8e08663fa66a1c4' },
  { seed: 12, events: 105_699, emissions: 2_263, sha256: '13136f7c75ae5596a97b733a54bba7d42591cc88c90035396a1d7b0f193d6867' },
  { seed: 13, events: 105_944, emissions: 1_236, sha256: 'f658ac78a3a34941e9a49a4b6aa4ba22d84e4002c6cf6618259dac05707740a6' },
];

describe('replay output', () => {
  it.each(PINNED)('is byte-identical to the pinned output for fleet seed $seed', ({ seed, events, emissions, sha256 }) => {
    const records = new FleetSimulator({ seed, start: T0, incidentEveryMs: 20 * 60_000 }).advance(T0 + 6 * 3_600_000);
    const output = replayRecords(records).map((alert) => JSON.stringify(alert)).join('\n');
    expect(records.length).toBe(events);
    expect(output.split('\n').length).toBe(emissions);
    expect(createHash('sha256').update(output).digest('hex')).toBe(sha256);
  });
});
