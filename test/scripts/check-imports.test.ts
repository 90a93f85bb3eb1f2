import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkImports, folderOf } from '../../scripts/check-imports.ts';

let root: string | undefined;

/** A throwaway repository holding the given files. */
function repo(files: Record<string, string>): string {
  root = mkdtempSync(path.join(tmpdir(), 'cw-imports-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

describe('the import-boundary check', () => {
  it('passes the repository itself', () => {
    expect(checkImports(path.resolve(import.meta.dirname, '../..'))).toEqual([]);
  });

  it('refuses a detector importing the server, the contract importing a package, and web importing detectors', () => {
    const offences = checkImports(
      repo({
        'contract/a.ts': "import { z } from 'zod';\nexport const a = z;\n",
        'detectors/d.ts': "import { x } from '../server/x.ts';\nexport const d = x;\n",
        'server/x.ts': 'export const x = 1;\n',
        'web/src/App.svelte': "<script lang=\"ts\">\n  import { d } from '../../detectors/d.ts';\n</script>\n",
      }),
    );
    expect(offences.map((o) => `${o.file}: ${o.message}`)).toEqual([
      'contract/a.ts: contract must not import the package zod',
      'detectors/d.ts: detectors must not import server: ../server/x.ts',
      'web/src/App.svelte: web must not import detectors: ../../detectors/d.ts',
    ]);
  });

  it('refuses edges importing each other', () => {
    const offences = checkImports(repo({ 'server/http/app.ts': "import '../ingest/k.ts';\n", 'server/ingest/k.ts': 'export {};\n' }));
    expect(offences.map((o) => o.message)).toEqual(['edge:http must not import edge:kafka: ../ingest/k.ts']);
  });

  it('finds file cycles and folder cycles', () => {
    const offences = checkImports(
      repo({
        'server/a.ts': "import './b.ts';\n",
        'server/b.ts': "import './a.ts';\n",
        'server/alerts/r.ts': "import '../store/s.ts';\n",
        'server/store/s.ts': "import type { T } from '../alerts/t.ts';\n",
        'server/alerts/t.ts': 'export type T = 1;\n',
      }),
    );
    expect(offences.map((o) => o.message)).toEqual(['import cycle: server/a.ts → server/b.ts → server/a.ts', 'folder cycle: server/alerts → server/store → server/alerts']);
  });

  it('counts files directly in a top folder as units of their own', () => {
    expect(folderOf('server/core.ts')).toBe('server/core.ts');
    expect(folderOf('server/alerts/stages/mute.ts')).toBe('server/alerts');
  });
});
