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

/** Rings up to this capacity sort by packed integer keys (32 bits of value, 21 of slot). */
const SLOT_SPAN = 2 ** 21;

/**
 * A ring's samples ordered by value: `index` lists slots of `times` and `values` (the ring's own
 * arrays, read-only) from the smallest value to the largest. Valid until the ring's next push.
 */
export interface RankOrder {
  readonly index: Int32Array;
  readonly times: Float64Array;
  readonly values: Float32Array;
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
  /** Indices of the samples ordered by value, built on demand and dropped on the next push. */
  private byValue: RankOrder | null = null;
  /** The bits of `values`, for sorting them as integers. */
  private bits: Uint32Array | null = null;

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
    this.byValue = null;
  }

  /** Number of samples held. */
  get length(): number {
    return this.size;
  }

  /** Time of the `i`-th sample, oldest first (0 ≤ i < length). */
  timeAt(i: number): number {
    return this.times[(this.next - this.size + this.capacity + i) % this.capacity]!;
  }

  /** Value of the `i`-th sample, oldest first (0 ≤ i < length). */
  valueAt(i: number): number {
    return this.values[(this.next - this.size + this.capacity + i) % this.capacity]!;
  }

  /** Count of the `i`-th sample, oldest first (0 ≤ i < length). */
  countAt(i: number): number {
    return this.counts[(this.next - this.size + this.capacity + i) % this.capacity]!;
  }

  /** How many samples have from ≤ time < to. */
  countBetween(from: number, to: number): number {
    // The samples are slots oldest.. up to the end, then from 0 on when they wrap.
    const times = this.times;
    const oldest = (this.next - this.size + this.capacity) % this.capacity;
    const end = Math.min(oldest + this.size, this.capacity);
    const wrapped = oldest + this.size - end;
    let n = 0;
    for (let at = oldest; at < end; at++) {
      const time = times[at]!;
      if (time >= from && time < to) n++;
    }
    for (let at = 0; at < wrapped; at++) {
      const time = times[at]!;
      if (time >= from && time < to) n++;
    }
    return n;
  }

  /**
   * The samples ordered by value (ascending; equal values in any order), for rank statistics over
   * time windows without copying or sorting each window. Null when a value is not finite (rank
   * tests then take the general path). Cached until the next push.
   */
  rankOrder(): RankOrder | null {
    if (this.byValue) return this.byValue;
    const oldest = (this.next - this.size + this.capacity) % this.capacity;
    const index = new Int32Array(this.size);
    const values = this.values;
    if (this.capacity <= SLOT_SPAN) {
      // Sort plain numbers rather than call a comparator: each sample's value as an unsigned key
      // that orders like the value, times SLOT_SPAN, plus its slot (exact: below 2^53).
      const keys = new Float64Array(this.size);
      const bits = (this.bits ??= new Uint32Array(values.buffer, values.byteOffset, values.length));
      for (let i = 0; i < this.size; i++) {
        const at = (oldest + i) % this.capacity;
        if (!Number.isFinite(values[at]!)) return null;
        const b = bits[at]!;
        keys[i] = (b >= 0x80000000 ? 0xffffffff - b : b + 0x80000000) * SLOT_SPAN + at;
      }
      keys.sort();
      for (let i = 0; i < this.size; i++) index[i] = keys[i]! % SLOT_SPAN;
    } else {
      for (let i = 0; i < this.size; i++) {
        const at = (oldest + i) % this.capacity;
        if (!Number.isFinite(values[at]!)) return null;
        index[i] = at;
      }
      index.sort((a, b) => values[a]! - values[b]!);
    }
    this.byValue = { index, times: this.times, values };
    return this.byValue;
  }

  /** Event time of the newest sample, or -Infinity when empty. */
  get latest(): number {
    return this.size ? this.times[(this.next - 1 + this.capacity) % this.capacity]! : -Infinity;
  }

  /** Values with from ≤ time < to. */
  valuesBetween(from: number, to: number): number[] {
    const out: number[] = [];
    const oldest = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const at = (oldest + i) % this.capacity;
      const time = this.times[at]!;
      if (time >= from && time < to) out.push(this.values[at]!);
    }
    return out;
  }

  /** Samples with from ≤ time < to, oldest first. */
  samplesBetween(from: number, to: number): Sample[] {
    const out: Sample[] = [];
    const oldest = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const at = (oldest + i) % this.capacity;
      const time = this.times[at]!;
      if (time >= from && time < to) out.push({ time, value: this.values[at]!, count: this.counts[at]! });
    }
    return out;
  }

  /** The whole ring, for checkpoints; `fromJSON` restores it exactly. */
  toJSON(): RingJSON {
    return { capacity: this.capacity, next: this.next, size: this.size, times: toBase64(this.times), values: toBase64(this.values), counts: toBase64(this.counts) };
  }

}
