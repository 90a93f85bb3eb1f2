/**
 * Replay output pinned byte for byte: the SHA-256 of `replayRecords` over three simulated fleets
 * (6 h each, one environment), as computed at be0532a, the commit before the redesign of issue 16
 * (one output path, the contract at the bottom, one series key and threshold). The redesign was
 * to leave detection and attribution of single-environment input unchanged, and this shows it did.
 * A later change that alters detection on purpose updates these digests and says why in its commit.
 * Updated 2026-12-07 for attribution's departure shift and interval-averaged timing (same alert ids and
 * resolutions; suspects and their update emissions differ), then for plain-language words (rarity in
 * rounded words, evidence against a suspect in its own field): ids, statuses, severities, scores,
 * observed values, suspects and confidences identical to the attribution change's output.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { replayRecords } from '../../../server/pipeline/replay.ts';
import { FleetSimulator } from '../../../tooling/sim/fleet.ts';
import { T0 } from '../../support/factories.ts';

const PINNED: Array<{ seed: number; events: number; emissions: number; sha256: string }> = [
  { seed: 11, events: 105_106, emissions: 1_171, sha256: '09bba32759d2424237fbdb837853d38c8942f209f254336ef60ae46116bc0afa' },
  { seed: 12, events: 105_699, emissions: 2_263, sha256: '422a98719ec4e6fe0cc5e0831d614b4ecf938a9cf478d027f2fc993792215890' },
  { seed: 13, events: 105_944, emissions: 1_236, sha256: '40c1495965b10cebe7e988aab101453f709c097767ff22aaf16d305fa85d451c' },
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
