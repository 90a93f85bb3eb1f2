// Entry of the fetch thread. A worker thread does not get the TypeScript loader its process was
// started with (`node --import tsx`, or vitest's), so this plain-JS file registers tsx first.
import { register } from 'tsx/esm/api';

register();
await import('./fetch-worker.ts');
