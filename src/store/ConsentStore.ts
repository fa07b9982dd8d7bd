import { randomUUID } from 'node:crypto';
import { MongoError, MongoServerError, type MongoClient } from 'mongodb';
import { StoreUnavailableError } from '../errors.js';
import { hashEvent, type ConsentEvent, type UnhashedEvent } from '../consent/event.js';
import { IdempotencyConflictError } from '../consent/errors.js';
import type { Statement, Subject } from '../consent/statement.js';
import type { Change } from '../consent/validate.js';
import type { Collections, EventDoc, StateDoc, StatementDoc } from './collections.js';
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
const MAX_SYNC_ROUNDS = 20;

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
  ) {}

  /** The projection documents of the given subject keys, in one database read. */
  async statesByKeys(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    const found = new Map<string, StateDoc>();
    if (keys.length === 0) return found;
    const docs = await storeCall(() => this.collections.states.find({ _id: { $in: [...keys] } }).toArray());
    for (const doc of docs) found.set(doc._id, doc);
    return found;
  }

  /**
   * Appends a change to the subject's ledger chain as `actor` at `now`, then brings the projection
   * up to the ledger head. A reused idempotency key returns the first event and writes nothing; the
   * same key with a different change is an IdempotencyConflictError.
   */
  async append(change: Change, actor: string, now: Date): Promise<AppendResult> {
    return storeCall(() => this.appendOnce(change, actor, now));
  }

  private async appendOnce(change: Change, actor: string, now: Date): Promise<AppendResult> {
    const key = subjectKey(change.subject);
    const idem = change.idempotencyKey === null ? null : JSON.stringify([actor, change.idempotencyKey]);
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (idem !== null) {
        const existing = await this.collections.events.findOne({ idem });
        if (existing !== null) {
          assertSameChange(existing, change);
          await this.syncProjection(existing.subject);
          return { event: eventFromDoc(existing), revision: revisionOf(existing), replayed: true };
        }
      }
      const [head, last] = await Promise.all([
        this.collections.events.find({ subject: key }).sort({ seq: -1 }).limit(1).next(),
        this.collections.events.find({}, { projection: { gseq: 1 } }).sort({ gseq: -1 }).limit(1).next(),
      ]);
      const doc = nextEventDoc(change, key, actor, now, head, last?.gseq ?? 0, idem);
      try {
        await this.collections.events.insertOne(doc);
      } catch (error) {
        if (isDuplicateKey(error)) {
          await backoff(attempt);
          continue;
        }
        throw error;
      }
      await this.syncProjection(key);
      return { event: eventFromDoc(doc), revision: revisionOf(doc), replayed: false };
    }
    throw new Error(`append gave up after ${MAX_APPEND_ATTEMPTS} attempts on ${key}`);
  }

  /**
   * Rewrites the subject's projection from its ledger head until a re-read shows it at the head.
   * Each writer checks after its own write, so whichever write lands last is checked last: a stale
   * overwrite (possible where updates are not atomic) is always repaired by the writer that made it.
   */
  async syncProjection(key: string): Promise<void> {
    for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
      const [head, current] = await Promise.all([
        this.collections.events.find({ subject: key }).sort({ seq: -1 }).limit(1).next(),
        this.collections.states.findOne({ _id: key }),
      ]);
      if (head === null || (current !== null && current.seq >= head.seq)) return;
      const next = stateFromHead(head);
      if (current === null) {
        try {
          await this.collections.states.insertOne(next);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      } else {
        await this.collections.states.replaceOne({ _id: key, seq: current.seq }, next);
      }
    }
    throw new Error(`projection of ${key} did not settle after ${MAX_SYNC_ROUNDS} rounds`);
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
    const states = await this.statesByKeys([...heads.keys()]);
    for (const [key, seq] of heads) {
      if ((states.get(key)?.seq ?? 0) < seq) {
        await this.syncProjection(key);
        repaired.push(key);
      }
    }
    return { lastGseq, repaired };
  }

  /** Whether the database answers a ping within the deadline. */
  async ping(): Promise<boolean> {
    try {
      await this.client.db('admin').command({ ping: 1 });
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
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

/** The projection document for a subject whose ledger head is `head`. */
export function stateFromHead(head: EventDoc): StateDoc {
  return {
    _id: head.subject,
    artistId: head.artistId,
    trackId: head.trackId,
    seq: head.seq,
    gseq: head.gseq,
    hash: head.hash,
    statements: head.state,
  };
}

/** The statements after applying an event to the previous head's statements. */
export function nextState(previous: readonly StatementDoc[], event: UnhashedEvent): StatementDoc[] {
  const rest = previous.filter((s) => s.purpose !== event.purpose);
  if (event.kind === 'CLEAR') return rest;
  return [
    ...rest,
    {
      id: event.id,
      purpose: event.purpose,
      choice: event.choice!,
      termsVersion: event.termsVersion!,
      source: event.source,
      actor: event.actor,
      createdAt: event.at,
      expiresAt: event.expiresAt,
    },
  ];
}

function nextEventDoc(
  change: Change,
  key: string,
  actor: string,
  now: Date,
  head: EventDoc | null,
  lastGseq: number,
  idem: string | null,
): EventDoc {
  const id = randomUUID();
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
    state: nextState(head?.state ?? [], unhashed),
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

/** Runs a database call, turning driver failures (down, timed out, not primary) into StoreUnavailableError. */
export async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof MongoError && !isDuplicateKey(error)) throw new StoreUnavailableError({ cause: error });
    throw error;
  }
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(2 ** Math.min(attempt, 6), 50);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
