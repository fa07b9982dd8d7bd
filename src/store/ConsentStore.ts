import { MongoError, MongoServerError, type MongoClient } from 'mongodb';
import { StoreUnavailableError } from '../errors.js';
import { applyToSubject, hashEvent, type ConsentEvent, type UnhashedEvent } from '../consent/event.js';
import { IdempotencyConflictError } from '../consent/errors.js';
import type { Statement, Subject } from '../consent/statement.js';
import type { Change } from '../consent/validate.js';
import type { Collections, EventDoc, StateDoc } from './collections.js';
import { CACHE_REFRESH_COMMENT, ProjectionCache, type ProjectionCacheOptions } from './ProjectionCache.js';
import { bumpProjectionVersion, coalescedReader, readProjectionVersion } from './projectionVersion.js';
import { subjectKey } from './subjectKey.js';

/** What `append` recorded, or found already recorded under the same idempotency key. */
export interface AppendResult {
  readonly event: ConsentEvent;
  /** The event's position in the global order, as the opaque revision string clients see. */
  readonly revision: string;
  /** True when the idempotency key had been used: nothing was written. */
  readonly replayed: boolean;
}

// A writer that loses a race on (subject, seq) or gseq re-reads the heads and tries again; with
// jittered backoff even dozens of concurrent writers on one subject settle well within this bound.
const MAX_APPEND_ATTEMPTS = 200;
// A syncing writer chases a head that concurrent writers keep moving: with 50 writers racing on
// one subject, 20 rounds were too few (seen here: "did not settle"), so it gets the append bound.
const MAX_SYNC_ROUNDS = MAX_APPEND_ATTEMPTS;

