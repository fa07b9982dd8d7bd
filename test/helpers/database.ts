import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { openStore } from '../../src/store/openStore.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';

/** The MongoDB-wire server of this test run (FerretDB, or MONGODB_URI). */
export function mongoUri(): string {
  return inject('mongoUri');
}

/** A store on a fresh, uniquely named database, so test files never see each other's data. */
export async function aFreshStore(options: { timeoutMs?: number } = {}): Promise<ConsentStore> {
  const dbName = `test_${randomBytes(6).toString('hex')}`;
  return openStore({ uri: mongoUri(), dbName, timeoutMs: options.timeoutMs ?? 5000 });
}

/** Drops the store's database and closes it. */
export async function dropStore(store: ConsentStore): Promise<void> {
  await store.collections.events.db.dropDatabase().catch(() => {});
  await store.close();
}

/** Database commands that read (as counted for the "at most 2 reads per request" rule). */
export const READ_COMMANDS = new Set(['find', 'aggregate', 'count', 'distinct', 'getMore']);

/** Counts the read commands the store's client starts while `run` runs. */
export async function countReads<T>(store: ConsentStore, run: () => Promise<T>): Promise<{ result: T; reads: number; commands: string[] }> {
  const commands: string[] = [];
  const listener = (event: { commandName: string }) => commands.push(event.commandName);
  store.client.on('commandStarted', listener);
  try {
    const result = await run();
    return { result, reads: commands.filter((c) => READ_COMMANDS.has(c)).length, commands };
  } finally {
    store.client.off('commandStarted', listener);
  }
}
