import { randomUUID } from 'node:crypto';
import type { Collections, MetaDoc } from './collections.js';
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
  await setMeta(collections, PROJECTION_VERSION_ID, { token: randomUUID(), epoch: randomUUID(), at: new Date() });
}

/**
 * Announces commits through the commit log (tail.ts): a new token and the log's end as `by` knows it,
 * in `by`'s own announcement document, so caches follow the log (to at least `end`) instead of
 * loading the projection again. One document per writer, because FerretDB's updates are not atomic
 * read-modify-write: a `$max` on one shared document could lose the higher end to a racing update.
 * Each writer announces its rounds one after another, so its own document's end only grows, and
 * the highest end over all documents is at least every commit announced before it was read.
 */
export async function announceCommit(collections: Collections, by: string, end: number): Promise<void> {
  await setMeta(collections, `${ANNOUNCE_PREFIX}${by}`, { token: randomUUID(), end, at: new Date(), kind: 'announce' });
}

/** `_id` prefix of a writer's announcement document in `consent_meta`, followed by the writer's id. */
export const ANNOUNCE_PREFIX = 'announce:';

/** How long an announcement document stays after its writer's last commit (ms), unless it holds the highest end. */
export const ANNOUNCEMENT_RETAIN_MS = 10 * 60_000;

/**
 * Deletes the announcement documents of writers that have not committed for ANNOUNCEMENT_RETAIN_MS
 * (stopped processes, sweeps), except the one with the highest end: the versions read afterwards
 * still end at least where they did. Returns how many it deleted.
 */
export async function pruneAnnouncements(collections: Collections, now: Date): Promise<number> {
  const docs = await collections.meta.find({ kind: 'announce' }).toArray();
  const highest = docs.reduce<MetaDoc | null>((best, doc) => (best === null || (doc.end ?? 0) > (best.end ?? 0) ? doc : best), null);
  let deleted = 0;
  for (const doc of docs) {
    if (doc === highest || now.getTime() - doc.at.getTime() <= ANNOUNCEMENT_RETAIN_MS) continue;
    // Only if it was not announced again meanwhile.
    deleted += (await collections.meta.deleteOne({ _id: doc._id, at: doc.at })).deletedCount;
  }
  return deleted;
}

// Sets fields of one consent_meta document, creating it if missing.
async function setMeta(collections: Collections, _id: string, fields: Partial<Omit<MetaDoc, '_id'>>): Promise<void> {
  const update = { $set: fields };
  try {
    await collections.meta.updateOne({ _id }, update, { upsert: true });
  } catch (error) {
    // Two upserts of a missing document race on the unique _id: the loser's document exists now.
    if (!isDuplicateKey(error)) throw error;
    await collections.meta.updateOne({ _id }, update);
  }
}

/** The projection's version: the token (any change) and the epoch (a change outside the commit log). */
export interface ProjectionVersion {
  readonly token: string;
  readonly epoch: string;
  /**
   * The highest end of the log any writer announced (see `announceCommit`): every commit
   * acknowledged before the version was read ends at or before it. Absent before the first announcement.
   */
  readonly end?: number;
  /** A writer that lost the last rounds to another and asks it to leave a gap. */
  readonly waiting?: { readonly by: string; readonly at: Date };
}

/** The projection's current version; null if the document is missing (never cached against). */
export async function readProjectionVersion(collections: Collections, comment?: string): Promise<ProjectionVersion | null> {
  // One read of the small consent_meta, whole: the version, the writers' announcements and the turn
  // request (in a document of its own: FerretDB rewrites a whole document on any update, so a write
  // of `waiting` racing a new token could put an old token back). On FerretDB a filter on `_id` with
  // `$in` scans the collection anyway.
  const docs = await collections.meta.find({}, comment === undefined ? {} : { comment }).toArray();
  const doc = docs.find((d) => d._id === PROJECTION_VERSION_ID);
  if (doc === undefined) return null;
  const turn = docs.find((d) => d._id === TURN_ID)?.waiting;
  const announcements = docs.filter((d) => d.kind === 'announce').sort((a, b) => (a._id < b._id ? -1 : 1));
  // The token changes with every announcement, as with any change to the version document.
  const token = [doc.token, ...announcements.map((d) => d.token)].join(' ');
  const end = announcements.length === 0 ? undefined : Math.max(...announcements.map((d) => d.end ?? 0));
  return { token, epoch: doc.epoch ?? '', ...(end === undefined ? {} : { end }), ...(turn === undefined ? {} : { waiting: turn }) };
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
