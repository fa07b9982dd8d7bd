import { randomUUID } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import type { Decider } from '../consent/decide.js';
import type { ConsentEvent } from '../consent/event.js';
import type { Purpose } from '../consent/purposes.js';
import type { Statement } from '../consent/statement.js';
import type { Change } from '../consent/validate.js';
import { artistsAllowing, type ArtistPage, type ArtistsAllowingOptions } from './artistsAllowing.js';
import { changesAfter, latestGseq } from './changeFeed.js';
import { chainHead, globalHead } from './chainHeads.js';
import type { Collections, StateDoc } from './collections.js';
import { createProjectionCache, projectionReadsOf, type ProjectionReads } from './createProjectionCache.js';
import { revisionOf, statementsOf, type PositionedEvent } from './documents.js';
import { historyPages, type EventPage, type HistoryRequest } from './history.js';
import { LedgerWriter, type AppendItem, type GatherOptions } from './LedgerWriter.js';
import type { MonitorWatchdog } from './monitorWatchdog.js';
import { IdempotencyIndex } from './IdempotencyIndex.js';
import { Projector } from './Projector.js';
import type { Logger } from 'pino';
export type { AppendItem } from './LedgerWriter.js';
import { statesAt } from './pointInTime.js';
import { repairProjections, syncProjection, type RepairOptions } from './projection.js';
import { BACKGROUND_COMMENT, type ProjectionCache, type ProjectionCacheOptions } from './ProjectionCache.js';
import { storeCall } from './storeCall.js';

/** What `append` recorded, or found already recorded under the same idempotency key. */
export interface AppendResult {
  readonly event: ConsentEvent;
  /** The event's position in the global order, as the opaque revision string clients see. */
  readonly revision: string;
  /** True when the idempotency key had been used: nothing was written. */
  readonly replayed: boolean;
}

/**
 * The consent ledger and its current-state projection on a MongoDB-wire database, as the core's
 * types: statements, events and pages of them; no caller sees a database document.
 *
 * Writes go through the LedgerWriter: a group commit into the commit log (tail.ts), then the
 * events into consent_events, both inserts guarded by unique indexes. The Projector rewrites the
 * projection from the ledger head after acknowledging (re-checked until it matches, so it
 * converges after any interleaving); reads overlay the log meanwhile. `repairProjections` finishes
 * what a crashed writer left.
 */
export class ConsentStore {
  constructor(
    readonly client: MongoClient,
    readonly collections: Collections,
    /**
     * Hard deadline (ms) for a decision read and a ping. The driver's own timeouts apply per phase
     * (server selection, connecting, each reply) and a retried read pays them twice, so without
     * this a read can take a multiple of DB_TIMEOUT_MS. @default no deadline beyond the driver's
     */
    readonly deadlineMs?: number,
    options: {
      readonly cache?: ProjectionCacheOptions;
      readonly logger?: Logger;
      /** Project only when `projectionSettled()` is called (bulk loads: see Projector's `deferred`). */
      readonly deferProjection?: boolean;
      /** How a round waits for more of a stream of changes (LedgerWriter). @default DEFAULT_GATHER */
      readonly gather?: GatherOptions;
      /** Reconnects `client` when its server monitor gets stuck (openStore starts it); stopped by `close`. */
      readonly monitors?: MonitorWatchdog;
    } = {},
  ) {
    this.monitors = options.monitors ?? null;
    this.reads = projectionReadsOf(collections, deadlineMs);
    // With the cache off it still follows the commit log, for the writer; reads go to the database.
    this.cache = createProjectionCache(collections, this.reads, options.cache ?? { maxSubjects: 0 }, deadlineMs);
    this.idempotency = new IdempotencyIndex(collections, this.cache);
    // Through `this.syncProjection`, looked up at each call, so a test can stand in a crashing one.
    const writerId = randomUUID();
    this.projector = new Projector(collections, (key) => this.syncProjection(key, { comment: BACKGROUND_COMMENT }), {
      logger: options.logger,
      view: { catchUp: () => this.cache.catchUpInBackground(), headOf: (key) => this.cache.headOf(key) },
      writer: { lastActiveAt: () => this.writer.lastActiveAt() },
      commitToken: () => this.cache.currentToken(),
      id: writerId,
      deferred: options.deferProjection,
    });
    this.writer = new LedgerWriter(collections, this.cache, this.idempotency, this.projector, async (key) => (await chainHead(collections, key)).head, writerId, options.gather);
  }

  /** Times the client reconnected because the driver's server monitor had got stuck (see monitorWatchdog.ts). */
  get driverReconnects(): number {
    return this.monitors?.reconnects ?? 0;
  }

  /** Group commits so far, and how many waited to gather a stream (LedgerWriter). */
  get writeRounds(): { readonly rounds: number; readonly gathered: number } {
    return { ...this.writer.counts };
  }

  /** The in-memory copy of the projection that answers current-state reads (and gives the writer its heads). */
  readonly cache: ProjectionCache;
  /** Writes the projection after acknowledgements (see Projector). */
  readonly projector: Projector;

  private readonly reads: ProjectionReads;
  private readonly monitors: MonitorWatchdog | null;
  private readonly idempotency: IdempotencyIndex;
  private readonly writer: LedgerWriter;

