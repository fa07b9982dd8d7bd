import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { openStore } from '../../src/store/openStore.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import type { GatherOptions } from '../../src/store/LedgerWriter.js';
import { stateFromHead } from '../../src/store/documents.js';
import { CACHE_REFRESH_COMMENT } from '../../src/store/ProjectionCache.js';
import { aSetChange } from './changes.js';
import type { EventDoc } from '../../src/store/collections.js';

/** The MongoDB-wire server of this test run (FerretDB, or MONGODB_URI). */
export function mongoUri(): string {
  return inject('mongoUri');
}

/** A database name no other test uses. */
export function aFreshDbName(): string {
  return `test_${randomBytes(6).toString('hex')}`;
}

/**
 * A store on a fresh, uniquely named database, so test files never see each other's data. Its
 * projection cache is on, as in the service, unless `cache: false`; its writer gathers streams as
 * the service's does, unless `gather` says otherwise.
 */
export async function aFreshStore(options: { timeoutMs?: number; cache?: boolean; gather?: GatherOptions } = {}): Promise<ConsentStore> {
  return openStore({ uri: mongoUri(), dbName: aFreshDbName(), timeoutMs: options.timeoutMs ?? 5000, cache: options.cache === false ? undefined : TEST_CACHE, gather: options.gather });
}

/** The cache options tests run with: the service's default size. */
export const TEST_CACHE = { maxSubjects: 250_000 };

/**
 * A second connection to `store`'s database, as another instance of the service would open; at
 * `uri` when given (a fault proxy, say), else the test run's server; logging to `logger` if given. The caller closes it.
 */
export async function anotherConnection(store: ConsentStore, options: { uri?: string; timeoutMs?: number; logger?: Logger } = {}): Promise<ConsentStore> {
  return openStore({ uri: options.uri ?? mongoUri(), dbName: store.collections.events.dbName, timeoutMs: options.timeoutMs ?? 5000, cache: TEST_CACHE, logger: options.logger });
}

/** Drops the store's database and closes it. */
export async function dropStore(store: ConsentStore): Promise<void> {
  await store.collections.events.db.dropDatabase().catch(() => {});
  await store.close();
}

/** Database commands that read (as counted for the "at most 2 reads per request" rule). */
export const READ_COMMANDS = new Set(['find', 'aggregate', 'count', 'distinct', 'getMore']);

/**
 * Counts the read commands the store's client starts while `run` runs, and lists the collections
 * its `find`s read, in order. The cache's background refresh (tagged with CACHE_REFRESH_COMMENT) is
 * not a read of any request and is left out.
 */
export async function countReads<T>(
  store: ConsentStore,
  run: () => Promise<T>,
): Promise<{ result: T; reads: number; commands: string[]; found: string[] }> {
  const commands: string[] = [];
  const found: string[] = [];
  const listener = (event: { commandName: string; command: { comment?: unknown; find?: unknown } }) => {
    if (event.command.comment === CACHE_REFRESH_COMMENT) return;
    commands.push(event.commandName);
    if (event.commandName === 'find') found.push(String(event.command.find));
  };
  store.client.on('commandStarted', listener);
  try {
    const result = await run();
    return { result, reads: commands.filter((c) => READ_COMMANDS.has(c)).length, commands, found };
  } finally {
    store.client.off('commandStarted', listener);
  }
}

/** The last ledger event of the subject `key` (e.g. `artist/a-1`), or null when it has none. */
export function ledgerHead(store: ConsentStore, key: string): Promise<EventDoc | null> {
  return store.collections.events.find({ subject: key }).sort({ seq: -1 }).limit(1).next();
}

/** Whether the projection of the subject `key` is exactly what its ledger head implies; false when the ledger has no event for it. */
export async function projectionMatchesHead(store: ConsentStore, key: string): Promise<boolean> {
  const head = await ledgerHead(store, key);
  await store.projectionSettled();
  const state = await store.collections.states.findOne({ _id: key });
  return head !== null && JSON.stringify(state) === JSON.stringify(stateFromHead(head));
}

/**
 * A commit on a second replica of `store`'s database (its own connection, cache and projector),
 * settled there: `store`'s cache is then one commit behind, as after any other replica's write.
 */
export async function commitOnAnotherReplica(store: ConsentStore): Promise<void> {
  // `store`'s projector, still writing earlier commits, would follow the log when done and make
  // the cache current again behind the caller's back: let it finish first.
  await store.projectionSettled();
  const other = await anotherConnection(store);
  try {
    await other.append(aSetChange('someone-else', 'ADVERTISING'), 'another-replica', new Date());
    await other.projectionSettled();
  } finally {
    await other.close();
  }
}
