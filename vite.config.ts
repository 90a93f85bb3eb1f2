/**
 * Vite build and dev server for the dashboard in web/: the server serves the built web/dist at `/`;
 * `npx vite` serves the dashboard with hot reload and proxies the API and socket.io to a running server.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

/** Where `npm start` listens by default; the dev server forwards API and socket.io traffic there. */
const serverOrigin = 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  // Options live here rather than in a svelte.config.js; runes mode is enforced for every component.
  plugins: [svelte({ configFile: false, compilerOptions: { runes: true } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      // Slow-plugin warnings only reflect a busy machine here; they would clutter every `npm start`.
      checks: { bundlerTimings: false },
    },
  },
  server: {
    proxy: {
      '/api': { target: serverOrigin },
      '/socket.io': { target: serverOrigin, ws: true },
    },
  },
});
