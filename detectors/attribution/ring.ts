/**
 * A fixed-capacity ring of recent samples (time, value, count): O(1) append, bounded memory, plain JSON.
 */

/** One sample; `count` is 0 when unknown. */
export interface Sample {
  time: number;
  value: number;
  count: number;
}

/** A ring's serialized form, oldest sample first. */
export interface RingJSON {
  capacity: number;
  times: number[];
  values: number[];
  counts: number[];
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

  /** Rebuilds a ring from `toJSON()` output. */
  static fromJSON(json: RingJSON): SampleRing {
    const ring = new SampleRing(Math.max(1, json.capacity));
    json.times.forEach((time, i) => ring.push(time, json.values[i] ?? 0, json.counts[i] ?? 0));
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

  /** The samples oldest first, for checkpoints. */
  toJSON(): RingJSON {
    const json: RingJSON = { capacity: this.capacity, times: [], values: [], counts: [] };
    this.forEachBetween(-Infinity, Infinity, (value, count, time) => {
      json.times.push(time);
      json.values.push(value);
      json.counts.push(count);
    });
    return json;
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
