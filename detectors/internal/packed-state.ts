/**
 * Compact, exact serialization of a detector's typed-array state: each array is written as the base64
 * text of its bytes, about 1.4 characters per byte instead of up to 20 characters per number printed as
 * decimal text. Restoring copies the bytes back, so the state is bit-for-bit the same.
 *
 * Checkpoints written before this format (plain arrays of numbers) still restore, so a deploy does not
 * throw away every series' learned history.
 */

/** Serialized typed-array state: the little-endian bytes of each array in base64. */
export interface PackedState {
  scalars: string;
  cells: string;
}

/** Writes the Float64 scalars and Float32 cells of a detector as base64 text. */
export function packState(scalars: Float64Array, cells: Float32Array): PackedState {
  return { scalars: toBase64(scalars), cells: toBase64(cells) };
}

/**
 * Copies serialized state into `scalars` and `cells`; returns false, leaving them unspecified, when the
 * state does not have exactly their layout. Accepts base64 text and the older arrays of numbers.
 */
export function unpackState(state: unknown, scalars: Float64Array, cells: Float32Array): boolean {
  if (typeof state !== 'object' || state === null) return false;
  const { scalars: packedScalars, cells: packedCells } = state as Record<string, unknown>;
  return fill(scalars, packedScalars) && fill(cells, packedCells);
}

/** The little-endian bytes of a typed array as base64 text. */
export function toBase64(array: Float64Array | Float32Array): string {
  return littleEndianBytes(array).toString('base64');
}

/** Copies base64 text (or a plain array of numbers) of exactly `target`'s length into it; false when it does not fit. */
export function fill(target: Float64Array | Float32Array, packed: unknown): boolean {
  if (Array.isArray(packed)) {
    if (packed.length !== target.length) return false;
    target.set(packed as number[]);
    return true;
  }
  if (typeof packed !== 'string') return false;
  const bytes = Buffer.from(packed, 'base64');
  if (bytes.length !== target.byteLength) return false;
  if (!HOST_IS_LITTLE_ENDIAN) swapEach(bytes, target.BYTES_PER_ELEMENT);
  new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes);
  return true;
}

/** Typed arrays use the host's byte order; the serialized form is always little-endian. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(array: Float64Array | Float32Array): Buffer {
  const view = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  if (HOST_IS_LITTLE_ENDIAN) return view;
  const copy = Buffer.from(view);
  swapEach(copy, array.BYTES_PER_ELEMENT);
  return copy;
}

function swapEach(bytes: Buffer, size: number): void {
  if (size === 8) bytes.swap64();
  else bytes.swap32();
}
