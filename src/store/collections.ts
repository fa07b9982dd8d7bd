import type { Collection, Db, Document, IndexDescription } from 'mongodb';
import type { Purpose } from '../consent/purposes.js';
import type { Choice } from '../consent/statement.js';
import type { EventKind, SubjectStatement } from '../consent/event.js';

/** A statement as stored inside a projection document and a ledger event's `state`. */
export type StatementDoc = SubjectStatement;

/**
 * One ledger event. `seq` orders a subject's chain; `gseq` orders all events (the change feed);
 * `idem` is unique: the caller's idempotency key scoped to its actor, or the event id when none.
 * `state` is the subject's statements after this event, so the projection and point-in-time reads
 * need only the head (or the latest event before T), never a replay.
 */
export interface EventDoc {
  _id: string;
  subject: string;
  seq: number;
  gseq: number;
  idem: string;
  kind: EventKind;
  artistId: string;
  trackId: string | null;
  purpose: Purpose;
  choice: Choice | null;
  termsVersion: string | null;
  source: string | null;
  actor: string;
  at: Date;
  expiresAt: Date | null;
  prevHash: string | null;
  hash: string;
  state: StatementDoc[];
}

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
