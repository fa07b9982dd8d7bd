import { MongoClient, type MongoClientOptions } from 'mongodb';
import { collectionsOf, ensureIndexes } from './collections.js';
import { ConsentStore } from './ConsentStore.js';
import type { GatherOptions } from './LedgerWriter.js';
import { watchServerMonitors } from './monitorWatchdog.js';
import type { Logger } from 'pino';
import type { ProjectionCacheOptions } from './ProjectionCache.js';
import { ensureProjectionVersion } from './projectionVersion.js';
import { upgradeOldLog } from './upgradeLog.js';

/** How to reach the database. */
export interface StoreOptions {
  readonly uri: string;
  readonly dbName: string;
  /** Deadline for each operation, server selection included (ms). */
  readonly timeoutMs: number;
  /** Answer current-state reads from an exact in-memory copy of the projection (ProjectionCache); omitted: off. */
  readonly cache?: ProjectionCacheOptions;
  /** Project only when `projectionSettled()` is called (bulk loads such as the import). @default false */
  readonly deferProjection?: boolean;
  /** How a round waits for more of a stream of changes (LedgerWriter). @default DEFAULT_GATHER */
  readonly gather?: GatherOptions;
  /** Where the store logs what it repairs by itself (a stuck driver monitor, a failed projection). */
  readonly logger?: Logger;
}

/**
 * Connects, creates indexes and returns the store. Every operation has an explicit deadline (the
 * driver's default server-selection wait is 30 s) and writes wait for a majority.
 */
export async function openStore(options: StoreOptions): Promise<ConsentStore> {
  const client = new MongoClient(options.uri, clientOptions(options.timeoutMs));
  await client.connect();
  const monitors = watchServerMonitors(client, {
    connectTimeoutMS: client.options.connectTimeoutMS,
    heartbeatFrequencyMS: client.options.heartbeatFrequencyMS,
    logger: options.logger,
  });
  try {
    const collections = collectionsOf(client.db(options.dbName));
    await ensureIndexes(collections);
    await ensureProjectionVersion(collections);
    // A log written by an older version (numeric commit ids) is finished and dropped before anything reads the log.
    await upgradeOldLog(collections);
    return new ConsentStore(client, collections, options.timeoutMs, {
      cache: options.cache,
      deferProjection: options.deferProjection,
      gather: options.gather,
      logger: options.logger,
      monitors,
    });
  } catch (error) {
    await monitors.stop();
    await client.close();
    throw error;
  }
}

/** The driver options the service uses; exported so tools connect the same way. */
export function clientOptions(timeoutMs: number): MongoClientOptions {
  return {
    appName: 'consent-subgraph',
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    // A reply slower than the deadline fails the operation rather than hanging the request.
    socketTimeoutMS: timeoutMs,
    waitQueueTimeoutMS: timeoutMs,
    // No wtimeoutMS: FerretDB v1.24 crashes the connection on createIndexes with wtimeout (seen
    // here); socketTimeoutMS bounds a write's wait instead.
    writeConcern: { w: 'majority' },
    maxPoolSize: 32,
    // Command events feed the metrics and let tests count database reads.
    monitorCommands: true,
  };
}