/**
 * The consent ledger and its current-state projection on a MongoDB-wire database.
 *
 * Writes are append-only inserts guarded by unique indexes, the one concurrency primitive that is
 * safe on FerretDB too (its updates are not atomic compare-and-set). The projection is rewritten
 * from the ledger head after every write and re-checked until it matches, so it converges to the
 * head after any interleaving; `repairProjections` fixes subjects left behind by a crash.
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
    options: { readonly cache?: ProjectionCacheOptions } = {},
  ) {
    this.cache =
      options.cache === undefined
        ? null
        : new ProjectionCache(
            {
              readVersion: this.readVersion,
              readStates: (keys) => this.readStates(keys),
              readVersionForLoad: () => storeCall(() => readProjectionVersion(this.collections, CACHE_REFRESH_COMMENT), this.deadlineMs),
              scanStates: () => this.collections.states.find({}, { comment: CACHE_REFRESH_COMMENT, batchSize: 10_000 }),
            },
            options.cache,
          );
  }

  /** The in-memory copy of the projection that answers current-state reads; null when off. */
  readonly cache: ProjectionCache | null;

  /**
   * The current projection documents of the given subject keys: from the cache when it is at the
   * database's version (one small read), else from the database (one more read).
   */
  statesByKeys(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    return this.cache === null ? this.readStates(keys) : this.cache.statesByKeys(keys);
  }

  // Concurrent requests share version reads (never one that started before them).
  private readonly readVersion = coalescedReader(() => storeCall(() => readProjectionVersion(this.collections), this.deadlineMs));

  /** The projection documents of the given subject keys, in one database read. */
  async readStates(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    const found = new Map<string, StateDoc>();
    if (keys.length === 0) return found;
    // One batch for all keys: the default first batch (101 documents) would add a getMore read, and
    // so would a batch exactly as large as the result (the server can't tell it is the last).
    const docs = await storeCall(() => this.collections.states.find({ _id: { $in: [...keys] } }, { batchSize: keys.length + 1 }).toArray(), this.deadlineMs);
    for (const doc of docs) found.set(doc._id, doc);
    return found;
  }

  /**
   * Appends a change to the subject's ledger chain as `actor` at `now`, then brings the projection
   * up to the ledger head. A reused idempotency key returns the first event and writes nothing; the
   * same key with a different change is an IdempotencyConflictError.
   */
  async append(change: Change, actor: string, now: Date): Promise<AppendResult> {
    // Writers in one process take turns: every append allocates the next global gseq, so
    // concurrent appends from one process would only collide on the unique index and retry
    // (measured on FerretDB: ~3000 commands for 50 racing writers, against ~300 in turn). Writers in
    // other processes still race, and the unique indexes keep that safe.
    const turn = this.writeTurn.then(() => storeCall(() => this.appendOnce(change, actor, now)));
    this.writeTurn = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  // The tail of this process's queue of appends.
  private writeTurn: Promise<void> = Promise.resolve();

  private async appendOnce(change: Change, actor: string, now: Date): Promise<AppendResult> {
    const key = subjectKey(change.subject);
    const idem = change.idempotencyKey === null ? null : JSON.stringify([actor, change.idempotencyKey]);
    let collisions = 0;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (idem !== null) {
        const existing = await this.collections.events.findOne({ idem });
        if (existing !== null) {
          assertSameChange(existing, change);
          await this.syncProjection(existing.subject);
          await bumpProjectionVersion(this.collections);
          return { event: eventFromDoc(existing), revision: revisionOf(existing), replayed: true };
        }
      }
      // After repeated collisions, read the heads the slow, authoritative way (a full query of the
      // ledger) in case a chain holds events whose ids don't follow eventIdOf.
      const [{ head }, lastGseq] = await Promise.all([
        collisions < 3 ? this.chainHead(key) : this.ledgerHead(key),
        this.knownGseq ?? this.maxGseq(),
      ]);
      const doc = nextEventDoc(change, key, actor, now, head, lastGseq, idem);
      try {
        await this.collections.events.insertOne(doc);
      } catch (error) {
        if (isDuplicateKey(error)) {
          // Another writer took this seq or gseq (or the key): learn the heads again and retry.
          this.knownGseq = null;
          collisions++;
          await backoff(attempt);
          continue;
        }
        throw error;
      }
      this.knownGseq = doc.gseq;
      await this.syncProjection(key);
      // Before acknowledging: caches must see that the projection changed (ProjectionCache).
      await bumpProjectionVersion(this.collections);
      return { event: eventFromDoc(doc), revision: revisionOf(doc), replayed: false };
    }
    throw new Error(`append gave up after ${MAX_APPEND_ATTEMPTS} attempts on ${key}`);
  }

  // The highest gseq this process knows to be committed (it wrote or read it); null when another
  // writer may have moved past it. Appending knownGseq + 1 keeps the global order gapless.
  private knownGseq: number | null = null;

  /**
   * Rewrites the subject's projection from its ledger head until a re-read shows it at the head.
   * Each writer checks after its own write, so whichever write lands last is checked last: a stale
   * overwrite (possible where updates are not atomic) is always repaired by the writer that made it.
   * `fromLedger` finds the head with a full ledger query instead of by id (the repair sweep uses it).
   */
  async syncProjection(key: string, options: { fromLedger?: boolean } = {}): Promise<void> {
    for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
      const { head, projection } = options.fromLedger
        ? await Promise.all([this.ledgerHead(key), this.collections.states.findOne({ _id: key })]).then(([h, p]) => ({ head: h.head, projection: p }))
        : await this.chainHead(key);
      if (head === null || (projection !== null && projection.seq >= head.seq)) return;
      const next = stateFromHead({ ...head, subject: key });
      if (projection === null) {
        try {
          await this.collections.states.insertOne(next);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      } else {
        await this.collections.states.replaceOne({ _id: key, seq: projection.seq }, next);
      }
    }
    throw new Error(`projection of ${key} did not settle after ${MAX_SYNC_ROUNDS} rounds`);
  }

  /**
   * The subject's chain head found by `_id` lookups only (an indexed point read on MongoDB; on
   * FerretDB the only filter it hands to SQLite): the projection, then the events after it, while
   * they exist. Normally two lookups.
   */
  private async chainHead(key: string): Promise<{ head: ChainHead | null; projection: StateDoc | null }> {
    const projection = await this.collections.states.findOne({ _id: key });
    let head: ChainHead | null = projection === null ? null : { ...projection, state: projection.statements, at: projection.at ?? new Date(0) };
    for (;;) {
      const next = await this.collections.events.findOne({ _id: eventIdOf(key, (head?.seq ?? 0) + 1) });
      if (next === null) return { head, projection };
      head = next;
    }
  }

  // The subject's head by a query over its whole chain: authoritative whatever the event ids.
  private async ledgerHead(key: string): Promise<{ head: EventDoc | null }> {
    return { head: await this.collections.events.find({ subject: key }).sort({ seq: -1 }).limit(1).next() };
  }

  private async maxGseq(): Promise<number> {
    const last = await this.collections.events.find({}, { projection: { gseq: 1 } }).sort({ gseq: -1 }).limit(1).next();
    return last?.gseq ?? 0;
  }

  /**
   * Finds subjects whose projection is behind their ledger head (a writer died between its insert
   * and its projection write) among events after `sinceGseq`, and repairs them. Returns the highest
   * gseq seen, to pass as `sinceGseq` next time, and the keys repaired.
   */
  async repairProjections(sinceGseq = 0): Promise<{ lastGseq: number; repaired: string[] }> {
    const heads = new Map<string, number>();
    let lastGseq = sinceGseq;
    const cursor = this.collections.events.find(
      { gseq: { $gt: sinceGseq } },
      { projection: { subject: 1, seq: 1, gseq: 1 } },
    );
    for await (const doc of cursor) {
      heads.set(doc.subject, Math.max(heads.get(doc.subject) ?? 0, doc.seq));
      lastGseq = Math.max(lastGseq, doc.gseq);
    }
    const repaired: string[] = [];
    if (heads.size === 0) return { lastGseq, repaired };
    const states = await this.readStates([...heads.keys()]);
    for (const [key, seq] of heads) {
      if ((states.get(key)?.seq ?? 0) < seq) {
        await this.syncProjection(key, { fromLedger: true });
        repaired.push(key);
      }
    }
    // New events since the last sweep: a writer that died after writing the projection but before
    // changing the version would leave caches behind, so the version changes here too.
    await bumpProjectionVersion(this.collections);
    return { lastGseq, repaired };
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

  /** Stops the cache and closes the connection pool. */
  async close(): Promise<void> {
    await this.cache?.close();
    await this.client.close();
  }
}

