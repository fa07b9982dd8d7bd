import type { Logger } from 'pino';
import type { StateDoc, TailDoc } from './collections.js';
import { stateFromHead } from './documents.js';
import { coalescedReader, type ProjectionVersion } from './projectionVersion.js';
import { bucketOf, TAIL_RETAIN_MS } from './tail.js';

/**
 * Every read of background work carries this comment (cache loads, the projector, the idempotency
 * index's load), so tests and the bench tell them apart from a request's reads.
 */
export const CACHE_REFRESH_COMMENT = 'consent-cache-refresh';

/** The same comment, under the name the non-cache background work uses. */
export const BACKGROUND_COMMENT = CACHE_REFRESH_COMMENT;

/** What the cache needs from the database. */
export interface ProjectionSource {
  /** The projection's current version (one small read, started after the call). */
  readVersion(): Promise<ProjectionVersion | null>;
  /** The projection documents of these keys (one read). */
  readStates(keys: readonly string[]): Promise<Map<string, StateDoc>>;
  /**
   * The commits after gseq `end`, as far as they follow without a gap (point reads, one per commit:
   * see tail.ts), stopping at the first that reaches `through` when given, else at the first miss.
   */
  readCommitsAfter(end: number, background?: boolean, through?: number): Promise<TailDoc[]>;
  /** Every commit still in the log (one read per bucket). */
  readAllCommits(background?: boolean): Promise<TailDoc[]>;
  /** Starts the log of a ledger that has none (see tail.ts `startLog`), at `knownEnd` if given; writers only. */
  startLog(knownEnd?: number): Promise<void>;
  /** The log's genesis marker (see `startLog`), or null. */
  readGenesis(): Promise<TailDoc | null>;
  /** The log's bucket numbers (one listCollections). */
  listBuckets(): Promise<number[]>;
  /** The version in a read of its own, tagged CACHE_REFRESH_COMMENT like the scan (for a load, and the Projector's looks). */
  readVersionForLoad(): Promise<ProjectionVersion | null>;
  /** Every projection document, in batches; the cache stops reading when it has seen too many. */
  scanStates(): AsyncIterable<StateDoc>;
}

/** Options of {@link ProjectionCache}. */
export interface ProjectionCacheOptions {
  /** Largest projection (documents) the cache holds; a bigger one turns the cache off (0: off from the start). */
  readonly maxSubjects: number;
  readonly logger?: Logger;
}

/** What the cache holds: the projection as of commit `end`, checked against `version`. */
interface Snapshot {
  version: ProjectionVersion;
  /** Every subject's head when `complete`; else only the subjects of commits followed since the load. */
  readonly byKey: Map<string, StateDoc>;
  readonly complete: boolean;
  /** The last gseq applied: every commit up to it is in `byKey`. */
  end: number;
}

/** How often an idle copy follows the log by itself (ms): well within the half of TAIL_RETAIN_MS after which a follower must check for pruned buckets. */
const KEEP_UP_MS = TAIL_RETAIN_MS / 4;

/** `end` of a copy loaded before the ledger had a log (see tail.ts `startLog`). */
const LOG_NOT_STARTED = -1;

/** Thrown inside a follow when the log no longer holds the next commit: the cache must load again. */
class FellBehind extends Error {}

/**
 * An exact in-memory copy of the projection that follows the ledger's commit log (tail.ts).
 *
 * Each request first reads the projection's version (one small read, shared with concurrent
 * requests that started before it, see `coalescedReader`). Same token: the answer comes from
 * memory. New token, same epoch: some commit happened, so the cache reads the next commits by `_id`
 * (point reads, which FerretDB pushes down) up to the end the version announced, applies them, and
 * answers from memory. A commit is in the log, and announced, before it is acknowledged, so a
 * request sees every write acknowledged before it began, on any replica. New epoch (the projection changed outside the log,
 * say a seed) or a log that moved on without it: the request reads the database — the projection
 * documents of its keys, overlaid with the log's commits — and the cache loads again in the background.
 *
 * The same copy gives the writer its chain heads (`prepareWrite`, `headOf`); with the cache off
 * (`maxSubjects` 0, or a projection that outgrew it) it holds only the subjects of commits followed
 * since start and reads fall back to the database.
 */
