import type { Collections, StateDoc } from './collections.js';
import { CACHE_REFRESH_COMMENT, ProjectionCache, type ProjectionCacheOptions } from './ProjectionCache.js';
import { coalescedReader, readProjectionVersion, type ProjectionVersion } from './projectionVersion.js';
import { readStates } from './projection.js';
import { storeCall } from './storeCall.js';
import { listBuckets, readAllCommits, readCommit, readCommitsAfter, startLog } from './tail.js';

/** The store's reads of the projection and its version, uncached; the cache wraps them. */
export interface ProjectionReads {
  /** The projection's version; concurrent requests share reads (never one that started before them). */
  readonly readVersion: () => Promise<ProjectionVersion | null>;
  /** The projection documents of these keys, in one read. */
  readonly readStates: (keys: readonly string[]) => Promise<Map<string, StateDoc>>;
}

/** The projection reads of a database, each bounded by `deadlineMs`. */
export function projectionReadsOf(collections: Collections, deadlineMs?: number): ProjectionReads {
  return {
    readVersion: coalescedReader(() => storeCall(() => readProjectionVersion(collections), deadlineMs)),
    readStates: (keys) => readStates(collections, keys, deadlineMs),
  };
}

/** An in-memory copy of the projection that answers through `reads` and follows the commit log of `collections`. */
export function createProjectionCache(collections: Collections, reads: ProjectionReads, options: ProjectionCacheOptions, deadlineMs?: number): ProjectionCache {
  return new ProjectionCache(
    {
      readVersion: reads.readVersion,
      readStates: reads.readStates,
      readCommitsAfter: (end, background, through) => storeCall(() => readCommitsAfter(collections, end, background ? CACHE_REFRESH_COMMENT : undefined, through), deadlineMs),
      readAllCommits: (background) => storeCall(() => readAllCommits(collections, background ? CACHE_REFRESH_COMMENT : undefined), deadlineMs),
      listBuckets: () => storeCall(() => listBuckets(collections), deadlineMs),
      startLog: (knownEnd) => storeCall(() => startLog(collections, knownEnd), deadlineMs),
      readGenesis: () => storeCall(() => readCommit(collections, 0), deadlineMs),
      readVersionForLoad: () => storeCall(() => readProjectionVersion(collections, CACHE_REFRESH_COMMENT), deadlineMs),
      scanStates: () => collections.states.find({}, { comment: CACHE_REFRESH_COMMENT, batchSize: 10_000 }),
    },
    options,
  );
}
