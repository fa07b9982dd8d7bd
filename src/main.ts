import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createTokenVerifier, type VerifierOptions } from './auth/createTokenVerifier.js';
import { signToken } from './auth/signToken.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DEMO_ARTISTS } from './embedded/demoData.js';
import { seedDemo } from './embedded/seedDemo.js';
import { startFerretdb, type RunningFerretdb } from './embedded/startFerretdb.js';
import { createServer } from './server.js';
import { openStore } from './store/openStore.js';

/** loadConfig → database → store → server → listen; Ctrl-C or SIGTERM drains and stops everything. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  const say = (line: string) => process.stdout.write(`${line}\n`);

  let ferretdb: RunningFerretdb | null = null;
  let uri: string;
  if (config.database.kind === 'embedded') {
    ferretdb = await startFerretdb({ dataDir: config.database.dataDir, log: say });
    uri = ferretdb.uri;
    say(`Embedded FerretDB at ${uri} (data in ${config.database.dataDir})`);
  } else {
    uri = config.database.uri;
  }

  const store = await openStore({ uri, dbName: config.database.dbName, timeoutMs: config.dbTimeoutMs }).catch(async (error: unknown) => {
    await ferretdb?.stop();
    throw error;
  });
  if (config.seedDemo) {
    const written = await seedDemo(store);
    say(`Demo data: ${DEMO_ARTISTS.length} artists (${written} new ledger events).`);
  }

  const { verifier, devSecret } = verifierFor(config);
  const server = await createServer({ store, verifier, logger, maxRepresentations: config.maxRepresentations });
  const url = await server.listen(config.port, config.host);
  say(`Consent subgraph ready at ${url}`);
  if (devSecret !== null) await printDevTokens(devSecret, say);

  // A repair sweep at start-up catches a writer that died between its ledger insert and its
  // projection write; the periodic one catches it while running.
  let since = 0;
  const sweep = async () => {
    try {
      const { lastGseq, repaired } = await store.repairProjections(since);
      since = lastGseq;
      if (repaired.length > 0) logger.warn({ repaired }, 'repaired projections behind the ledger');
    } catch (error) {
      logger.warn({ err: error }, 'projection repair sweep failed; will retry');
    }
  };
  await sweep();
  const timer = setInterval(sweep, 5000);
  timer.unref();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: draining requests and stopping…`);
    clearInterval(timer);
    await server.stop();
    say('HTTP server stopped.');
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
  return { verifier: createTokenVerifier({ kind: 'secret', secret }), devSecret: secret };
}

async function printDevTokens(secret: string, say: (line: string) => void): Promise<void> {
  const artist = DEMO_ARTISTS[0]!.id;
  say('');
  say('Development tokens (ephemeral secret, valid 12 h; send as "Authorization: Bearer <token>"):');
  say(`  read  (a service):          ${await signToken(secret, { sub: 'dev-service', scope: 'consent:read' })}`);
  say(`  write (artist ${artist}): ${await signToken(secret, { sub: 'dev-artist', scope: 'consent:read consent:write', artist_ids: [artist] })}`);
  say(`  admin (support):            ${await signToken(secret, { sub: 'dev-admin', scope: 'consent:read consent:admin' })}`);
  say('');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
