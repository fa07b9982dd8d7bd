import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createAttestationKeys } from './attestationKeys.js';
import { createTokenVerifier, type TokenVerifier, type VerifierOptions } from './auth/createTokenVerifier.js';
import { createDevTokens, devTokenLines } from './auth/devTokens.js';
import { ConfigError, type Config } from './config.js';
import { createMetricsServer } from './observability/createMetricsServer.js';
import { startTracing } from './observability/startTracing.js';
import { playgroundOptions } from './playground/playgroundOptions.js';
import { renderPlayground } from './playground/renderPlayground.js';
import { createServer } from './server.js';
import type { ConsentStore } from './store/ConsentStore.js';
import { DEFAULT_GATHER } from './store/LedgerWriter.js';
import { createProjectionRepairer } from './store/createProjectionRepairer.js';
import { openStore } from './store/openStore.js';

/** What a caller may add to a start: data to seed, its own landing page, where lines go. */
export interface ServiceOptions {
  /** Runs once the store is open, before the server listens (the local harness seeds demo data here). */
  readonly seed?: (store: ConsentStore) => Promise<void>;
  /**
   * The landing page HTML, given the development write token when the auth is ephemeral; used when
   * LANDING_PAGE is on. @default a playground with no example tabs
   */
  readonly landingPage?: (devToken: string | undefined) => string;
  /** The artist the development write token may change (ephemeral auth only). @default 'dev-artist' */
  readonly devTokenArtistId?: string;
  /** Operation names that get their own metric label besides METRICS_OPERATION_NAMES (the harness's playground examples). @default none */
  readonly knownOperationNames?: readonly string[];
  /** Where start-up and shutdown lines go. @default standard output */
  readonly log?: (line: string) => void;
}

/** A running consent subgraph. */
export interface RunningService {
  /** The GraphQL endpoint. */
  readonly url: string;
  readonly store: ConsentStore;
  /** Stops repair sweeps, drains and stops the HTTP servers, then tracing and the database connection. */
  stop(): Promise<void>;
}

/** openStore → createServer → listen → repair sweeps, as `config` says; the database must already be reachable at `config.database.uri`. */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<RunningService> {
  const say = options.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
  if (config.database.uri === null) throw new ConfigError('MONGODB_URI is not set: run `npm start` for the embedded database, or set it.');
  const logger = pino({ level: config.logLevel });
  // Before anything else, so the first requests and database commands are traced too.
  const tracing = config.tracing === null ? null : startTracing(config.tracing);
  if (config.tracing !== null) say(`Tracing: OTLP/HTTP to ${config.tracing.endpoint} as ${config.tracing.serviceName}`);

  const cache = config.cacheMaxSubjects > 0 ? { maxSubjects: config.cacheMaxSubjects, logger } : undefined;
  const gather = { ...DEFAULT_GATHER, windowMs: config.writeGatherMs };
  const store = await openStore({ uri: config.database.uri, dbName: config.database.dbName, timeoutMs: config.dbTimeoutMs, cache, gather, logger });
  try {
    await options.seed?.(store);
  } catch (error) {
    await store.close();
    throw error;
  }

  const { verifier, devSecret } = verifierFor(config);
  const devTokens = devSecret === null ? null : await createDevTokens(devSecret, options.devTokenArtistId ?? 'dev-artist', config.auth.maxTokenAge);
  const renderLandingPage = options.landingPage ?? ((token) => renderPlayground(playgroundOptions('Consent subgraph', [], token)));
  // Without a configured key (development and test only; config.ts refuses that in production)
  // the server makes an ephemeral one: its attestations verify only while this process runs.
  const attestationKeys = config.attestation.privateJwk === null ? undefined : await createAttestationKeys(config.attestation.privateJwk, config.attestation.retiredJwks);
  const server = await createServer({
    attestationKeys,
    store,
    verifier,
    logger,
    maxRepresentations: config.maxRepresentations,
    maxCost: config.maxCost,
    maxResponseBytes: config.maxResponseBytes,
    introspection: config.introspection,
    executor: config.executor,
    knownOperationNames: [...config.metricsOperationNames, ...(options.knownOperationNames ?? [])],
    drainTimeoutMs: config.drainTimeoutMs,
    serveMetrics: config.metricsPort === null,
    gatewaySignatureSecret: config.requireGatewaySignature ? (config.gatewaySignatureSecret ?? undefined) : undefined,
    landingPage: config.landingPage ? renderLandingPage(devTokens?.write) : undefined,
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

  return {
    url,
    store,
    stop: async () => {
      await repairer.stop();
      await server.stop();
      await metricsServer?.stop();
      say('HTTP server stopped.');
      await tracing?.stop();
      await store.close();
    },
  };
}

// Ephemeral auth (development without keys) verifies with a secret made here, so the dev tokens
// printed at start-up are the only ones that work.
function verifierFor(config: Config): { verifier: TokenVerifier; devSecret: string | null } {
  if (config.auth.kind !== 'ephemeral') return { verifier: createTokenVerifier(config.auth as VerifierOptions), devSecret: null };
  const secret = randomBytes(32).toString('base64url');
  const { maxTokenAge, clockSkew } = config.auth;
  return { verifier: createTokenVerifier({ kind: 'secret', secret, maxTokenAge, clockSkew }), devSecret: secret };
}
