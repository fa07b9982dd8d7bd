import { ConfigError, intVar } from '../../src/config.js';
import { runEntryPoint } from '../../src/runEntryPoint.js';
import { openStore } from '../../src/store/openStore.js';
import { DEMO_ARTISTS } from './demoData.js';
import { seedDemo } from './seedDemo.js';

/**
 * Records the demo consent data in the database at MONGODB_URI (MONGODB_DB, default `consent`) and
 * exits: the demo stack's one-shot seed (docker/compose.yaml). Seeding again writes nothing.
 */
async function main(): Promise<void> {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new ConfigError('MONGODB_URI is not set: the demo seed writes to that database.');
  const timeoutMs = intVar(process.env, 'DB_TIMEOUT_MS', 10_000, 100, 600_000);
  const store = await openStore({ uri, dbName: process.env.MONGODB_DB || 'consent', timeoutMs });
  try {
    const written = await seedDemo(store);
    process.stdout.write(`Demo data: ${DEMO_ARTISTS.length} artists (${written} new ledger events).\n`);
  } finally {
    await store.close();
  }
}

runEntryPoint(main);
