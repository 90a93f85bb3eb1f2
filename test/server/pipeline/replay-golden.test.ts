/**
 * Replay output pinned byte for byte: the SHA-256 of `replayRecords` over three simulated fleets
 * (6 h each, one environment), as computed at be0532a, the commit before the redesign of issue 16
 * (one output path, the contract at the bottom, one series key and threshold). The redesign was
 * to leave detection and attribution of single-environment input unchanged, and this shows it did.
 * A later change that alters detection on purpose updates these digests and says why in its commit.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { replayRecords } from '../../../server/pipeline/replay.ts';
import { FleetSimulator } from '../../../tooling/sim/fleet.ts';
import { T0 } from '../../support/factories.ts';

const PINNED: Array<{ seed: number; events: number; emissions: number; sha256: string }> = [
  { seed: 11, events: 105_106, emissions: 1_172, sha256: '8cdf2405054997028edc9b6f97b4bd3e9be02ffec95fe07eef700ebb25aec739' },
  { seed: 12, events: 105_699, emissions: 2_265, sha256: 'd6f96b6373caa8c158f8c5574d08d706bc37bd54eb2a942fd9bbc11c7578972d' },
  { seed: 13, events: 105_944, emissions: 1_235, sha256: 'dd2eb7e54c9ef15ba96029f3217dbdba9eb1ed9c03d47fbaad3d53161e103964' },
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
