import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGateway } from '../gateway/createGateway.js';
import { serveGateway, type RunningGateway } from '../gateway/serveGateway.js';
import { createDevTokens, devTokenLines } from '../src/auth/devTokens.js';
import { playgroundOptions } from '../src/playground/playgroundOptions.js';
import { runEntryPoint } from '../src/runEntryPoint.js';
import { CATALOG_SDL, DEMO_CATALOG, startCatalogSubgraph } from './catalog/startCatalogSubgraph.js';
import { DEMO_ARTISTS } from './demo/demoData.js';
import { GATEWAY_EXAMPLES } from './demo/exampleOperations.js';
import { freePort } from './embedded/startFerretdb.js';
import { stopProcess } from './embedded/stopProcess.js';

// The gateway composes the contract file, as the production gateway does (gateway/main.ts).
const CONSENT_SDL = readFileSync(new URL('../schema/consent.graphql', import.meta.url), 'utf8');

// `npm run supergraph`: the whole federated graph on loopback, for development. The consent
// subgraph runs exactly as `npm start` runs it (dev/start.ts in a child process: embedded FerretDB,
// demo data, repair sweeps), told to verify tokens with a secret shared with the gateway and to
// accept only gateway-signed requests; the demo catalog and Hive Gateway run in this process.

const GATEWAY_PORT = 4000;
const say = (line: string) => process.stdout.write(`${line}\n`);

/** Starts subgraph, catalog and gateway; Ctrl-C stops them in reverse order. */
async function supergraph(): Promise<void> {
  // One ephemeral secret for tokens and one for request signing, shared by gateway and subgraph.
  const jwtSecret = randomBytes(32).toString('base64url');
  const signingSecret = randomBytes(32).toString('base64url');

  const consentPort = await freePort();
  const consent = startConsentSubgraph(consentPort, jwtSecret, signingSecret);
  const stopConsent = () => stopProcess(consent, 15_000);
  try {
    await waitUntilReady(consent, `http://127.0.0.1:${consentPort}/health/ready`);
  } catch (error) {
    await stopConsent();
    throw error;
  }

  const catalog = await startCatalogSubgraph(DEMO_CATALOG);
  const tokens = await createDevTokens(jwtSecret, DEMO_ARTISTS[0]!.id);
  const gateway = createGateway({
    subgraphs: [
      { name: 'catalog', url: catalog.url, sdl: CATALOG_SDL },
      { name: 'consent', url: `http://127.0.0.1:${consentPort}/graphql`, sdl: CONSENT_SDL },
    ],
    auth: { kind: 'secret', secret: jwtSecret },
    hmacSecret: signingSecret,
    playground: playgroundOptions('Consent supergraph', GATEWAY_EXAMPLES, tokens.write),
    logLevel: 'warn',
  });
  const running = await serveOnPreferredPort(gateway);

  say('');
  say(`Demo catalog subgraph at ${catalog.url}`);
  say(`Hive Gateway ready at ${running.url} — open it in a browser for the playground (dev token filled in).`);
  devTokenLines(tokens).forEach(say);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping gateway, catalog and consent subgraph…`);
    await running.stop();
    await catalog.stop();
    await stopConsent();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  consent.once('exit', (code) => {
    if (stopping) return;
    process.stderr.write(`The consent subgraph exited (code ${code}); stopping.\n`);
    void running.stop().then(() => catalog.stop()).finally(() => process.exit(1));
  });
}

// dev/start.ts under tsx when run from source, dist/dev/start.js when compiled.
function startConsentSubgraph(port: number, jwtSecret: string, signingSecret: string): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './start.ts' : './start.js', import.meta.url));
  // The dev tokens carry no issuer or audience, so the child must not require them either.
  const { AUTH_JWKS_URL: _jwks, AUTH_ISSUER: _issuer, AUTH_AUDIENCE: _audience, ...inherited } = process.env;
  const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), entry], {
    env: {
      ...inherited,
      HOST: '127.0.0.1',
      PORT: String(port),
      AUTH_JWT_SECRET: jwtSecret,
      GATEWAY_SIGNATURE_SECRET: signingSecret,
      REQUIRE_GATEWAY_SIGNATURE: 'true',
      // Unsigned requests are refused, so the subgraph's own playground could not run anything.
      LANDING_PAGE: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) => chunk.toString().replace(/^(?=.)/gm, '[consent] ');
  child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  return child;
}

// No deadline: the first run builds FerretDB from source, which takes minutes.
async function waitUntilReady(child: ChildProcess, url: string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the consent subgraph exited (code ${child.exitCode ?? child.signalCode}) before it was ready`);
    const ready = await fetch(url).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function serveOnPreferredPort(gateway: ReturnType<typeof createGateway>): Promise<RunningGateway> {
  try {
    return await serveGateway(gateway, GATEWAY_PORT, '127.0.0.1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    say(`Port ${GATEWAY_PORT} is taken; using a free port for the gateway.`);
    return serveGateway(gateway, 0, '127.0.0.1');
  }
}

runEntryPoint(supergraph);