/** The statements of a projection document, as the core takes them. */
export function statementsOf(doc: StateDoc | undefined): Statement[] {
  if (doc === undefined) return [];
  return doc.statements.map((s) => ({
    id: s.id,
    artistId: doc.artistId,
    trackId: doc.trackId,
    purpose: s.purpose,
    choice: s.choice,
    termsVersion: s.termsVersion,
    source: s.source,
    actor: s.actor,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
  }));
}

/** A ledger document as the core's event type. */
export function eventFromDoc(doc: EventDoc): ConsentEvent {
  return {
    id: doc._id,
    seq: doc.seq,
    kind: doc.kind,
    artistId: doc.artistId,
    trackId: doc.trackId,
    purpose: doc.purpose,
    choice: doc.choice,
    termsVersion: doc.termsVersion,
    source: doc.source,
    actor: doc.actor,
    at: doc.at,
    expiresAt: doc.expiresAt,
    prevHash: doc.prevHash,
    hash: doc.hash,
  };
}

/** The revision string of a ledger document (its global position). */
export function revisionOf(doc: Pick<EventDoc, 'gseq'>): string {
  return String(doc.gseq);
}

/** What appending after a subject's head needs to know about it. */
export type ChainHead = Pick<EventDoc, 'artistId' | 'trackId' | 'seq' | 'gseq' | 'hash' | 'at' | 'state'>;

