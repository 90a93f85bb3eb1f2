// The embedded database's own thread: PGlite (Postgres compiled to WebAssembly) runs here, so its
// computation never blocks the service's event loop. Plain JavaScript, because worker threads do not
// inherit the TypeScript loader in every runtime (tests, tsx, the bin). Protocol: see pglite-database.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const db = await PGlite.create(workerData.dataDir ?? undefined);

parentPort.on('message', async ({ id, op, sql, params }) => {
  try {
    if (op === 'query') {
      const result = await db.query(sql, params);
      parentPort.postMessage({ id, rows: result.rows });
    } else if (op === 'exec') {
      await db.exec(sql);
      parentPort.postMessage({ id });
    } else if (op === 'close') {
      await db.close();
      parentPort.postMessage({ id });
    }
  } catch (error) {
    // Only what toStoreError reads: the message, the SQLSTATE and the constraint (never the parameters).
    parentPort.postMessage({ id, error: { message: error?.message ?? String(error), code: error?.code, constraint: error?.constraint } });
  }
});
parentPort.postMessage({ ready: true });
