/**
 * A checkpoint store in one JSON file, written atomically (temp file, fsync, rename), so a crash
 * mid-write leaves the previous checkpoint intact.
 */
import { mkdirSync, openSync, readFileSync, renameSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { Checkpoint, CheckpointStore } from './checkpoint.ts';

/** Keeps the latest checkpoint of one consumer group in `<dir>/checkpoint-<group>.json`. */
export class FileCheckpointStore implements CheckpointStore {
  private readonly file: string;

  constructor(dir: string, group: string) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `checkpoint-${group.replace(/[^a-zA-Z0-9._-]/g, '_')}.json`);
  }

  async load(): Promise<Checkpoint | undefined> {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Checkpoint;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    const temp = `${this.file}.tmp`;
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, JSON.stringify(checkpoint));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }
}
