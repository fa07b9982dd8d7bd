import type { Collection, Db, Document, IndexDescription } from 'mongodb';
import type { ConsentEvent, SubjectStatement } from '../consent/event.js';

/** A statement as stored inside a projection document and a ledger event's `state`. */
export type StatementDoc = SubjectStatement;

/**
 * One ledger event: the event's own fields (declared once, in consent/event.ts) with its id as
 * `_id`, plus what the store keeps beside them. `seq` orders a subject's chain; `gseq` orders all
 * events (the change feed); `idem` is unique: the caller's idempotency key scoped to its actor, or
 * the event id when none. `state` is the subject's statements after this event, so the projection
 * and point-in-time reads need only the head (or the latest event before T), never a replay.
 */
export interface EventDoc extends Writable<Omit<ConsentEvent, 'id'>> {
  _id: string;
  subject: string;
  gseq: number;
  idem: string;
  state: StatementDoc[];
}

// The driver's filter and update types want writable fields.
type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The current-state projection of one subject, keyed by subject key; derived from the ledger head. */
export interface StateDoc {
  _id: string;
  artistId: string;
  trackId: string | null;
  seq: number;
  gseq: number;
  hash: string;
  /** When the head event was recorded: the next event of the chain is never earlier. */
  at: Date;
  statements: StatementDoc[];
}

/**
 * The projection's version (see projectionVersion.ts): a token replaced after every projection
 * change, so "has anything changed since?" is one small read.
 */
export interface MetaDoc {
  _id: string;
  token: string;
  at: Date;
  /**
   * Changed only when the projection or the ledger changed outside the commit log (a seed, a
   * repair): caches then load again instead of following the log. Absent on old documents.
   */
  epoch?: string;
  /** A writer starved by another's back-to-back commits asks it to leave a gap (LedgerWriter). */
  waiting?: { by: string; at: Date };
  /**
   * `writer`: a writer's heartbeat (`_id` `writer:<id>`, `at` its last beat): its projector still has
   * commits to finish. `announce`: a writer's announcement of its last commit (`_id` `announce:<id>`,
   * with `end`, see projectionVersion.ts `announceCommit`).
   */
  kind?: 'writer' | 'announce';
  /** Of an announcement: the log's end as its writer committed it. */
  end?: number;
}

/**
 * One commit of the ledger (see tail.ts): events of one group commit, in gseq order, keyed by the
 * first gseq (stored as a padded string, `commitKey`), in the log's bucket collection of that gseq.
 * In the log before its writer acknowledges it, then projected. Kept while recent or not yet
 * `done` (projected), then pruned.
 */
export interface TailDoc {
  _id: number;
  last: number;
  at: Date;
  events: EventDoc[];
  /**
   * Set on commits read with their done markers (tail.ts `readAllCommitsWithDone`), and stored on
   * logs written before the markers: every event is in consent_events and every subject's
   * projection is at or past it.
   */
  done?: boolean;
  /** The id of the writer that made the commit (absent when a sweep put orphaned events into the log). */
  by?: string;
}

/** The service's collections. */
export interface Collections {
  events: Collection<EventDoc>;
  states: Collection<StateDoc>;
  meta: Collection<MetaDoc>;
}

/** Names of the collections, for tools and tests that reach the database directly. */
export const COLLECTION_NAMES = Object.freeze({ events: 'consent_events', states: 'consent_state', meta: 'consent_meta' });

/** The typed collections of a database. */
export function collectionsOf(db: Db): Collections {
  return {
    events: db.collection<EventDoc>(COLLECTION_NAMES.events),
    states: db.collection<StateDoc>(COLLECTION_NAMES.states),
    meta: db.collection<MetaDoc>(COLLECTION_NAMES.meta),
  };
}

/**
 * Creates the indexes the invariants rest on (idempotent). The unique ones are what serialise
 * writers: (subject, seq) per subject, gseq across all subjects, idem per retried request.
 */
export async function ensureIndexes(collections: Collections): Promise<void> {
  await createMissing(collections.events, [
    { key: { subject: 1, seq: 1 }, name: 'subject_seq_unique', unique: true },
    { key: { gseq: 1 }, name: 'gseq_unique', unique: true },
    { key: { idem: 1 }, name: 'idem_unique', unique: true },
    { key: { artistId: 1, gseq: 1 }, name: 'artist_gseq' },
  ]);
  await createMissing(collections.states, [{ key: { artistId: 1 }, name: 'artist' }]);
}

// One createIndexes call per missing index: FerretDB v1.24 drops the connection on a
// createIndexes that lists several indexes of which some already exist (seen here).
async function createMissing<T extends Document>(collection: Collection<T>, specs: IndexDescription[]): Promise<void> {
  const existing = new Set((await collection.listIndexes().toArray().catch(() => [])).map((index) => index.name as string));
  for (const spec of specs) {
    if (!existing.has(spec.name!)) await collection.createIndexes([spec]);
  }
}
