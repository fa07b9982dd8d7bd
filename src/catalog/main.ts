import { loadCatalogConfig } from '../config.js';
import { runEntryPoint } from '../runEntryPoint.js';
import { DEMO_CATALOG, startCatalogSubgraph } from './startCatalogSubgraph.js';

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
