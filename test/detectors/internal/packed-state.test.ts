import { describe, expect, it } from 'vitest';
import { packState, unpackState } from '../../../detectors/internal/packed-state.ts';
import { createDefaultDetector, restoreDetector } from '../../../detectors/index.ts';

describe('packed state', () => {
  it('restores every bit, including -0, NaN, infinities and Float32 rounding', () => {
    const scalars = Float64Array.from([0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, 1 / 3, -1e300]);
    const cells = Float32Array.from([0.1, -0, 3.4e38, 1e-45, 7]);
    const packed = JSON.parse(JSON.stringify(packState(scalars, cells)));
    const s = new Float64Array(scalars.length);
    const c = new Float32Array(cells.length);
    expect(unpackState(packed, s, c)).toBe(true);
    expect(new Uint8Array(s.buffer)).toEqual(new Uint8Array(scalars.buffer));
    expect(new Uint8Array(c.buffer)).toEqual(new Uint8Array(cells.buffer));
  });

  it('reads arrays that share one buffer at an offset', () => {
    const buffer = new ArrayBuffer(3 * 8 + 2 * 4);
    const scalars = new Float64Array(buffer, 0, 3).fill(2.5);
    const cells = new Float32Array(buffer, 24, 2).fill(-1.25);
    const s = new Float64Array(3);
    const c = new Float32Array(2);
    expect(unpackState(packState(scalars, cells), s, c)).toBe(true);
    expect([...s, ...c]).toEqual([2.5, 2.5, 2.5, -1.25, -1.25]);
  });

  it('still restores checkpoints written as arrays of numbers', () => {
    const s = new Float64Array(2);
    const c = new Float32Array(1);
    expect(unpackState({ scalars: [1.5, -2], cells: [0.25] }, s, c)).toBe(true);
    expect([...s, ...c]).toEqual([1.5, -2, 0.25]);
  });

  it('refuses a state of another layout', () => {
    const s = new Float64Array(2);
    const c = new Float32Array(1);
    const packed = packState(new Float64Array(3), new Float32Array(1));
    expect(unpackState(packed, s, c)).toBe(false);
    expect(unpackState({ scalars: [1, 2], cells: [1, 2] }, s, c)).toBe(false);
    expect(unpackState({ scalars: 7, cells: [] }, s, c)).toBe(false);
    expect(unpackState(null, s, c)).toBe(false);
  });

  it('keeps a default detector checkpoint under 3 KB of JSON', () => {
    const detector = createDefaultDetector({ metric: 'latency_p99' });
    for (let i = 0; i < 2000; i++) detector.update({ timestamp: i * 60_000, value: 200 + 30 * Math.sin(i / 7) + (i % 13) });
    const text = JSON.stringify(detector.toJSON());
    expect(text.length).toBeLessThan(3000);
    expect(restoreDetector(JSON.parse(text)).toJSON()).toEqual(detector.toJSON());
  });
});
