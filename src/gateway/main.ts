import { loadGatewayConfig } from '../config.js';
import { runEntryPoint } from '../runEntryPoint.js';
import { CATALOG_SDL } from '../catalog/startCatalogSubgraph.js';
import { GATEWAY_EXAMPLES } from '../playground/exampleOperations.js';
import { playgroundOptions } from '../playground/playgroundOptions.js';
import { CONSENT_SDL } from '../schema.js';
import { createGateway } from './createGateway.js';
import { serveGateway } from './serveGateway.js';

/**
 * The production gateway (docker/): composes the consent and catalog SDLs shipped in the image
 * with the routing URLs from CONSENT_URL / CATALOG_URL, and serves Hive Gateway on HOST:PORT.
 */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const gateway = createGateway({
    subgraphs: [
      { name: 'catalog', url: config.catalogUrl, sdl: CATALOG_SDL },
      { name: 'consent', url: config.consentUrl, sdl: CONSENT_SDL },
    ],
    auth: config.auth,
    hmacSecret: config.gatewaySignatureSecret ?? undefined,
    maxCost: config.maxCost,
    // Never a token in a production page: users paste their own.
    playground: config.landingPage ? playgroundOptions('Consent supergraph', GATEWAY_EXAMPLES) : false,
    logLevel: config.logLevel,
  });
  const running = await serveGateway(gateway, config.port, config.host);
  process.stdout.write(`Hive Gateway ready at ${running.url} (upstream requests ${config.gatewaySignatureSecret ? 'signed' : 'unsigned'})\n`);
  const shutdown = () => void running.stop().finally(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

runEntryPoint(main);
