import { ConfigError, loadConfig } from './config.js';
import { runEntryPoint, stopOnSignals } from './runEntryPoint.js';
import { startService } from './service.js';

/** The production entry: loadConfig → startService on MONGODB_URI; Ctrl-C or SIGTERM drains and stops everything. */
async function main(): Promise<void> {
  const config = loadConfig();
  // The service never starts a database of its own: that is the local harness's job (dev/start.ts).
  if (config.database.uri === null) throw new ConfigError('MONGODB_URI is not set: run `npm start` for the embedded database, or set it.');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const service = await startService(config, { log: say });
  stopOnSignals(say, () => service.stop(), 'Database connection closed. Bye.');
}

runEntryPoint(main);
