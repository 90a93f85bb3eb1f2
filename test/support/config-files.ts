/**
 * Helpers for configuration tests: a YAML file in a temp dir, and the problems a refused config lists.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isChangewatchError } from '../../server/errors.ts';

/** Writes `text` to a fresh changewatch.yaml and returns its path. */
export function yamlFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cw-config-')), 'changewatch.yaml');
  writeFileSync(file, text);
  return file;
}

/** Runs `fn`, which must refuse the configuration, and returns every problem it listed. */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isChangewatchError(err, 'CW_CONFIG_INVALID')) return err.details!.problems as string[];
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}
