import { readFile } from 'node:fs/promises';
import { ConfigError } from '../src/config.js';
import { playgroundOptions } from '../src/playground/playgroundOptions.js';
import { runEntryPoint } from '../src/runEntryPoint.js';
import { loadGatewayConfig } from './config.js';
import { createGateway } from './createGateway.js';
import { serveGateway } from './serveGateway.js';

/**
 * The production gateway (docker/): composes the consent and catalog SDL files shipped with it
 * (CONSENT_SDL_FILE, CATALOG_SDL_FILE) with the routing URLs from CONSENT_URL / CATALOG_URL, and
 * serves Hive Gateway on HOST:PORT.
 */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const [consentSdl, catalogSdl] = await Promise.all([
    readSdl('CONSENT_SDL_FILE', config.consentSdlFile),
    readSdl('CATALOG_SDL_FILE', config.catalogSdlFile),
  ]);
  const gateway = createGateway({
    subgraphs: [
      { name: 'catalog', url: config.catalogUrl, sdl: catalogSdl },
      { name: 'consent', url: config.consentUrl, sdl: consentSdl },
    ],
    auth: config.auth,
    hmacSecret: config.gatewaySignatureSecret ?? undefined,
    maxCost: config.maxCost,
    // No example tabs (they name demo data) and never a token in a production page: users paste their own.
    playground: config.landingPage ? playgroundOptions('Consent supergraph', []) : false,
    logLevel: config.logLevel,
  });
  const running = await serveGateway(gateway, config.port, config.host);
  process.stdout.write(`Hive Gateway ready at ${running.url} (upstream requests ${config.gatewaySignatureSecret ? 'signed' : 'unsigned'})\n`);
  const shutdown = () => void running.stop().finally(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

// A missing SDL file is a deployment mistake: one line naming the variable, not a stack trace.
async function readSdl(variable: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${variable} must name a readable SDL file, but reading ${JSON.stringify(path)} failed: ${(error as Error).message}`);
  }
}

runEntryPoint(main);