/** The id of a subject's event number `seq`: derived, so "is there an event after seq n?" is an `_id` lookup. */
export function eventIdOf(key: string, seq: number): string {
  return `${key}#${seq}`;
}

/** The projection document for a subject whose ledger head is `head`. */
export function stateFromHead(head: ChainHead & { subject: string }): StateDoc {
  return {
    _id: head.subject,
    artistId: head.artistId,
    trackId: head.trackId,
    seq: head.seq,
    gseq: head.gseq,
    hash: head.hash,
    at: head.at,
    statements: head.state,
  };
}

/** The ledger document that appends `change` after `head` (exported for tests that simulate a crashed writer). */
export function nextEventDoc(
  change: Change,
  key: string,
  actor: string,
  now: Date,
  head: ChainHead | null,
  lastGseq: number,
  idem: string | null,
): EventDoc {
  const id = eventIdOf(key, (head?.seq ?? 0) + 1);
  // A subject's chain never goes back in time, even if this host's clock is behind the last writer's.
  const at = head !== null && head.at.getTime() > now.getTime() ? head.at : now;
  const unhashed: UnhashedEvent = {
    id,
    seq: (head?.seq ?? 0) + 1,
    kind: change.kind,
    artistId: change.subject.artistId,
    trackId: change.subject.trackId,
    purpose: change.purpose,
    choice: change.kind === 'SET' ? change.choice : null,
    termsVersion: change.kind === 'SET' ? change.termsVersion : null,
    source: change.kind === 'SET' ? change.source : null,
    actor,
    at,
    expiresAt: change.kind === 'SET' ? change.expiresAt : null,
    prevHash: head?.hash ?? null,
  };
  return {
    _id: id,
    subject: key,
    seq: unhashed.seq,
    gseq: lastGseq + 1,
    idem: idem ?? `event:${id}`,
    kind: unhashed.kind,
    artistId: unhashed.artistId,
    trackId: unhashed.trackId,
    purpose: unhashed.purpose,
    choice: unhashed.choice,
    termsVersion: unhashed.termsVersion,
    source: unhashed.source,
    actor,
    at,
    expiresAt: unhashed.expiresAt,
    prevHash: unhashed.prevHash,
    hash: hashEvent(unhashed),
    state: applyToSubject(head?.state ?? [], unhashed),
  };
}

function assertSameChange(existing: EventDoc, change: Change): void {
  const subject: Subject = change.subject;
  const same =
    existing.kind === change.kind &&
    existing.artistId === subject.artistId &&
    existing.trackId === subject.trackId &&
    existing.purpose === change.purpose &&
    (change.kind === 'CLEAR' ||
      (existing.choice === change.choice &&
        existing.termsVersion === change.termsVersion &&
        existing.source === change.source &&
        (existing.expiresAt?.getTime() ?? null) === (change.expiresAt?.getTime() ?? null)));
  if (!same) {
    throw new IdempotencyConflictError(
      `idempotencyKey ${JSON.stringify(change.idempotencyKey)} was already used for a different change (event ${existing._id}); use a new key for a new change`,
    );
  }
}

/**
 * Runs a database call, turning driver failures (down, timed out, not primary) into
 * StoreUnavailableError; with `deadlineMs`, also fails with it once the deadline passes (the call
 * itself then ends on the driver's own timeouts, unobserved).
 */
export async function storeCall<T>(call: () => Promise<T>, deadlineMs?: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (deadlineMs === undefined) return await call();
    const pending = call();
    pending.catch(() => {});
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError()), deadlineMs);
    });
    return await Promise.race([pending, expired]);
  } catch (error) {
    if (error instanceof MongoError && !isDuplicateKey(error)) throw new StoreUnavailableError({ cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(2 ** Math.min(attempt, 6), 50);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
