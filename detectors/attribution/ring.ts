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
 * series' ring every few seconds; decimal text was ten times larger and slower) and its cursor. Only
 * the slots in use are written (all `capacity` once the ring is full, else the first `size`), and
 * `counts` is empty when no sample had a count; rings written before that hold every slot. Times,
 * which mostly advance by the same step, are written as runs of equal steps when that restores them
 * exactly (`packTimes`): a full ring's 2,880 bytes of times become a few dozen characters.
 */
export interface RingJSON {
  capacity: number;
  next: number;
  size: number;
  times: string;
  values: string;
  counts: string;
}

/** Slots a new ring allocates; it doubles them as it fills, up to its capacity. */
const INITIAL_SLOTS = 16;

/**
 * Recent samples of one series, newest overwriting oldest once full. The arrays grow with the samples
 * (a series seen for minutes does not hold hours of empty slots) and keep every sample in the slot it
 * would have in full-size arrays, so results never depend on how far they have grown.
 */
export class SampleRing {
  // Typed arrays keep a sample at 12–16 bytes; single precision is ample for values compared by rank.
  private times: Float64Array;
  private values: Float32Array;
  /** Null until a sample with a count arrives (latency and rate series never have one): reads give 0. */
  private counts: Float32Array | null = null;
  private next = 0;
  private size = 0;
  /** Indices of the samples ordered by value, built on demand and dropped on the next push. */
  private byValue: RankOrder | null = null;
  /** The bits of `values`, for sorting them as integers. */
  private bits: Uint32Array | null = null;

  /** An empty ring that keeps the last `capacity` samples. */
  constructor(readonly capacity: number) {
    this.times = new Float64Array(Math.min(capacity, INITIAL_SLOTS));
    this.values = new Float32Array(this.times.length);
  }

  /** Rebuilds a ring from `toJSON()` output; a malformed one restores empty rather than throwing. */
  static fromJSON(json: RingJSON): SampleRing {
    const ring = new SampleRing(Math.max(1, json.capacity));
    const valid = Number.isInteger(json.size) && json.size >= 0 && json.size <= ring.capacity && Number.isInteger(json.next) && json.next >= 0 && json.next < ring.capacity;
    if (!valid) return ring;
    // Slots written: all of them (a full ring, or one written before only used slots were), or the first `size`.
    const times: unknown = json.times;
    const written = typeof times === 'string' ? packedTimesLength(times) : Array.isArray(times) ? times.length : -1;
    const used = written === ring.capacity ? ring.capacity : json.size;
    if (used < json.size || (used < ring.capacity && json.next !== json.size)) return ring;
    ring.allocate(used);
    const fits =
      fillTimes(ring.times.subarray(0, used), json.times) &&
      fill(ring.values.subarray(0, used), json.values) &&
      (json.counts === '' || fill((ring.counts = new Float32Array(ring.times.length)).subarray(0, used), json.counts));
    if (!fits) return new SampleRing(ring.capacity);
    ring.next = json.next;
    ring.size = json.size;
    return ring;
  }

  /** Appends a sample; `count` is 0 when unknown. */
  push(time: number, value: number, count: number): void {
    if (this.next >= this.times.length) this.allocate(this.next + 1);
    this.times[this.next] = time;
    this.values[this.next] = value;
    if (count !== 0 || this.counts) (this.counts ??= new Float32Array(this.times.length))[this.next] = count;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    this.byValue = null;
  }

  /** Grows the arrays (doubling, up to `capacity`) to hold at least `slots` slots, keeping every sample in its slot. */
  private allocate(slots: number): void {
    let length = this.times.length;
    while (length < slots) length = Math.min(this.capacity, length * 2);
    if (length === this.times.length) return;
    const times = new Float64Array(length);
    times.set(this.times);
    const values = new Float32Array(length);
    values.set(this.values);
    this.times = times;
    this.values = values;
    if (this.counts) {
      const counts = new Float32Array(length);
      counts.set(this.counts);
      this.counts = counts;
    }
    this.bits = null;
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
    return this.counts ? this.counts[(this.next - this.size + this.capacity + i) % this.capacity]! : 0;
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
      if (time >= from && time < to) out.push({ time, value: this.values[at]!, count: this.counts ? this.counts[at]! : 0 });
    }
    return out;
  }

  /** The ring's samples and cursor, for checkpoints; `fromJSON` restores it exactly. */
  toJSON(): RingJSON {
    const used = this.size === this.capacity ? this.capacity : this.size;
    return {
      capacity: this.capacity,
      next: this.next,
      size: this.size,
      times: packTimes(this.times.subarray(0, used)),
      values: toBase64(this.values.subarray(0, used)),
      counts: this.counts ? toBase64(this.counts.subarray(0, used)) : '',
    };
  }

}

/** Marks times written as runs of equal steps. */
const RUNS_PREFIX = 'r:';

/**
 * Times as runs of equal steps: `r:` and the base64 of Float64 values [first time, then step and
 * repeat count of each run]. Used only when adding the steps back gives every time bit for bit (always,
 * for integer epoch milliseconds) and it is shorter; otherwise the times' own bytes in base64.
 */
export function packTimes(times: Float64Array): string {
  const runs: number[] = [times[0] ?? 0];
  for (let i = 1; i < times.length; i++) {
    const step = times[i]! - times[i - 1]!;
    // Not exact (fractional or huge times, NaN), or no shorter than the plain form: write that.
    if (times[i - 1]! + step !== times[i]! || runs.length >= times.length) return toBase64(times);
    if (runs.length > 1 && runs[runs.length - 2] === step) runs[runs.length - 1]!++;
    else runs.push(step, 1);
  }
  return times.length > 1 ? RUNS_PREFIX + toBase64(Float64Array.from(runs)) : toBase64(times);
}

/** How many times a `times` text holds (either form), or -1 when it is malformed. */
function packedTimesLength(packed: string): number {
  if (!packed.startsWith(RUNS_PREFIX)) return Buffer.from(packed, 'base64').length / Float64Array.BYTES_PER_ELEMENT;
  const runs = decodeRuns(packed);
  if (runs === null) return -1;
  let length = 1;
  for (let i = 2; i < runs.length; i += 2) length += runs[i]!;
  return length;
}

/** Copies times written by `packTimes` (or older plain forms) into `target`; false when they do not fit exactly. */
function fillTimes(target: Float64Array, packed: unknown): boolean {
  if (typeof packed !== 'string' || !packed.startsWith(RUNS_PREFIX)) return fill(target, packed);
  const runs = decodeRuns(packed);
  if (runs === null || packedTimesLength(packed) !== target.length) return false;
  let at = 0;
  target[at++] = runs[0]!;
  for (let i = 1; i < runs.length; i += 2) for (let n = 0; n < runs[i + 1]!; n++, at++) target[at] = target[at - 1]! + runs[i]!;
  return true;
}

/** The Float64 values of a runs text, or null when it is not one (odd layout, counts that are not whole). */
function decodeRuns(packed: string): Float64Array | null {
  const bytes = Buffer.from(packed.slice(RUNS_PREFIX.length), 'base64');
  if (bytes.length % 8 !== 0 || bytes.length === 0) return null;
  const runs = new Float64Array(bytes.length / 8);
  if (!fill(runs, packed.slice(RUNS_PREFIX.length))) return null;
  if (runs.length % 2 !== 1) return null;
  for (let i = 2; i < runs.length; i += 2) if (!Number.isInteger(runs[i]) || runs[i]! < 1) return null;
  return runs;
}

