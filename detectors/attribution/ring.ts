/**
 * A fixed-capacity ring of recent samples (time, value, count): O(1) append, bounded memory, compact JSON.
 */
import { fill, toBase64 } from '../internal/packed-state.ts';

/** One sample; `count` is 0 when unknown. */
export interface Sample {
  time: number;
  value: number;
  count: number;
}

/**
 * A ring's serialized form: its typed arrays as base64 of their bytes (checkpoints serialize every
 * series' ring every few seconds; decimal text was ten times larger and slower) and its cursor.
 */
export interface RingJSON {
  capacity: number;
  next: number;
  size: number;
  times: string;
  values: string;
  counts: string;
}

/** Recent samples of one series, newest overwriting oldest once full. */
export class SampleRing {
  // Typed arrays keep a sample at 16 bytes; single precision is ample for values compared by rank.
  private readonly times: Float64Array;
  private readonly values: Float32Array;
  private readonly counts: Float32Array;
  private next = 0;
  private size = 0;

  /** An empty ring that keeps the last `capacity` samples. */
  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.values = new Float32Array(capacity);
    this.counts = new Float32Array(capacity);
  }

  /** Rebuilds a ring from `toJSON()` output; a malformed one restores empty rather than throwing. */
  static fromJSON(json: RingJSON): SampleRing {
    const ring = new SampleRing(Math.max(1, json.capacity));
    const fits = fill(ring.times, json.times) && fill(ring.values, json.values) && fill(ring.counts, json.counts);
    if (fits && json.size >= 0 && json.size <= ring.capacity && json.next >= 0 && json.next < ring.capacity) {
      ring.next = json.next;
      ring.size = json.size;
    } else {
      ring.times.fill(0);
      ring.values.fill(0);
      ring.counts.fill(0);
    }
    return ring;
  }

  /** Appends a sample; `count` is 0 when unknown. */
  push(time: number, value: number, count: number): void {
    this.times[this.next] = time;
    this.values[this.next] = value;
    this.counts[this.next] = count;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Event time of the newest sample, or -Infinity when empty. */
  get latest(): number {
    return this.size ? this.times[(this.next - 1 + this.capacity) % this.capacity]! : -Infinity;
  }

  /** Values with from ≤ time < to. */
  valuesBetween(from: number, to: number): number[] {
    const out: number[] = [];
    this.forEachBetween(from, to, (value) => out.push(value));
    return out;
  }

  /** Samples with from ≤ time < to, oldest first. */
  samplesBetween(from: number, to: number): Sample[] {
    const out: Sample[] = [];
    this.forEachBetween(from, to, (value, count, time) => out.push({ time, value, count }));
    return out;
  }

  /** The whole ring, for checkpoints; `fromJSON` restores it exactly. */
  toJSON(): RingJSON {
    return { capacity: this.capacity, next: this.next, size: this.size, times: toBase64(this.times), values: toBase64(this.values), counts: toBase64(this.counts) };
  }

  private forEachBetween(from: number, to: number, visit: (value: number, count: number, time: number) => void): void {
    const oldest = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const at = (oldest + i) % this.capacity;
      const time = this.times[at]!;
      if (time >= from && time < to) visit(this.values[at]!, this.counts[at]!, time);
    }
  }
}
