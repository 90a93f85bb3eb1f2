/**
 * Partition checkpoints in files, for the embedded setup (one instance: the data directory is locked
 * to one process). Each partition has an append-only log, `<dir>/<group>/<topic>.<partition>.log`,
 * of JSON lines: a save appends one line per changed series (`{"s":key,"v":state}`, the state's JSON
 * text as it is, so it is neither escaped on write nor parsed twice on load) and per forgotten
 * one (`{"d":key}`), then a commit line with its offset (`{"offset":"…"}`), and fsyncs; so a save costs
 * what changed, not what is tracked, and no line (or string) holds more than one series. Loading applies
 * the saves up to the last commit line; a torn tail (a crash mid-write) is ignored. A log with a torn
 * tail, or more than twice the size of the state it adds up to, is rewritten at load as one save (temp
 * file, fsync, rename), and a log that has grown well past its last compaction is compacted the same
 * way at a save.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { CheckpointStore, LegacyCheckpoint, PartitionSave, PartitionState } from './checkpoint.ts';

/** One line of a partition log, parsed: a series' state (its JSON text), a forgotten series, or the commit of a save. */
type LogLine = { s: string; v: string } | { d: string } | { offset: string };

/** How a series line starts; the state's JSON follows the key's after `","v":` and ends before the line's last `}`. */
const SERIES_LINE = '{"s":';
/** Ends the key of a series line: inside a JSON string every `"` is escaped, so this cannot occur in the key. */
const KEY_END = '","v":';

/** Text is written to a log in pieces of about this size, so no string grows with the save. */
const WRITE_CHUNK_CHARS = 4 * 1024 * 1024;

/**
 * A log is compacted when what was appended since its last compaction passes this many times the
 * compacted size (and at least `MIN_COMPACT_BYTES`): a log then holds at most a few copies of each
 * series, and compaction (which reads and rewrites the partition) runs once every few saves of it.
 */
const COMPACT_GROWTH = 3;
/** Logs smaller than this are never compacted at a save: rewriting them would cost more than it saves. */
const MIN_COMPACT_BYTES = 8 * 1024 * 1024;

/** Keeps the partition checkpoints of one consumer group under `dir`. */
export class FileCheckpointStore implements CheckpointStore {
  private readonly groupDir: string;
  private readonly legacyFile: string;
  /** Per log file: the offset last saved or loaded, its size after the last compaction, and bytes appended since. */
  private readonly logs = new Map<string, { offset: bigint; compactedBytes: number; appendedBytes: number }>();

  constructor(dir: string, group: string) {
    const safeGroup = safeName(group);
    this.groupDir = path.join(dir, safeGroup);
    this.legacyFile = path.join(dir, `checkpoint-${safeGroup}.json`);
    mkdirSync(this.groupDir, { recursive: true });
  }

  async loadPartition(topic: string, partition: number): Promise<PartitionState | undefined> {
    const file = this.logFile(topic, partition);
    if (!existsSync(file)) return undefined;
    const { offset, series, bytes, torn } = replay(file);
    if (offset === undefined) return undefined;
    // A torn tail must go before anything is appended; a log mostly of superseded saves is rewritten as the state it adds up to.
    const live = liveBytes(series);
    const compactedBytes = torn || bytes > 2 * live ? await writeCompacted(file, offset, series) : live;
    this.logs.set(file, { offset: BigInt(offset), compactedBytes, appendedBytes: 0 });
    return { offset, series: [...series.values()] };
  }

  async save(partitions: PartitionSave[]): Promise<{ behind: string[] }> {
    const behind: string[] = [];
    for (const save of partitions) {
      const file = this.logFile(save.topic, save.partition);
      const log = this.logs.get(file) ?? { offset: -1n, compactedBytes: 0, appendedBytes: 0 };
      if (BigInt(save.offset) < log.offset && !save.restart) {
        behind.push(`${save.topic}:${save.partition}`);
        continue;
      }
      log.appendedBytes += await writeSave(file, 'a', save.offset, save.upserts.map((u) => [u.key, u.state]), save.deletes);
      log.offset = BigInt(save.offset);
      if (log.appendedBytes > Math.max(MIN_COMPACT_BYTES, COMPACT_GROWTH * log.compactedBytes)) {
        const { offset, series } = replay(file);
        log.compactedBytes = await writeCompacted(file, offset!, series);
        log.appendedBytes = 0;
      }
      this.logs.set(file, log);
    }
    return { behind };
  }