export class ProjectionCache {
  private snapshot: Snapshot | null = null;
  private disabled: boolean;
  private closed = false;
  // When the last follow started (ms, monotonic): a follower idle longer than half the log's
  // retention reads the log as a range, to notice commits pruned since.
  private lastFollowAt = 0;
  private readonly listeners: ((commit: TailDoc) => void)[] = [];
  // With the cache off: the heads of the commits the last load found in the log.
  private logHints = new Map<string, StateDoc>();
  // Whether the last load found no log at all, and the highest gseq in the projection it read (null: not read).
  private logWasEmpty = false;
  private projectionEnd: number | null = null;
  /** Lookups answered from memory and from the database since start (for tests and the bench). */
  readonly counts = { hits: 0, misses: 0, refreshes: 0, failedRefreshes: 0, follows: 0, commitsApplied: 0 };
  /** How long the last successful load took (s) and how many documents it loaded. */
  lastRefresh: { seconds: number; subjects: number } | null = null;

  constructor(
    private readonly source: ProjectionSource,
    private readonly options: ProjectionCacheOptions,
  ) {
    this.disabled = options.maxSubjects <= 0;
  }

  /** The projection documents of the keys, exactly as the ledger's heads stood when the call began. */
  async statesByKeys(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    const version = await this.source.readVersion();
    this.seen(version);
    // A load may replace the copy while this request follows the log: then follow the new one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const snapshot = this.snapshot;
      if (snapshot === null || version === null) return this.cold(keys);
      if (snapshot.version.token !== version.token) {
        try {
          await this.follow();
        } catch (error) {
          if (!(error instanceof FellBehind)) throw error;
          return this.cold(keys);
        }
      }
      if (this.snapshot !== snapshot) continue;
      if (!this.disabled && snapshot.complete && snapshot.version.epoch === version.epoch) return this.fromMemory(snapshot, keys);
      // The projection changed outside the log (a new epoch), or the cache is off: the keys'
      // documents from the database, each replaced by the head the log gave this copy if newer.
      this.counts.misses++;
      const found = await this.source.readStates(keys);
      if (!this.disabled) void this.refresh('new epoch');
      for (const key of keys) {
        const known = snapshot.byKey.get(key) ?? this.logHints.get(key);
        const stored = found.get(key);
        if (known !== undefined && (stored === undefined || known.seq > stored.seq)) found.set(key, known);
      }
      return found;
    }
    return this.cold(keys);
  }

  // Before the first load (or after falling behind the log): the keys' projection documents
  // overlaid with every commit still in the log, read first (a commit pruned from the log before it
  // was read is in the projection read after it).
  private async cold(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    this.counts.misses++;
    void this.refresh('cold read');
    const commits = await this.source.readAllCommits();
    const found = await this.source.readStates(keys);
    const wanted = new Set(keys);
    for (const commit of commits) for (const event of commit.events) if (wanted.has(event.subject)) applyEvent(found, event);
    return found;
  }

  // The newest version a completed read returned: a follow that starts later records it as the
  // version its copy is at (every commit announced by then is in the log the follow reads).
  private latestVersion: ProjectionVersion | null = null;

  private seen(version: ProjectionVersion | null): void {
    if (version === null) return;
    this.latestVersion = version;
    if (version.end !== undefined) this.announcedEnd = Math.max(this.announcedEnd ?? 0, version.end);
  }

  // The highest log end any version read so far announced (null: none did): every commit
  // acknowledged before the latest of those reads ends at or before it, so a request's follow stops
  // there without reading on to find nothing (a miss would be one more read).
  private announcedEnd: number | null = null;

  /**
   * Brings the copy to the ledger's current end before a write: loaded (waiting for the first
   * load), at the database's epoch, and every commit in the log applied. Throws on database errors.
   */
  async prepareWrite(): Promise<void> {
    const version = await this.source.readVersion();
    this.seen(version);
    if (this.snapshot === null || version === null || this.snapshot.version.epoch !== version.epoch) await this.refreshOrThrow(this.snapshot === null ? 'first write' : 'new epoch');
    if (this.logWasEmpty) {
      // No event may be inserted before the log starts (a reader loading in between would take
      // it for one written before the log, and never follow it).
      await this.source.startLog(this.projectionEnd ?? undefined);
      // The log's genesis says where the ledger stood when the log began (this writer's marker or
      // another's). A copy whose projection already reached it lacks nothing from before the log
      // (the follow below reads the marker and what came after); otherwise load again, since
      // events up to the marker may have been projected since this copy was read.
      const genesis = await this.source.readGenesis();
      if (genesis === null || this.projectionEnd === null || genesis.last > this.projectionEnd) await this.refreshOrThrow('log started');
      else this.logWasEmpty = false;
    }
    // The highest end announced is still the one this process's writer announced after its last
    // commit, and the copy is at that commit: skip the read of the log. A commit another replica
    // made but has not announced yet is not seen, but nothing is lost: the next insert collides on
    // its gseq and the writer calls `distrustOwnAnnouncement`. Otherwise a writer reads the log
    // until it finds no next commit, past the announced end (a colliding commit may not be
    // announced yet). Reads never take this shortcut (the copy's own version stays behind until a follow).
    const own = this.ownAnnouncement;
    if (own !== null && version?.end === own && this.snapshot?.end === own) return;
    try {
      await this.followToEnd();
    } catch (error) {
      if (!(error instanceof FellBehind)) throw error;
      await this.refreshOrThrow('fell behind the log');
      await this.followToEnd();
    }
  }

  // The log's end this process's writer announced last, when the copy was there.
  private ownAnnouncement: number | null = null;

  /** The writer announced its commits, which end at gseq `end` (after applying them). */
  announced(end: number): void {
    this.ownAnnouncement = this.snapshot?.end === end ? end : null;
  }

  /** The writer's insert collided: its next `prepareWrite` reads the log whatever the version says. */
  distrustOwnAnnouncement(): void {
    this.ownAnnouncement = null;
  }

  /**
   * The keys' documents from memory, without a read, when the copy is complete and has applied
   * every gseq up to `through`; null otherwise. For the payload of this process's own writes: the
   * writer followed the log to its end just before committing them, so the copy holds every write
   * acknowledged before they were submitted, and the writes themselves.
   */
  statesThrough(keys: readonly string[], through: number): Map<string, StateDoc> | null {
    const snapshot = this.snapshot;
    if (snapshot === null || this.disabled || !snapshot.complete || snapshot.end < through) return null;
    return this.fromMemory(snapshot, keys);
  }

  // The keys' documents in the copy (a hit).
  private fromMemory(snapshot: Snapshot, keys: readonly string[]): Map<string, StateDoc> {
    this.counts.hits++;
    const found = new Map<string, StateDoc>();
    for (const key of keys) {
      const doc = snapshot.byKey.get(key);
      if (doc !== undefined) found.set(key, doc);
    }
    return found;
  }

  /** The subject's head as of `end`: null when it has none; undefined when the copy doesn't know (cache off). */
  headOf(key: string): StateDoc | null | undefined {
    const snapshot = this.snapshot;
    if (snapshot === null) return undefined;
    const doc = snapshot.byKey.get(key);
    if (doc !== undefined) return doc;
    return snapshot.complete ? null : undefined;
  }

  /** Heads of subjects in the log as last loaded (a hint for the writer when the cache is off). */
  logHeadOf(key: string): StateDoc | undefined {
    return this.logHints.get(key);
  }

  /** The projection's version token now, which every commit on any replica replaces (one small background read, for the Projector). */
  async currentToken(): Promise<string | null> {
    return (await this.source.readVersionForLoad())?.token ?? null;
  }

  /** The newest version a read returned (the writer reads who is waiting for a turn from it). */
  get lastVersion(): ProjectionVersion | null {
    return this.latestVersion;
  }

  /** The last gseq in the copy (0 before the first load). */
  get end(): number {
    return this.snapshot?.end ?? 0;
  }

  /** Applies commits this process just made (they follow `end` directly; others are ignored). */
  applyCommits(commits: readonly TailDoc[]): void {
    const snapshot = this.snapshot;
    if (snapshot === null) return;
    for (const commit of commits) if (commit._id <= snapshot.end + 1 && commit.last > snapshot.end) this.apply(snapshot, commit);
  }

  /** Calls `listener` after every load (the ledger may have changed outside the log). */
  onLoad(listener: () => void): void {
    this.loadListeners.push(listener);
  }

  private readonly loadListeners: (() => void)[] = [];

  /** Calls `listener` with every commit applied from now on, in order. */
  onCommit(listener: (commit: TailDoc) => void): void {
    this.listeners.push(listener);
  }

  // Reads the commits after `end` (a point read each, up to the announced end) and applies them. Concurrent
  // callers share a follow only if it has not started yet (one that started earlier may have read
  // the log before their write was committed).
  private readonly follow = coalescedReader(() => this.followOnce(false, false));
  // A writer's follow: on past the announced end, to the first commit missing.
  private readonly followToEnd = coalescedReader(() => this.followOnce(false, true));
  // The same for background work (the Projector's checks, an idle copy keeping up): its reads are
  // tagged CACHE_REFRESH_COMMENT, so no request counts them. It may run beside a request's follow:
  // each applies only the commits after the copy's end when they arrive.
  private readonly followInBackground = coalescedReader(() => this.followOnce(true, false));

  private async followOnce(background: boolean, pastAnnounced: boolean): Promise<void> {
    const snapshot = this.snapshot;
    if (snapshot === null) throw new FellBehind();
    const version = this.latestVersion;
    const through = pastAnnounced ? undefined : (this.announcedEnd ?? undefined);
    const startedAt = performance.now();
    const idle = startedAt - this.lastFollowAt > TAIL_RETAIN_MS / 2;
    this.lastFollowAt = startedAt;
    this.counts.follows++;
    if (idle && snapshot.end !== LOG_NOT_STARTED) {
      // Buckets may have been pruned since: the one holding the next commit must still be there.
      const buckets = await this.source.listBuckets();
      if (buckets.length > 0 && buckets[0]! > bucketOf(snapshot.end + 1)) throw new FellBehind();
    }
    if (snapshot.end === LOG_NOT_STARTED) {
      const genesis = await this.source.readGenesis();
      if (genesis === null) return;
      snapshot.end = genesis.last;
    }
    for (const commit of await this.source.readCommitsAfter(snapshot.end, background, through)) {
      if (commit.last <= snapshot.end) continue;
      if (commit._id > snapshot.end + 1) break;
      this.apply(snapshot, commit);
    }
    if (version !== null && version.epoch === snapshot.version.epoch && this.snapshot === snapshot) snapshot.version = version;
  }

  /**
   * Brings the copy to the latest announced commit, in background reads (the Projector, after
   * writing heads, looks for newer ones): one read when nothing was announced since the copy's
   * version. A commit is announced before its writer's projector writes it, so a head written
   * before this call is never missed. Falls back to `prepareWrite` when the copy must load.
   */
  async catchUpInBackground(): Promise<void> {
    const version = await this.source.readVersionForLoad();
    this.seen(version);
    const snapshot = this.snapshot;
    if (snapshot === null || version === null || version.epoch !== snapshot.version.epoch) return this.prepareWrite();
    if (version.token === snapshot.version.token) return;
    try {
      await this.followInBackground();
    } catch (error) {
      if (!(error instanceof FellBehind)) throw error;
      await this.prepareWrite();
    }
  }

  private apply(snapshot: Snapshot, commit: TailDoc): void {
    for (const event of commit.events) applyEvent(snapshot.byKey, event);
    snapshot.end = commit.last;
    this.counts.commitsApplied++;
    for (const listener of this.listeners) listener(commit);
    if (snapshot.complete && snapshot.byKey.size > this.options.maxSubjects) this.turnOff(snapshot);
  }

  private turnOff(snapshot: Snapshot): void {
    this.disabled = true;
    // Keep following for the writer, without the subjects it does not need.
    this.snapshot = { ...snapshot, byKey: new Map(), complete: false };
    this.warnTurnedOff();
  }

  private warnTurnedOff(): void {
    this.options.logger?.warn(
      { maxSubjects: this.options.maxSubjects },
      'the consent projection has more documents than CACHE_MAX_SUBJECTS; the cache is off and every request reads the database',
    );
  }

  /**
   * Loads the projection again; resolves once a load that started after this call has ended. A
   * load already running may have read the version before the caller's last write, so the caller
   * waits for the next one (at most one runs and one waits, as with version reads). Never
   * rejects: a failed load is logged and leaves the cache missing until the next one.
   */
  refresh(reason = 'asked'): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.noteReason(reason);
    this.pendingRefresh = this.reload().then(
      () => undefined,
      () => undefined,
    );
    return this.pendingRefresh;
  }

  private async refreshOrThrow(reason: string): Promise<void> {
    this.noteReason(reason);
    await this.reload();
  }

  /** Why loads were asked for since start, and how often (for the bench and operators' debugging). */
  readonly loadReasons = new Map<string, number>();

  private noteReason(reason: string): void {
    this.loadReasons.set(reason, (this.loadReasons.get(reason) ?? 0) + 1);
  }

  private readonly reload = coalescedReader(() => this.load());
  // The latest refresh asked for, which close() waits for.
  private pendingRefresh: Promise<void> = Promise.resolve();

  /** Whether the cache answers reads: false once the projection outgrew it (or when configured off). */
  get enabled(): boolean {
    return !this.disabled;
  }

  /** The version token the copy was checked at; null before the first load. */
  get version(): string | null {
    return this.snapshot?.version.token ?? null;
  }

  /** Drops the copy and stops loading; waits for the loads asked for. */
  async close(): Promise<void> {
    this.closed = true;
    this.snapshot = null;
    if (this.keepUpTimer !== null) clearInterval(this.keepUpTimer);
    await this.pendingRefresh;
  }

  // While no request follows the log, the copy follows it every KEEP_UP_MS by itself, so it never
  // falls further behind than the log keeps (which would cost a whole load at the next request).
  private keepUpTimer: NodeJS.Timeout | null = null;

  private startKeepingUp(): void {
    if (this.keepUpTimer !== null || this.closed) return;
    this.keepUpTimer = setInterval(() => {
      if (performance.now() - this.lastFollowAt >= KEEP_UP_MS) void this.keepUp();
    }, KEEP_UP_MS);
    this.keepUpTimer.unref();
  }

  private async keepUp(): Promise<void> {
    const snapshot = this.snapshot;
    if (snapshot === null || this.closed) return;
    try {
      const version = await this.source.readVersionForLoad();
      if (version === null || this.snapshot !== snapshot) return;
      if (version.token === snapshot.version.token) {
        // Nothing committed since the copy's version: no commit it needs can have been pruned.
        this.lastFollowAt = performance.now();
        return;
      }
      this.seen(version);
      await this.followInBackground();
    } catch (error) {
      if (error instanceof FellBehind) void this.refresh('fell behind the log');
      else this.options.logger?.debug({ err: error }, 'consent cache could not follow the log in the background');
    }
  }

  private async load(): Promise<void> {
    const started = performance.now();
    try {
      // The version first, then the log, then the projection, then the log again from where the
      // first read ended: a commit pruned from the log before it was read is in the projection
      // read after it; one made since is in the second read.
      const version = await this.source.readVersionForLoad();
      if (version === null) return;
      let before = await this.source.readAllCommits(true);
      // The log's end; for a ledger without a log yet, its highest gseq, read while the log was
      // still empty (writers start the log before their first insert, so every event up to it
      // was written before the log). Events after the log's end that no commit lists are the
      // writer's to put into the log (LedgerWriter heals it).
      let start: number;
      // No log yet: nothing can be written until a writer starts it (its genesis marker says where
      // the ledger ended), so the projection is the ledger; a follow picks the marker up.
      start = before.length > 0 ? Math.max(...before.map((commit) => commit.last)) : LOG_NOT_STARTED;
      const byKey = new Map<string, StateDoc>();
      let complete = !this.disabled;
      let highest = 0;
      if (complete) {
        for await (const doc of this.source.scanStates()) {
          if (byKey.size >= this.options.maxSubjects) {
            complete = false;
            break;
          }
          byKey.set(doc._id, doc);
          if (doc.gseq > highest) highest = doc.gseq;
        }
      }
      const after = start === LOG_NOT_STARTED ? [] : await this.source.readCommitsAfter(start, true);
      const commits = [...before, ...after];
      // Commits still in the log may be newer than the projection: apply them (a subject's head
      // only moves forward, so applying one the projection already holds changes nothing). They
      // may add subjects the projection has no document for yet, and push the copy over the limit.
      // Without the projection (cache off) the heads in the log are only hints: a subject's newer
      // commit may have been pruned already, so the writer reads such subjects from the database.
      if (complete) for (const commit of commits) for (const event of commit.events) applyEvent(byKey, event);
      if (complete && byKey.size > this.options.maxSubjects) complete = false;
      if (!complete && !this.disabled) {
        byKey.clear();
        this.disabled = true;
        this.warnTurnedOff();
      }
      const snapshot: Snapshot = { version, byKey, complete, end: after.at(-1)?.last ?? start };
      if (this.closed) return;
      const hints = new Map<string, StateDoc>();
      if (!complete) for (const commit of commits) for (const event of commit.events) applyEvent(hints, event);
      this.logHints = hints;
      this.logWasEmpty = before.length === 0;
      this.projectionEnd = complete ? highest : null;
      this.snapshot = snapshot;
      this.lastFollowAt = started;
      this.startKeepingUp();
      for (const listener of this.loadListeners) listener();
      for (const commit of commits) for (const listener of this.listeners) listener(commit);
      this.counts.refreshes++;
      this.lastRefresh = { seconds: (performance.now() - started) / 1000, subjects: byKey.size };
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'consent cache refresh failed; requests read the database until the next one');
      this.counts.failedRefreshes++;
      throw error;
    }
  }
}

/** Moves a subject's document to the event's head if the event is newer than what it holds. */
function applyEvent(byKey: Map<string, StateDoc>, event: TailDoc['events'][number]): void {
  const current = byKey.get(event.subject);
  if (current === undefined || event.seq > current.seq) byKey.set(event.subject, stateFromHead(event));
}
