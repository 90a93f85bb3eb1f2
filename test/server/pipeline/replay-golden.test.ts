/**
 * Replay output pinned byte for byte: the SHA-256 of `replayRecords` over three simulated fleets
 * (6 h each, one environment), as computed at be0532a, the commit before the redesign of issue 16
 * (one output path, the contract at the bottom, one series key and threshold). The redesign was
 * to leave detection and attribution of single-environment input unchanged, and this shows it did.
 * A later change that alters detection on purpose updates these digests and says why in its commit.
 * Updated 2026-12-07 for attribution's departure shift and interval-averaged timing (same alert ids and
 * resolutions; suspects and their update emissions differ), then for plain-language words (rarity in
 * rounded words, evidence against a suspect in its own field, the likely change named by what it was
 * and its likelihood in percent): ids, statuses, severities, scores,
 * observed values, suspects and confidences identical to the attribution change's output.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { replayRecords } from '../../../server/pipeline/replay.ts';
import { FleetSimulator } from '../../../tooling/sim/fleet.ts';
import { T0 } from '../../support/factories.ts';

const PINNED: Array<{ seed: number; events: number; emissions: number; sha256: string }> = [
  { seed: 11, events: 105_106, emissions: 1_171, sha256: '6e3948c24ec90097d9916f304e9ea00c71cbb4dd73ab259ffcd997fffb41d744' },
  { seed: 12, events: 105_699, emissions: 2_263, sha256: 'a38e3bd3fc9279be2e130c20072e51e0646f8ef32eb223b531f42c0c263bed29' },
  { seed: 13, events: 105_944, emissions: 1_236, sha256: 'a608297932a728124be58fc92274a2068aafbbcf89f91c47192a56f3c31cf84e' },
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
