/**
 * The import-boundary check `npm test` runs: it reads every source file's imports (TypeScript's own
 * pre-processor for .ts, the <script> blocks of .svelte files) and fails, listing each offence, when
 * a layer imports one it must not (docs/architecture.md draws the layers) or when files import each
 * other in a cycle. Run it alone with `node --import tsx scripts/check-imports.ts`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** One layer: the files it holds and the layers (and npm packages) its files may import. */
export interface Layer {
  name: string;
  /** Path prefixes (relative to the repository, forward slashes) of the layer's files. */
  holds: string[];
  /** Layers this layer may import besides itself. */
  mayImport: string[];
  /** npm packages (and `node:` built-ins) it may import; `*` for any. */
  packages: string[] | '*';
}

/**
 * The house, bottom up. The first layer whose prefix matches a file owns it, so the narrower
 * server layers come before the server's core.
 */
export const LAYERS: Layer[] = [
  // Types and constants everyone shares: imports nothing at all.
  { name: 'contract', holds: ['contract/'], mayImport: [], packages: [] },
  // Pure streaming detection and attribution.
  { name: 'detectors', holds: ['detectors/'], mayImport: ['contract'], packages: ['simple-statistics'] },
  // Edges: they decode and encode, and import the core, never each other.
  { name: 'edge:kafka', holds: ['server/ingest/'], mayImport: ['contract', 'detectors', 'server'], packages: '*' },
  { name: 'edge:http', holds: ['server/http/'], mayImport: ['contract', 'detectors', 'server'], packages: '*' },
  // Wires the edges to the core: the one place allowed to import every edge.
  { name: 'wiring', holds: ['server/service.ts', 'server/main.ts', 'server/cli.ts'], mayImport: ['contract', 'detectors', 'server', 'edge:kafka', 'edge:http'], packages: '*' },
  // The service's core: pipeline, alert stages, automation, store, config, errors.
  { name: 'server', holds: ['server/'], mayImport: ['contract', 'detectors'], packages: '*' },
  // The dashboard sees the contract only; it talks to the server over HTTP and socket.io.
  { name: 'web', holds: ['web/'], mayImport: ['contract'], packages: '*' },
  // Simulators, demo, benchmarks, tests and scripts may use anything.
  { name: 'tooling', holds: ['tooling/', 'bench/', 'test/', 'scripts/', 'bin/', 'vite.config.ts', 'vitest.config.ts'], mayImport: ['*'], packages: '*' },
];

/** An import that breaks the layering, or a cycle. */
export interface Offence {
  file: string;
  message: string;
}

const SOURCE = /\.(ts|mts|svelte)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'data', 'coverage']);

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(path.join(root, dir))) {
    if (SKIP_DIRS.has(entry)) continue;
    const rel = dir === '' ? entry : `${dir}/${entry}`;
    const stats = statSync(path.join(root, rel));
    if (stats.isDirectory()) walk(root, rel, out);
    else if (SOURCE.test(entry) && !entry.endsWith('.d.ts')) out.push(rel);
  }
}

/** The module specifiers a file imports (static, dynamic and type-only alike). */
export function importsOf(file: string, text: string): string[] {
  const code = file.endsWith('.svelte') ? [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n') : text;
  return ts.preProcessFile(code, true, true).importedFiles.map((f) => f.fileName);
}

function layerOf(file: string): Layer | undefined {
  return LAYERS.find((layer) => layer.holds.some((prefix) => file === prefix || file.startsWith(prefix)));
}

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return 'node:';
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

/** Checks the repository at `root`; returns every offence (empty when the house stands). */
export function checkImports(root: string): Offence[] {
  const files: string[] = [];
  for (const top of ['contract', 'detectors', 'server', 'web', 'tooling', 'bench', 'test', 'scripts']) {
    try {
      if (statSync(path.join(root, top)).isDirectory()) walk(root, top, files);
    } catch {
      // An absent top-level folder has nothing to check.
    }
  }
  const offences: Offence[] = [];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const layer = layerOf(file);
    if (layer === undefined) {
      offences.push({ file, message: 'belongs to no layer (add it to LAYERS in scripts/check-imports.ts)' });
      continue;
    }
    const edges: string[] = [];
    for (const specifier of importsOf(file, readFileSync(path.join(root, file), 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
        edges.push(target);
        const targetLayer = layerOf(target);
        if (targetLayer === undefined) continue;
        if (targetLayer !== layer && !layer.mayImport.includes('*') && !layer.mayImport.includes(targetLayer.name)) {
          offences.push({ file, message: `${layer.name} must not import ${targetLayer.name}: ${specifier}` });
        }
      } else if (layer.packages !== '*') {
        const pkg = packageName(specifier);
        if (!layer.packages.includes(pkg)) offences.push({ file, message: `${layer.name} must not import the package ${pkg}` });
      }
    }
    graph.set(file, edges);
  }
  for (const cycle of findCycles(graph)) offences.push({ file: cycle[0] as string, message: `import cycle: ${cycle.join(' → ')}` });
  for (const cycle of findCycles(folderGraph(graph))) {
    // A cycle of single files only is the file cycle already reported above.
    if (cycle.some((unit) => !SOURCE.test(unit))) offences.push({ file: cycle[0] as string, message: `folder cycle: ${cycle.join(' → ')}` });
  }
  return offences;
}

/** Layers whose folders must not import each other in a cycle (tooling and tests may). */
const FOLDER_CHECKED = new Set(['contract', 'detectors', 'edge:kafka', 'edge:http', 'wiring', 'server', 'web']);

/**
 * The unit a file counts towards in the folder-cycle check: its second-level folder
 * (`server/alerts`, `detectors/attribution`), or the file itself when it sits directly in a top
 * folder (`server/core.ts`, `server/errors.ts` are units of their own).
 */
export function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : file;
}

/** The file graph collapsed to folders, without self-edges, for the folder-cycle check. */
function folderGraph(graph: Map<string, string[]>): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    if (!FOLDER_CHECKED.has(layerOf(file)?.name ?? '')) continue;
    const from = folderOf(file);
    const edges = folders.get(from) ?? new Set<string>();
    folders.set(from, edges);
    for (const target of targets) {
      const layer = layerOf(target)?.name ?? '';
      if (FOLDER_CHECKED.has(layer) && graph.has(target) && folderOf(target) !== from) edges.add(folderOf(target));
    }
  }
  return new Map([...folders].map(([folder, edges]) => [folder, [...edges].sort()]));
}

/** Every elementary cycle's first sighting in a depth-first walk (each reported once, as a path back to its start). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const seen = state.get(next);
      if (seen === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (seen === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const offences = checkImports(root);
  for (const { file, message } of offences) console.error(`${file}: ${message}`);
  if (offences.length > 0) {
    console.error(`import check: ${offences.length} offence(s); docs/architecture.md draws the layers`);
    process.exit(1);
  }
  console.log('import check: layers and cycles clean');
}
