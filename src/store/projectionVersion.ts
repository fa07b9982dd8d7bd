import { randomUUID } from 'node:crypto';
import type { Collections } from './collections.js';
import { isDuplicateKey } from './storeCall.js';

/** The `_id` of the one document of `consent_meta` that holds the projection's version. */
export const PROJECTION_VERSION_ID = 'projection';

/**
 * Gives the projection a new version and a new epoch: after the projection or the ledger changed
 * outside the commit log (a seed written straight into the collections, a repair), so that every
 * cache loads again. Commits call `announceCommit` instead.
 *
 * A token, not a counter: FerretDB's updates are not atomic read-modify-write, so two racing `$inc`
 * could both write the same number and a reader would miss the second change. A `$set` of a value
 * nobody has written before needs no atomicity: whatever interleaving, the document never holds a
 * token again once another has replaced it, so "the token is still T" means "nothing changed since
 * T was read".
 */
export async function bumpProjectionVersion(collections: Collections): Promise<void> {
  await setVersion(collections, { token: randomUUID(), epoch: randomUUID(), at: new Date() });
}

/**
 * Announces a commit through the commit log (tail.ts): a new token in the same epoch, so caches
 * follow the log instead of loading the projection again.
 */
export async function announceCommit(collections: Collections): Promise<string> {
  const token = randomUUID();
  await setVersion(collections, { token, at: new Date() });
  return token;
}

async function setVersion(collections: Collections, fields: { token: string; epoch?: string; at: Date }): Promise<void> {
  const update = { $set: fields };
  try {
    await collections.meta.updateOne({ _id: PROJECTION_VERSION_ID }, update, { upsert: true });
  } catch (error) {
    // Two upserts of a missing document race on the unique _id: the loser's document exists now.
    if (!isDuplicateKey(error)) throw error;
    await collections.meta.updateOne({ _id: PROJECTION_VERSION_ID }, update);
  }
}

/** The projection's version: the token (any change) and the epoch (a change outside the commit log). */
export interface ProjectionVersion {
  readonly token: string;
  readonly epoch: string;
  /** A writer that lost the last rounds to another and asks it to leave a gap. */
  readonly waiting?: { readonly by: string; readonly at: Date };
}

/** The projection's current version; null if the document is missing (never cached against). */
export async function readProjectionVersion(collections: Collections, comment?: string): Promise<ProjectionVersion | null> {
  // The turn request lives in a document of its own: FerretDB rewrites a whole document on any
  // update, so a write of `waiting` racing a commit's new token could put an old token back.
  const docs = await collections.meta.find({ _id: { $in: [PROJECTION_VERSION_ID, TURN_ID] } }, comment === undefined ? {} : { comment }).toArray();
  const doc = docs.find((d) => d._id === PROJECTION_VERSION_ID);
  const turn = docs.find((d) => d._id === TURN_ID)?.waiting;
  return doc === undefined ? null : { token: doc.token, epoch: doc.epoch ?? '', ...(turn === undefined ? {} : { waiting: turn }) };
}

/** Creates the version document if it is missing (at start-up; idempotent, safe to race). */
export async function ensureProjectionVersion(collections: Collections): Promise<void> {
  try {
    await collections.meta.insertOne({ _id: PROJECTION_VERSION_ID, token: randomUUID(), epoch: randomUUID(), at: new Date() });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
}

/**
 * Shares version reads between concurrent requests without ever giving a request an answer older
 * than its own start: a caller joins a read only if that read has not started yet. While one read
 * is in flight, every caller that arrives waits for the next one, which starts when the first ends;
 * so under load there is at most one version read in flight and one queued, however many requests.
 */
export function coalescedReader<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  let queued: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const pending = read();
    inFlight = pending;
    const settle = () => {
      if (inFlight === pending) inFlight = null;
    };
    pending.then(settle, settle);
    return pending;
  };
  return () => {
    if (inFlight === null) return start();
    queued ??= inFlight.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      queued = null;
      return start();
    });
    return queued;
  };
}

/** Tells other writers that `writer` keeps losing the race for the next gseq (see LedgerWriter). */
export async function askForTurn(collections: Collections, writer: string): Promise<void> {
  await collections.meta.updateOne({ _id: TURN_ID }, { $set: { token: '', at: new Date(), waiting: { by: writer, at: new Date() } } }, { upsert: true }).catch((error: unknown) => {
    // Two first requests race on the unique _id: one is enough.
    if (!isDuplicateKey(error)) throw error;
  });
}

/** The `_id` of the document in `consent_meta` where a starved writer asks for a turn. */
export const TURN_ID = 'turn';

/** `_id` prefix of a writer's heartbeat document in `consent_meta` (Projector), followed by the writer's id. */
export const WRITER_HEARTBEAT_PREFIX = 'writer:';

/** How often a projector with commits to finish says so (ms); a writer silent for two beats is taken for dead. */
export const HEARTBEAT_MS = 5000;

/**
 * The ids of the writers whose projector said within `withinMs` of `now` that it still has commits
 * to finish; heartbeats ten times older are deleted on the way (writers that stopped without closing).
 */
export async function liveWriters(collections: Collections, now: Date, withinMs: number): Promise<Set<string>> {
  const docs = await collections.meta.find({ kind: 'writer' }).toArray();
  const live = new Set<string>();
  for (const doc of docs) {
    const age = now.getTime() - doc.at.getTime();
    if (age <= withinMs) live.add(doc._id.slice(WRITER_HEARTBEAT_PREFIX.length));
    else if (age > 10 * withinMs) await collections.meta.deleteOne({ _id: doc._id, at: doc.at });
  }
  return live;
}
