import { Binary, BSON, type Collection } from 'mongodb';
import type { Collections, EventDoc, TailDoc } from './collections.js';
import { maxGseq } from './chainHeads.js';
import { failedIndexes, hasOnlyDuplicateKeys, isDuplicateKey, writeErrorsOf } from './storeCall.js';

// The commit log ("tail") of the ledger: one document per group commit, keyed by the commit's
// first gseq (as a zero-padded string, see `commitKey`). Why it exists: on FerretDB a read that
// filters on anything but a string `_id` costs in proportion to the collection it reads (DESIGN
// §6), so neither writers nor caches can ask consent_events "what happened since position g?".
// Here they ask for the commit whose `_id` is g + 1, then the one after it: point reads. The log
// is split into bucket collections of LOG_BUCKET_SIZE gseqs (`consent_commits_<n>`, holding the
// commits whose first gseq falls in bucket n), so pruning drops whole buckets once their commits
// are in the projection, and a load reads only what is left.
//
// A writer inserts its round's events into consent_events first (the unique index on gseq makes
// that insert the commit, see LedgerWriter), then the commit here, before acknowledging. Commits
// form one gapless chain of gseq ranges, each starting where the one before it ended: a writer
// builds gseqs from `end + 1` only after reading the commit that ends at `end`, and a commit that
// lost the race collides on its `_id` (a sweep that heals the log the same, see `logEvents`).

/** Gseqs per log bucket collection. */
export const LOG_BUCKET_SIZE = 256;

/** Most events in one commit document. */
export const MAX_EVENTS_PER_COMMIT = 64;

/** Name prefix of the log's bucket collections. */
export const LOG_COLLECTION_PREFIX = 'consent_commits_';

/**
 * The `_id` of the commit that starts at gseq `first`: the number as a zero-padded string, so string
 * order is gseq order. FerretDB pushes an `_id` equality down to SQLite only for strings (and
 * ObjectIds): a point read of a commit by a string `_id` took 1.4 ms in a bucket of 200 commits, by
 * a number 9–12 ms, as much as reading the whole bucket (measured on v1.24). Followers read the
 * log by such point reads.
 */
export function commitKey(first: number): string {
  return String(first).padStart(16, '0');
}

/**
 * The collection of done markers, `{_id: first gseq of a commit}`: a commit is done once its
 * marker exists (or, in logs written before the markers, its own `done` field). A marker is an
 * insert, so a round of any number of commits is marked done in one `insertMany`; updating the
 * commit documents themselves would rewrite every event in them (on FerretDB, tens of ms each).
 */
export const LOG_DONE_COLLECTION = 'consent_commits_done';

/** How long done commits stay in the log (ms): followers that read it more often than this never miss one. */
export const TAIL_RETAIN_MS = 60_000;

/** The bucket of a gseq (the genesis marker, `_id` 0, lives in bucket 0). */
export function bucketOf(gseq: number): number {
  return Math.max(0, Math.floor((gseq - 1) / LOG_BUCKET_SIZE));
}

/**
 * Starts the log of a ledger that has none: a marker commit `{_id: 0, last: M}` (no events) saying
 * that gseqs 1..M were written before the log, where M is the ledger's highest gseq. Writers start it
 * before their first insert, so every event after M goes through the log; a racing writer's marker
 * collides and is the same. Idempotent.
 */
