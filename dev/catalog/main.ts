import { intVar } from '../../src/config.js';
import { runEntryPoint } from '../../src/runEntryPoint.js';
import { DEMO_CATALOG, startCatalogSubgraph } from './startCatalogSubgraph.js';

/** Reads the demo catalog's listen address: HOST, PORT (default 4002). */
export function loadCatalogConfig(env: NodeJS.ProcessEnv = process.env): { readonly host: string; readonly port: number } {
  return Object.freeze({ host: env.HOST ?? '127.0.0.1', port: intVar(env, 'PORT', 4002, 0, 65535) });
}

/** The demo catalog subgraph as a service (docker/): serves the demo artists and tracks on HOST:PORT. */
async function main(): Promise<void> {
  const config = loadCatalogConfig();
  const catalog = await startCatalogSubgraph(DEMO_CATALOG, config);
  process.stdout.write(`Demo catalog subgraph ready at ${catalog.url}\n`);
  const shutdown = () => void catalog.stop().finally(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

runEntryPoint(main);
