/**
 * Loads the dashboard's rune-based `.svelte.ts` modules in Node for unit tests. vitest here runs
 * without the Svelte plugin, so this compiles them on the fly with Vite and the Svelte plugin, in
 * client mode (real `$state`/`$derived` signals, exactly as in the browser), through a module runner.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createServer, createServerModuleRunner, type ViteDevServer } from 'vite';
import type { ModuleRunner } from 'vite/module-runner';

const webRoot = fileURLToPath(new URL('../../../web', import.meta.url));

/** A loader for modules under web/, to be closed after the tests. */
export interface RuneModuleLoader {
  /** Imports a module by its path under web/, e.g. `/src/lib/state/alert-feed.svelte.ts`. */
  load<T>(pathUnderWeb: string): Promise<T>;
  close(): Promise<void>;
}

/** Starts a Vite dev server in middleware mode (no port, no HMR) to compile rune modules. */
export async function createRuneModuleLoader(): Promise<RuneModuleLoader> {
  // A private dependency cache, so concurrent test runs never rewrite each other's (or node_modules/.vite).
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'changewatch-web-vite-'));
  const server: ViteDevServer = await createServer({
    configFile: false,
    root: webRoot,
    cacheDir,
    logLevel: 'error',
    plugins: [
      svelte({
        configFile: false,
        compilerOptions: { runes: true },
        // Node runs these modules through Vite's server environment, which would otherwise compile them
        // for server-side rendering, where runes are plain values without reactivity.
        dynamicCompileOptions: () => ({ generate: 'client' }),
      }),
    ],
    server: { middlewareMode: true, hmr: false, ws: false },
  });
  const runner: ModuleRunner = createServerModuleRunner(server.environments.ssr, { hmr: false });
  return {
    load: <T>(pathUnderWeb: string) => runner.import(pathUnderWeb) as Promise<T>,
    close: async () => {
      await runner.close();
      await server.close();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}
