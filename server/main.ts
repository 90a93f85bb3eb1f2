/**
 * `npm start`: loads the configuration (failing with every problem listed) and runs the service
 * until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config.ts';
import { isChangewatchError } from './errors.ts';
import { createLogger } from './log.ts';
import { startService } from './service.ts';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } }, strict: true });

let config: Config;
try {
  config = loadConfig({ ...(values.config ? { file: values.config } : {}), env: process.env });
} catch (err) {
  if (!isChangewatchError(err, 'CW_CONFIG_INVALID')) throw err;
  process.stderr.write(`changewatch: ${err.message}\n`);
  process.exit(1);
}

const log = createLogger(config.log.level);
const service = await startService(config, log);
log.info({ dashboard: service.url }, 'changewatch is running');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  });
}