export async function startLog(collections: Collections, knownEnd?: number): Promise<void> {
  // The projection's highest head is the ledger's end unless a writer died before projecting;
  // such events collide with the first commit, whose writer then puts them into the log.
  const last = knownEnd ?? (await maxGseq(collections));
  try {
    await logBucket(collections, 0).insertOne(toStored({ _id: 0, last, at: new Date(), events: [], done: true }));
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
}

/**
 * A commit as stored: its events as one BSON binary (`payload`) rather than as nested documents.
 * FerretDB decodes every document a query reads (DESIGN §6), a follow reads the bucket up to its
 * position, and decoding one binary costs about a quarter of decoding the same events as documents
 * (measured: 14 vs 57 ms for a bucket of 128 commits). Commits written before carry `events`.
 */
export interface StoredCommit extends Omit<TailDoc, '_id' | 'events'> {
  /** `commitKey` of the first gseq (a number in the log as written before, see upgradeLog.ts). */
  _id: string | number;
  events?: TailDoc['events'];
  payload?: Binary;
}

function toStored({ _id, events, ...commit }: TailDoc): StoredCommit {
  return events.length === 0 ? { _id: commitKey(_id), ...commit, events } : { _id: commitKey(_id), ...commit, payload: new Binary(BSON.serialize({ events })) };
}

/** A commit as read: `_id` a number again, and its events decoded. */
export function fromStored({ _id, payload, events, ...commit }: StoredCommit): TailDoc {
  return { _id: Number(_id), ...commit, events: events ?? (payload === undefined ? [] : (BSON.deserialize(payload.buffer).events as TailDoc['events'])) };
}

/** The bucket collection `bucket` of the log (documents as stored: read them through this module's functions). */
export function logBucket(collections: Collections, bucket: number): Collection<StoredCommit> {
  return collections.events.db.collection<StoredCommit>(`${LOG_COLLECTION_PREFIX}${bucket}`);
}

/** The log's bucket numbers, in order (one listCollections). */
export async function listBuckets(collections: Collections): Promise<number[]> {
  const names = await collections.events.db.listCollections({}, { nameOnly: true }).toArray();
  return bucketNumbers(names.map((c) => c.name), LOG_COLLECTION_PREFIX);
}

/** The bucket numbers among collection names `<prefix><n>`, in order (also for the old log, upgradeLog.ts). */
export function bucketNumbers(names: readonly string[], prefix: string): number[] {
  return names
    .filter((name) => name.startsWith(prefix))
    .map((name) => Number(name.slice(prefix.length)))
    .filter((n) => Number.isInteger(n) && n >= 0)
    .sort((a, b) => a - b);
}

/**
 * The commits after gseq `end`, in order, as far as they follow without a gap: point reads by
 * `_id` (commits form one chain, each starting where the one before ended, see the top of this
 * file), one per commit, and one that finds none unless a commit reaches `through` (a log end
 * announced, projectionVersion.ts) first. A follower that finds many commits in a row reads the
 * rest of each bucket in one range read instead (on FerretDB about as dear as 10 point reads).
 */
export async function readCommitsAfter(collections: Collections, end: number, comment?: string, through?: number): Promise<TailDoc[]> {
  const found: TailDoc[] = [];
  let at = end;
  for (let pointReads = 0; pointReads < POINT_READS_BEFORE_RANGE; pointReads++) {
    if (through !== undefined && at >= through) return found;
    const commit = await readCommit(collections, at + 1, comment);
    if (commit === null) return found;
    found.push(commit);
    at = commit.last;
  }
  for (;;) {
    const bucket = bucketOf(at + 1);
    const docs = await logBucket(collections, bucket)
      .find({ _id: { $gt: commitKey(at) } }, comment === undefined ? {} : { comment })
      .sort({ _id: 1 })
      .toArray();
    const before = at;
    for (const doc of docs.map(fromStored)) {
      if (doc._id !== at + 1) break;
      found.push(doc);
      at = doc.last;
    }
    // Nothing new, the next commit would start in this bucket (read whole), or the announced end reached: done.
    if (at === before || bucketOf(at + 1) === bucket || (through !== undefined && at >= through)) return found;
  }
}

/** Point reads a follow makes before it reads the rest of the log by buckets. */
const POINT_READS_BEFORE_RANGE = 8;

/** Every commit still in the log, in order (one read per bucket). */
export async function readAllCommits(collections: Collections, comment?: string): Promise<TailDoc[]> {
  const commits: TailDoc[] = [];
  for (const bucket of await listBuckets(collections)) {
    commits.push(...(await logBucket(collections, bucket).find({}, comment === undefined ? {} : { comment }).sort({ _id: 1 }).toArray()).map(fromStored));
  }
  return commits;
}

/** `readAllCommits` with `done` set from the done markers (read after the commits: one more read). */
export async function readAllCommitsWithDone(collections: Collections, comment?: string): Promise<TailDoc[]> {
  const commits = await readAllCommits(collections, comment);
  const done = await readDoneMarkers(collections, comment);
  for (const commit of commits) if (done.has(commit._id)) commit.done = true;
  return commits;
}

function doneMarkers(collections: Collections): Collection<{ _id: number }> {
  return collections.events.db.collection<{ _id: number }>(LOG_DONE_COLLECTION);
}

/** The first gseqs of the commits marked done (one read of a small collection). */
export async function readDoneMarkers(collections: Collections, comment?: string): Promise<Set<number>> {
  const docs = await doneMarkers(collections).find({}, comment === undefined ? {} : { comment }).toArray();
  return new Set(docs.map((doc) => doc._id));
}

/** Whether the commit starting at `commit._id` is done. */
export async function isDone(collections: Collections, commit: TailDoc): Promise<boolean> {
  return commit.done === true || (await doneMarkers(collections).findOne({ _id: commit._id })) !== null;
}

/** Splits events (in gseq order, contiguous) into commit documents of at most MAX_EVENTS_PER_COMMIT. */
export function commitsOf(events: readonly EventDoc[], at: Date, by?: string): TailDoc[] {
  const commits: TailDoc[] = [];
  for (let i = 0; i < events.length; i += MAX_EVENTS_PER_COMMIT) {
    const chunk = events.slice(i, i + MAX_EVENTS_PER_COMMIT);
    commits.push({ _id: chunk[0]!.gseq, last: chunk.at(-1)!.gseq, at, events: chunk, ...(by === undefined ? {} : { by }) });
  }
  return commits;
}

/**
 * Inserts commits in order, each into its bucket; returns those that went in (a prefix: the first
 * collision on `_id` means another writer committed there first, and the rest must be rebuilt).
 */
export async function insertCommits(collections: Collections, commits: readonly TailDoc[]): Promise<TailDoc[]> {
  const inserted: TailDoc[] = [];
  let i = 0;
  while (i < commits.length) {
    const bucket = bucketOf(commits[i]!._id);
    let j = i;
    while (j < commits.length && bucketOf(commits[j]!._id) === bucket) j++;
    const group = commits.slice(i, j);
    try {
      await logBucket(collections, bucket).insertMany(group.map(toStored), { ordered: true });
      inserted.push(...group);
    } catch (error) {
      if (!isDuplicateKey(error) && !writeErrorsOf(error).some((e) => e.code === 11000)) throw error;
      const index = failedIndexes(error)[0] ?? 0;
      inserted.push(...group.slice(0, index));
      return inserted;
    }
    i = j;
  }
  return inserted;
}

/** The commit that starts at `first`, or null (a point read FerretDB pushes down). */
export async function readCommit(collections: Collections, first: number, comment?: string): Promise<TailDoc | null> {
  const stored = await logBucket(collections, bucketOf(first)).findOne({ _id: commitKey(first) }, comment === undefined ? {} : { comment });
  return stored === null ? null : fromStored(stored);
}

/** Marks commits done: their events are in consent_events and the projection is at or past them. */
export async function markDone(collections: Collections, firsts: readonly number[]): Promise<void> {
  for (let i = 0; i < firsts.length; i += MARKERS_PER_INSERT) {
    try {
      await doneMarkers(collections).insertMany(
        firsts.slice(i, i + MARKERS_PER_INSERT).map((_id) => ({ _id })),
        { ordered: false },
      );
    } catch (error) {
      // Marked already (two projectors, or the sweep and a projector, finished the same commit).
      if (!isDuplicateKey(error) && !hasOnlyDuplicateKeys(error)) throw error;
    }
  }
}

const MARKERS_PER_INSERT = 1000;

/**
 * Drops whole buckets whose commits are all done and older than TAIL_RETAIN_MS, never the newest
 * bucket (it tells a starting writer where the ledger ends). Returns the buckets dropped.
 */
export async function pruneCommits(collections: Collections, now: Date): Promise<number[]> {
  const buckets = await listBuckets(collections);
  const dropped: number[] = [];
  const done = await readDoneMarkers(collections);
  for (const bucket of buckets.slice(0, -1)) {
    const commits = (await logBucket(collections, bucket).find({}, { projection: { events: 0, payload: 0 } }).toArray()).map(fromStored);
    const prunable = commits.every((c) => (c.done === true || done.has(c._id)) && c.at.getTime() < now.getTime() - TAIL_RETAIN_MS);
    // Buckets go in order: a follower behind a kept bucket must still find the ones after it.
    if (!prunable) break;
    await logBucket(collections, bucket).drop().catch(() => false);
    dropped.push(bucket);
  }
  // The markers of the commits dropped (commits start in the bucket of their first gseq).
  if (dropped.length > 0) await doneMarkers(collections).deleteMany({ _id: { $lte: (dropped.at(-1)! + 1) * LOG_BUCKET_SIZE } });
  return dropped;
}

/** Whether the log has no commit at all (a ledger written before it, or a new one). */
export async function logIsEmpty(collections: Collections): Promise<boolean> {
  return (await listBuckets(collections)).length === 0;
}

/** Drops the whole log (tests that wipe the ledger; never the service). */
export async function dropLog(collections: Collections): Promise<void> {
  for (const bucket of await listBuckets(collections)) await logBucket(collections, bucket).drop().catch(() => false);
  await doneMarkers(collections).drop().catch(() => false);
}

/**
 * Puts committed events (contiguous, in gseq order) into the log as commits made `by` a writer
 * (none: a sweep healing the log). A commit already
 * there (another writer, or a sweep healing the log, got there first) is taken as it is. Returns
 * the commits that now hold the events, in order.
 */
export async function logEvents(collections: Collections, events: readonly EventDoc[], by?: string): Promise<TailDoc[]> {
  const logged: TailDoc[] = [];
  let remaining = events;
  while (remaining.length > 0) {
    const inserted = await insertCommits(collections, commitsOf(remaining, new Date(), by));
    logged.push(...inserted);
    const next = inserted.at(-1)?.last ?? remaining[0]!.gseq - 1;
    remaining = remaining.filter((event) => event.gseq > next);
    if (remaining.length === 0) break;
    const existing = await readCommit(collections, remaining[0]!.gseq);
    if (existing === null) throw new Error(`the commit log refused a commit at gseq ${remaining[0]!.gseq} that it does not hold`);
    logged.push(existing);
    remaining = remaining.filter((event) => event.gseq > existing.last);
  }
  return logged;
}

/** The last gseq in the log (0 for an empty log). */
export async function logEnd(collections: Collections): Promise<number> {
  const buckets = await listBuckets(collections);
  let newest = 0;
  for (const bucket of buckets.slice(-2)) {
    const doc = await logBucket(collections, bucket).find({}, { projection: { last: 1 } }).sort({ _id: -1 }).limit(1).next();
    newest = Math.max(newest, doc?.last ?? 0);
  }
  return newest;
}

/**
 * Events in the ledger after the log's end that no commit lists (a writer died between its two
 * inserts, or something wrote around the log): puts them into the log, in order. Returns the
 * commits made (none for an empty log: a ledger that never had one starts it at its end).
 */
export async function healLog(collections: Collections, end?: number): Promise<TailDoc[]> {
  if (end === undefined && (await logIsEmpty(collections))) return [];
  const from = end ?? (await logEnd(collections));
  // A point read first: nearly always there is no orphan, and on FerretDB the range read below
  // costs about ten times as much as a lookup that finds nothing (DESIGN §6).
  if ((await collections.events.findOne({ gseq: from + 1 }, { projection: { _id: 1 } })) === null) return [];
  const orphans = await collections.events.find({ gseq: { $gt: from } }).sort({ gseq: 1 }).limit(1000).toArray();
  let contiguous = 0;
  while (contiguous < orphans.length && orphans[contiguous]!.gseq === from + contiguous + 1) contiguous++;
  return contiguous === 0 ? [] : logEvents(collections, orphans.slice(0, contiguous));
}
