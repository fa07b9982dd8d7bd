import { ConfigError } from './config.js';

/**
 * Runs a command's main function: a configuration error prints one line and exits 78 (EX_CONFIG);
 * any other start-up failure prints its stack and exits 1.
 */
export function runEntryPoint(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}

/**
 * On the first SIGINT or SIGTERM, says so, runs `stop` (drain, then close what the command
 * opened), says `farewell` and exits 0; a second signal while stopping is ignored.
 */
export function stopOnSignals(say: (line: string) => void, stop: () => Promise<void>, farewell: string): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: draining requests and stopping…`);
    await stop();
    say(farewell);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
