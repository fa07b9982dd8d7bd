import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createTokenVerifier, type VerifierOptions } from './auth/createTokenVerifier.js';
import { createDevTokens, devTokenLines } from './auth/devTokens.js';
import { loadConfig, type Config } from './config.js';
import { runEntryPoint } from './runEntryPoint.js';
import { DEMO_ARTISTS } from './embedded/demoData.js';
import { seedDemo } from './embedded/seedDemo.js';
import { startFerretdb, type RunningFerretdb } from './embedded/startFerretdb.js';
import { createMetricsServer } from './observability/createMetricsServer.js';
import { startTracing } from './observability/startTracing.js';
import { SUBGRAPH_EXAMPLES } from './playground/exampleOperations.js';
import { playgroundOptions } from './playground/playgroundOptions.js';
import { renderPlayground } from './playground/renderPlayground.js';
import { createServer } from './server.js';
import { createProjectionRepairer } from './store/createProjectionRepairer.js';
import { openStore } from './store/openStore.js';

/** loadConfig → database → store → server → listen; Ctrl-C or SIGTERM drains and stops everything. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  // Before anything else, so the first requests and database commands are traced too.
  const tracing = config.tracing === null ? null : startTracing(config.tracing);
  if (config.tracing !== null) say(`Tracing: OTLP/HTTP to ${config.tracing.endpoint} as ${config.tracing.serviceName}`);

  let ferretdb: RunningFerretdb | null = null;
  let uri: string;
  if (config.database.kind === 'embedded') {
    ferretdb = await startFerretdb({ dataDir: config.database.dataDir, log: say });
    uri = ferretdb.uri;
    say(`Embedded FerretDB at ${uri} (data in ${config.database.dataDir})`);
  } else {
    uri = config.database.uri;
  }

  const cache = config.cacheMaxSubjects > 0 ? { maxSubjects: config.cacheMaxSubjects, logger } : undefined;
  const store = await openStore({ uri, dbName: config.database.dbName, timeoutMs: config.dbTimeoutMs, cache }).catch(async (error: unknown) => {
    await ferretdb?.stop();
    throw error;
  });
  if (config.seedDemo) {
    const written = await seedDemo(store);
    say(`Demo data: ${DEMO_ARTISTS.length} artists (${written} new ledger events).`);
  }

  const { verifier, devSecret } = verifierFor(config);
  const devTokens = devSecret === null ? null : await createDevTokens(devSecret, config.auth.maxTokenAge);
  const server = await createServer({
    store,
    verifier,
    logger,
    maxRepresentations: config.maxRepresentations,
    maxCost: config.maxCost,
    maxResponseBytes: config.maxResponseBytes,
    introspection: config.introspection,
    executor: config.executor,
    knownOperationNames: config.metricsOperationNames,
    drainTimeoutMs: config.drainTimeoutMs,
    serveMetrics: config.metricsPort === null,
    gatewaySignatureSecret: config.requireGatewaySignature ? (config.gatewaySignatureSecret ?? undefined) : undefined,
    landingPage: config.landingPage ? renderPlayground(playgroundOptions('Consent subgraph', SUBGRAPH_EXAMPLES, devTokens?.write)) : undefined,
  });
  const url = await server.listen(config.port, config.host);
  say(`Consent subgraph ready at ${url}${config.landingPage ? ' (open it in a browser for the playground)' : ''}`);
  const metricsServer = config.metricsPort === null ? null : createMetricsServer(server.metrics.registry);
  if (metricsServer !== null) say(`Metrics at ${await metricsServer.listen(config.metricsPort!, config.host)}`);
  if (config.requireGatewaySignature) say('Only requests signed by the gateway are accepted (REQUIRE_GATEWAY_SIGNATURE).');
  if (devTokens !== null) devTokenLines(devTokens).forEach(say);

  // A repair sweep at start-up catches a writer that died between its ledger insert and its
  // projection write; the periodic one catches it while running.
  const repairer = createProjectionRepairer({ store, logger, intervalMs: config.repairIntervalMs });
  await repairer.start();
  await store.cache?.refresh();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: draining requests and stopping…`);
    await repairer.stop();
    await server.stop();
    await metricsServer?.stop();
    say('HTTP server stopped.');
    await tracing?.stop();
    await store.close();
    await ferretdb?.stop();
    say('Database stopped. Bye.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

function verifierFor(config: Config): { verifier: ReturnType<typeof createTokenVerifier>; devSecret: string | null } {
  if (config.auth.kind !== 'ephemeral') return { verifier: createTokenVerifier(config.auth as VerifierOptions), devSecret: null };
  const secret = randomBytes(32).toString('base64url');
  const { maxTokenAge, clockSkew } = config.auth;
  return { verifier: createTokenVerifier({ kind: 'secret', secret, maxTokenAge, clockSkew }), devSecret: secret };
}

runEntryPoint(main);
