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
