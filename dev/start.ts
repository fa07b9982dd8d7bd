import { loadConfig } from '../src/config.js';
import { playgroundOptions } from '../src/playground/playgroundOptions.js';
import { renderPlayground } from '../src/playground/renderPlayground.js';
import { runEntryPoint, stopOnSignals } from '../src/runEntryPoint.js';
import { startService } from '../src/service.js';
import { loadDevConfig } from './config.js';
import { DEMO_ARTISTS } from './demo/demoData.js';
import { EXAMPLE_OPERATION_NAMES, SUBGRAPH_EXAMPLES } from './demo/exampleOperations.js';
import { seedDemo } from './demo/seedDemo.js';
import { startFerretdb, type RunningFerretdb } from './embedded/startFerretdb.js';

/**
 * `npm start`: the consent subgraph for local use. Without MONGODB_URI it starts an embedded
 * FerretDB first; it seeds the demo data (SEED_DEMO), serves the playground with the demo examples
 * and prints development tokens. Ctrl-C or SIGTERM drains and stops everything, FerretDB last.
 */
async function start(): Promise<void> {
  const config = loadConfig();
  const dev = loadDevConfig();
  const say = (line: string) => process.stdout.write(`${line}\n`);

  let ferretdb: RunningFerretdb | null = null;
  let uri = config.database.uri;
  if (uri === null) {
    ferretdb = await startFerretdb({ dataDir: dev.ferretdbDataDir, log: say });
    uri = ferretdb.uri;
    say(`Embedded FerretDB at ${uri} (data in ${dev.ferretdbDataDir})`);
  }

  const service = await startService(
    { ...config, database: { ...config.database, uri } },
    {
      log: say,
      seed: dev.seedDemo
        ? async (store) => {
            const written = await seedDemo(store);
            say(`Demo data: ${DEMO_ARTISTS.length} artists (${written} new ledger events).`);
          }
        : undefined,
      landingPage: (token) => renderPlayground(playgroundOptions('Consent subgraph', SUBGRAPH_EXAMPLES, token)),
      devTokenArtistId: DEMO_ARTISTS[0]!.id,
      knownOperationNames: EXAMPLE_OPERATION_NAMES,
    },
  ).catch(async (error: unknown) => {
    await ferretdb?.stop();
    throw error;
  });

  stopOnSignals(
    say,
    async () => {
      await service.stop();
      await ferretdb?.stop();
    },
    'Database stopped. Bye.',
  );
}

runEntryPoint(start);