  /**
   * The statements in force on each of the given subject keys (absent: none ever made): from the
   * cache when it is at the database's version (one small read), else from the database (one more read).
   */
  async statesByKeys(keys: readonly string[]): Promise<Map<string, Statement[]>> {
    const docs = await this.stateDocsByKeys(keys);
    return new Map([...docs].map(([key, doc]) => [key, statementsOf(doc)]));
  }

  /**
   * `statesByKeys` for the payload of writes this store just acknowledged (`results`): from the
   * cache's copy without a read when it has applied them (it then also holds every write
   * acknowledged before they were submitted, on any replica), else as `statesByKeys`.
   */
  async statesAfterWrites(keys: readonly string[], results: readonly AppendResult[]): Promise<Map<string, Statement[]>> {
    const through = results.reduce((max, result) => Math.max(max, Number(result.revision)), 0);
    const docs = this.cache.statesThrough(keys, through) ?? (await this.stateDocsByKeys(keys));
    return new Map([...docs].map(([key, doc]) => [key, statementsOf(doc)]));
  }

  /** The projection documents behind `statesByKeys` (the benchmark's variants replace this read). */
  protected stateDocsByKeys(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    return this.cache.statesByKeys(keys);
  }

  /**
   * The statements each subject had at `at`, from the ledger, in one read; subjects without an event
   * by then are absent. With `throughGseq`, only events up to that global position count.
   */
  statesAt(keys: readonly string[], at: Date, throughGseq?: number): Promise<Map<string, Statement[]>> {
    return statesAt(this.collections, keys, at, this.deadlineMs, throughGseq);
  }

  /** The ledger's global head (highest global position and that event's hash), in one read. */
  globalHead(): Promise<{ position: number; hash: string | null }> {
    return globalHead(this.collections, this.deadlineMs);
  }

  /** Pages of subjects' histories, newest first, in one ledger read. */
  historyPages(requests: readonly HistoryRequest[]): Promise<EventPage[]> {
    return historyPages(this.collections, requests, this.deadlineMs);
  }

  /** The next page of the global change feed after position `afterGseq`. */
  changesAfter(afterGseq: number, first: number): Promise<EventPage<PositionedEvent>> {
    return changesAfter(this.collections, afterGseq, first, this.deadlineMs);
  }

  /** The highest position of the change feed (0 when the ledger is empty). */
  latestGseq(): Promise<number> {
    return latestGseq(this.collections, this.deadlineMs);
  }

  /** A page of the artists whose artist-wide statements allow `purpose` by `decider`. */
  artistsAllowing(purpose: Purpose, decider: Decider, options: ArtistsAllowingOptions): Promise<ArtistPage> {
    return artistsAllowing(this.collections, purpose, decider, { ...options, deadlineMs: this.deadlineMs, current: (keys) => this.stateDocsByKeys(keys) });
  }

  /**
   * Appends a change to the subject's ledger chain as `actor` at `now`, then brings the projection
   * up to the ledger head. A reused idempotency key returns the first event and writes nothing; the
   * same key with a different change is an IdempotencyConflictError.
   */
  async append(change: Change, actor: string, now: Date): Promise<AppendResult> {
    const { event, gseq, replayed } = await this.writer.append(change, actor, now);
    return { event, revision: revisionOf(gseq), replayed };
  }

  /**
   * Appends many changes, each as its own actor at its own time, and returns their results in
   * input order (replays marked as for `append`). Changes to one subject are chained in input
   * order. Callers validate and authorise every change first: this only writes.
   */
  async appendMany(items: readonly AppendItem[]): Promise<AppendResult[]> {
    const results = await this.writer.appendMany(items);
    return results.map(({ event, gseq, replayed }) => ({ event, revision: revisionOf(gseq), replayed }));
  }

  /**
   * Resolves once every write this store acknowledged is in the projection collection (the
   * projection is derived; reads do not wait for it). Tests and tools that read the collection
   * directly call this first.
   */
  projectionSettled(): Promise<void> {
    return this.projector.settled();
  }

  /** Rewrites the subject's projection from its ledger head until it is at the head (see projection.ts). */
  syncProjection(key: string, options: { fromLedger?: boolean; comment?: string } = {}): Promise<void> {
    return syncProjection(this.collections, key, options);
  }

  /**
   * Finds subjects whose projection is behind their ledger head among events after `sinceGseq` and
   * repairs them. Returns the highest gseq seen, to pass as `sinceGseq` next time, and the keys repaired.
   */
  repairProjections(sinceGseq = 0, options: Pick<RepairOptions, 'staleCommitMs' | 'deep' | 'aroundLog' | 'healLog'> = {}): Promise<{ lastGseq: number; repaired: string[] }> {
    return repairProjections(this.collections, sinceGseq, (key) => this.syncProjection(key, { fromLedger: true }), {
      ...options,
      ownCommit: (first) => this.projector.has(first),
    });
  }

  /** Whether the database answers a ping within the deadline. */
  async ping(): Promise<boolean> {
    try {
      await storeCall(() => this.client.db('admin').command({ ping: 1 }), this.deadlineMs);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for the projection of acknowledged writes, stops the cache and closes the connection pool. */
  async close(): Promise<void> {
    await this.projector.settled();
    await this.projector.close();
    await this.cache.close();
    await this.monitors?.stop();
    await this.client.close();
  }
}