  async loadLegacy(): Promise<LegacyCheckpoint | undefined> {
    if (readdirSync(this.groupDir).some((f) => f.endsWith('.log'))) return undefined;
    try {
      return JSON.parse(readFileSync(this.legacyFile, 'utf8')) as LegacyCheckpoint;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private logFile(topic: string, partition: number): string {
    return path.join(this.groupDir, `${safeName(topic)}.${partition}.log`);
  }
}

/**
 * Applies a log's saves in order: the last committed offset, the series left, how many
 * bytes it holds, and whether a torn (uncommitted or unparsable) tail followed the last commit.
 */
function replay(file: string): { offset: string | undefined; series: Map<string, string>; bytes: number; torn: boolean } {
  const series = new Map<string, string>();
  let offset: string | undefined;
  let bytes = 0;
  let pending: Array<Exclude<LogLine, { offset: string }>> = [];
  let broken = false;
  for (const raw of lines(file)) {
    bytes += Buffer.byteLength(raw) + 1;
    let line: LogLine;
    try {
      line = parseLine(raw);
    } catch {
      // Only a crash mid-append leaves a line that does not parse, and only at the end.
      broken = true;
      continue;
    }
    if (!('offset' in line)) {
      pending.push(line);
      continue;
    }
    for (const op of pending) {
      if ('d' in op) series.delete(op.d);
      else series.set(op.s, op.v);
    }
    pending = [];
    broken = false;
    offset = line.offset;
  }
  return { offset, series, bytes, torn: broken || pending.length > 0 };
}

/** About how many bytes `series` take as one save (their lines and a commit line). */
function liveBytes(series: Map<string, string>): number {
  let bytes = 32;
  for (const [key, state] of series) bytes += key.length + state.length + 16;
  return bytes;
}

/** The lines of `file`, read a megabyte at a time (a log can be larger than the largest string). */
function* lines(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    // The decoder holds back a character split between two reads until its last bytes arrive.
    const decoder = new StringDecoder('utf8');
    let carry = '';
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
      const text = carry + decoder.write(buffer.subarray(0, read));
      const parts = text.split('\n');
      carry = parts.pop()!;
      for (const part of parts) if (part) yield part;
    }
    // What is left is an unterminated (torn) line.
    carry += decoder.end();
    if (carry) yield carry;
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` by one save of `series` at `offset`, atomically; returns its size. */
async function writeCompacted(file: string, offset: string, series: Map<string, string>): Promise<number> {
  const temp = `${file}.tmp`;
  const bytes = await writeSave(temp, 'w', offset, series, []);
  await rename(temp, file);
  return bytes;
}

/**
 * Writes (`w`) or appends (`a`) one save, in pieces, and fsyncs; returns the bytes written. The
 * writes and the fsync run off the event loop (a save of 10,000 series is about 70 MB).
 */
async function writeSave(file: string, flags: 'w' | 'a', offset: string, upserts: Iterable<[string, string]>, deletes: readonly string[]): Promise<number> {
  const handle = await open(file, flags);
  let bytes = 0;
  let piece = '';
  const flush = async () => {
    if (!piece) return;
    // writeFile on a handle writes all of it from the current position (write may stop short).
    await handle.writeFile(piece);
    bytes += Buffer.byteLength(piece);
    piece = '';
  };
  const line = (entry: LogLine) => ('s' in entry ? `${SERIES_LINE}${JSON.stringify(entry.s)},"v":${entry.v}}\n` : `${JSON.stringify(entry)}\n`);
  try {
    for (const key of deletes) {
      piece += line({ d: key });
      if (piece.length >= WRITE_CHUNK_CHARS) await flush();
    }
    for (const [key, state] of upserts) {
      piece += line({ s: key, v: state });
      if (piece.length >= WRITE_CHUNK_CHARS) await flush();
    }
    piece += line({ offset });
    await flush();
    await handle.sync();
  } finally {
    await handle.close();
  }
  return bytes;
}

/**
 * One log line. A series line's state is taken as text, unparsed: it ends a line that was written
 * whole (a torn one is the log's tail, after the last commit, and its save is dropped), and the
 * pipeline parses it once when it restores the series.
 */
function parseLine(raw: string): LogLine {
  if (!raw.startsWith(SERIES_LINE)) return JSON.parse(raw) as LogLine;
  const keyEnd = raw.indexOf(KEY_END);
  if (keyEnd < 0 || !raw.endsWith('}')) throw new SyntaxError('a torn series line');
  return { s: JSON.parse(raw.slice(SERIES_LINE.length, keyEnd + 1)) as string, v: raw.slice(keyEnd + KEY_END.length, -1) };
}

/** A name safe as a file name. */
function safeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9._-]/g, '_');
}
