import type { Logger } from 'pino';
import type { StateDoc } from './collections.js';
import { coalescedReader } from './projectionVersion.js';

/** Every command the cache's background refresh sends carries this comment (tests and the bench tell them apart). */
export const CACHE_REFRESH_COMMENT = 'consent-cache-refresh';

/** What the cache needs from the database. */
export interface ProjectionSource {
  /** The projection's current version token (one read, started after the call). */
  readVersion(): Promise<string | null>;
  /** The projection documents of these keys (one read): what a miss is answered from. */
  readStates(keys: readonly string[]): Promise<Map<string, StateDoc>>;
  /** The version again, for a load (its own read, tagged CACHE_REFRESH_COMMENT like the scan). */
  readVersionForLoad(): Promise<string | null>;
  /** Every projection document, in batches; the cache stops reading when it has seen too many. */
  scanStates(): AsyncIterable<StateDoc>;
}

/** Options of {@link ProjectionCache}. */
export interface ProjectionCacheOptions {
  /** Largest projection (documents) the cache holds; a bigger one turns the cache off. */
  readonly maxSubjects: number;
  readonly logger?: Logger;
}

/** What the cache holds: the whole projection as it was at one version. */
interface Snapshot {
  readonly version: string;
  readonly byKey: ReadonlyMap<string, StateDoc>;
}

/**
 * An exact in-memory copy of the projection, checked against the database on every request.
 *
 * Each request first reads the projection's version token (one small read, shared with concurrent
 * requests that started before it, see `coalescedReader`). If the snapshot was taken at that
 * version, the answer comes from memory — and is exact: every acknowledged write changed the token
 * after writing the projection and before acknowledging, so a write acknowledged before this
 * request started either preceded the snapshot's version read (and the snapshot, read after it,
 * holds it) or changed the token since (and the versions differ). Otherwise the request reads its
 * keys from the database (a second read) and a background refresh loads the projection again.
 *
 * So a read never sees older state than any write acknowledged before it began, with or without a
 * revision; and a database error fails the request (it is never answered from memory unchecked).
 * The price is one small read per request and a full projection read per change, which suits a
 * projection that fits in memory and changes at human rates; above `maxSubjects` documents the
 * cache turns itself off and every request reads its keys from the database.
 */
export class ProjectionCache {
  private snapshot: Snapshot | null = null;
  private disabled = false;
  private closed = false;
  /** Lookups answered from memory and from the database since start (for tests and the bench). */
  readonly counts = { hits: 0, misses: 0, refreshes: 0, failedRefreshes: 0 };
  /** How long the last successful refresh took (s) and how many documents it loaded. */
  lastRefresh: { seconds: number; subjects: number } | null = null;

  constructor(
    private readonly source: ProjectionSource,
    private readonly options: ProjectionCacheOptions,
  ) {}

  /** The projection documents of the keys, exactly as a database read started now would return them. */
  async statesByKeys(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    if (this.disabled) return this.source.readStates(keys);
    const version = await this.source.readVersion();
    const snapshot = this.snapshot;
    if (version !== null && snapshot !== null && snapshot.version === version) {
      this.counts.hits++;
      const found = new Map<string, StateDoc>();
      for (const key of keys) {
        const doc = snapshot.byKey.get(key);
        if (doc !== undefined) found.set(key, doc);
      }
      return found;
    }
    this.counts.misses++;
    // The request's own read first: on a database that serialises queries it then waits for nobody.
    const found = this.source.readStates(keys);
    void this.refresh();
    return found;
  }

  /**
   * Loads the projection again; resolves once a load that started after this call has ended. A
   * load already running may have read the version before the caller's last write, so the caller
   * waits for the next one (at most one runs and one waits, as with version reads). Never
   * rejects: a failed load is logged and leaves the cache missing until the next one.
   */
  refresh(): Promise<void> {
    if (this.disabled || this.closed) return Promise.resolve();
    this.pendingRefresh = this.reload();
    return this.pendingRefresh;
  }

  private readonly reload = coalescedReader(() => this.load());
  // The latest refresh asked for, which close() waits for.
  private pendingRefresh: Promise<void> = Promise.resolve();

  /** Whether the cache is serving: false before the first load, and for good once the projection outgrew it. */
  get enabled(): boolean {
    return !this.disabled;
  }

  /** The version the snapshot was taken at; null before the first load. */
  get version(): string | null {
    return this.snapshot?.version ?? null;
  }

  /** Drops the snapshot and stops refreshing; waits for the refreshes asked for. */
  async close(): Promise<void> {
    this.closed = true;
    this.snapshot = null;
    await this.pendingRefresh;
  }

  private async load(): Promise<void> {
    const started = performance.now();
    try {
      // The version first: the snapshot may then hold changes newer than it, never older.
      const version = await this.source.readVersionForLoad();
      if (version === null) return;
      const byKey = new Map<string, StateDoc>();
      for await (const doc of this.source.scanStates()) {
        if (byKey.size >= this.options.maxSubjects) {
          this.disabled = true;
          this.snapshot = null;
          this.options.logger?.warn(
            { maxSubjects: this.options.maxSubjects },
            'the consent projection has more documents than CACHE_MAX_SUBJECTS; the cache is off and every request reads the database',
          );
          return;
        }
        byKey.set(doc._id, doc);
      }
      if (this.closed) return;
      this.snapshot = { version, byKey };
      this.counts.refreshes++;
      this.lastRefresh = { seconds: (performance.now() - started) / 1000, subjects: byKey.size };
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'consent cache refresh failed; requests read the database until the next one');
      this.counts.failedRefreshes++;
    }
  }
}
