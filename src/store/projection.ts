import type { Collections, StateDoc, TailDoc } from './collections.js';
import { healLog, logEnd, markDone, pruneCommits, readAllCommitsWithDone } from './tail.js';
import { chainHead, ledgerHead } from './chainHeads.js';
import { stateFromHead } from './documents.js';
import { randomUUID } from 'node:crypto';
import { announceCommit, bumpProjectionVersion, HEARTBEAT_MS, liveWriters, pruneAnnouncements } from './projectionVersion.js';
import { isDuplicateKey, storeCall } from './storeCall.js';

/** Most rounds a projection sync chases a head that concurrent writers keep moving (the append bound). */
export const MAX_SYNC_ROUNDS = 200;

/** The projection documents of the given subject keys, in one database read. */
export async function readStates(collections: Collections, keys: readonly string[], deadlineMs?: number): Promise<Map<string, StateDoc>> {
  const found = new Map<string, StateDoc>();
  if (keys.length === 0) return found;
  // One batch for all keys: the default first batch (101 documents) would add a getMore read, and
  // so would a batch exactly as large as the result (the server can't tell it is the last).
  const docs = await storeCall(() => collections.states.find({ _id: { $in: [...keys] } }, { batchSize: keys.length + 1 }).toArray(), deadlineMs);
  for (const doc of docs) found.set(doc._id, doc);
  return found;
}

/**
 * Rewrites the subject's projection from its ledger head until a re-read shows it at the head.
 * Each writer checks after its own write, so whichever write lands last is checked last: a stale
 * overwrite (possible where updates are not atomic) is always repaired by the writer that made it.
 * `fromLedger` finds the head with a full ledger query instead of by id (the repair sweep uses it).
 */
export async function syncProjection(collections: Collections, key: string, options: { fromLedger?: boolean; comment?: string } = {}): Promise<void> {
  for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
    const { head, projection } = options.fromLedger
      ? await Promise.all([ledgerHead(collections, key), collections.states.findOne({ _id: key })]).then(([h, p]) => ({ head: h, projection: p }))
      : await chainHead(collections, key, options.comment);
    if (head === null || (projection !== null && projection.seq >= head.seq)) return;
    const next = stateFromHead({ ...head, subject: key });
    if (projection === null) {
      try {
        await collections.states.insertOne(next);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    } else {
      await collections.states.replaceOne({ _id: key, seq: projection.seq }, next);
    }
  }
  throw new Error(`projection of ${key} did not settle after ${MAX_SYNC_ROUNDS} rounds`);
}

/**
 * Finds subjects whose projection is behind their ledger head (a writer died between its insert
 * and its projection write) among events after `sinceGseq`, and repairs them with `sync`. Returns
 * the highest gseq seen, to pass as `sinceGseq` next time, and the keys repaired.
 */
export async function repairProjections(
  collections: Collections,
  sinceGseq: number,
  sync: (key: string) => Promise<void>,
  options: RepairOptions = {},
): Promise<{ lastGseq: number; repaired: string[] }> {
  const now = options.now ?? new Date();
  if (options.deep === false) {
    await pruneCommits(collections, now);
    return { lastGseq: sinceGseq, repaired: [] };
  }
  const repaired = new Set<string>();
  // 0. Events after the log's end that no commit lists (a writer died between its two inserts):
  // into the log, and projected now (no writer will).
  if (options.healLog?.(await logEnd(collections)) ?? true) {
    for (let healed = await healLog(collections); healed.length > 0; healed = await healLog(collections)) {
      await projectCommits(collections, healed, sync, repaired);
    }
  }
  // 1. Commits a writer (or its projector) left undone for longer than a projection round takes,
  // except those this process's projector is still working through.
  const staleMs = options.staleCommitMs ?? STALE_COMMIT_MS;
  const commits = await readAllCommitsWithDone(collections);
  const undone = commits.filter((commit) => commit.done !== true);
  const old = undone.filter((commit) => commit.at.getTime() < now.getTime() - staleMs && !(options.ownCommit?.(commit._id) ?? false));
  // A writer whose projector beat lately (within staleMs, and at least two beats) is alive and working through its commits.
  const live = old.some((commit) => commit.by !== undefined) ? await liveWriters(collections, now, Math.max(staleMs, 2 * HEARTBEAT_MS)) : new Set<string>();
  const stale = old.filter((commit) => commit.by === undefined || !live.has(commit.by));
  if (stale.length > 0) await projectCommits(collections, stale, sync, repaired);
  await pruneAnnouncements(collections, now);

  // 2. Events written around the log (before it started, by an older writer, or a tool): their
  // projection may be behind. The sweep stops below the first commit still undone, which its own
  // writer is projecting.
  if (options.aroundLog === false) {
    await pruneCommits(collections, now);
    return { lastGseq: sinceGseq, repaired: [...repaired] };
  }
  // Nor above the log's end when it was read: what is committed after that is in the log, and
  // its writer is projecting it (a scan of the ledger takes long enough on FerretDB for a stream
  // of commits to land meanwhile; taking those for events written around the log made the sweep
  // rewrite them and make every replica's cache load again).
  const endAsRead = commits.reduce((end, commit) => Math.max(end, commit.last), Number.NEGATIVE_INFINITY);
  const floor = Math.min(undone.find((commit) => !stale.includes(commit))?._id ?? Number.POSITIVE_INFINITY, endAsRead + 1);
  const heads = new Map<string, number>();
  let lastGseq = sinceGseq;
  const range = Number.isFinite(floor) ? { $gt: sinceGseq, $lt: floor } : { $gt: sinceGseq };
  const cursor = collections.events.find({ gseq: range }, { projection: { subject: 1, seq: 1, gseq: 1 } });
  for await (const doc of cursor) {
    heads.set(doc.subject, Math.max(heads.get(doc.subject) ?? 0, doc.seq));
    lastGseq = Math.max(lastGseq, doc.gseq);
  }
  const outside: string[] = [];
  if (heads.size > 0) {
    const states = await readStates(collections, [...heads.keys()]);
    for (const [key, seq] of heads) {
      if ((states.get(key)?.seq ?? 0) < seq) {
        await sync(key);
        outside.push(key);
        repaired.add(key);
      }
    }
  }
  // The projection changed outside the log: caches load again.
  if (outside.length > 0) await bumpProjectionVersion(collections);
  await pruneCommits(collections, now);
  return { lastGseq, repaired: [...repaired] };
}

/**
 * How old an undone commit must be before the repair sweep takes it over from its writer (ms). A
 * projector that gives way to a steady stream of commits (Projector.ts) can be this far behind
 * while alive; taking over costs full-ledger reads on FerretDB, so this errs long. Reads never
 * wait for it: they follow the log, which keeps undone commits.
 */
export const STALE_COMMIT_MS = 60_000;

/** Options of {@link repairProjections}. */
export interface RepairOptions {
  readonly staleCommitMs?: number;
  readonly now?: Date;
  /**
   * Repair: heal the log, finish stale commits and look for events written around the log (reads
   * of the ledger, on FerretDB scans, and of the whole log); otherwise only prune. @default true
   */
  readonly deep?: boolean;
  /**
   * In a deep sweep, also read the ledger after `sinceGseq` for events written around the log
   * (step 2: on FerretDB a scan of the whole ledger, ~10 s on the bench's). Every event after the
   * log's genesis is in the log (gseq is unique, and events after its end are healed into it), so
   * the repairer does this at start-up only. @default true
   */
  readonly aroundLog?: boolean;
  /**
   * In a deep sweep, whether to look for events after the log's end (given) that no commit lists
   * (step 0: on FerretDB a scan of the whole ledger, ~30 s of its CPU on the bench's 100,000
   * events, since it filters on gseq). A writer heals them itself when its next insert collides, so
   * a periodic sweep need only look where no writer has moved the log on. @default always
   */
  readonly healLog?: (logEnd: number) => boolean;
  /** Whether a commit is this process's projector's to finish (skipped however old; other live writers' commits are skipped by their heartbeat). */
  readonly ownCommit?: (first: number) => boolean;
}

// Brings the projection of every subject of `commits` to its ledger head (adding to `repaired` those
// found behind), marks the commits done and announces them (a writer that died may never have).
async function projectCommits(collections: Collections, commits: readonly TailDoc[], sync: (key: string) => Promise<void>, repaired: Set<string>): Promise<void> {
  const heads = new Map<string, number>();
  for (const commit of commits) for (const event of commit.events) heads.set(event.subject, event.seq);
  for (const [key, seq] of heads) {
    const state = await collections.states.findOne({ _id: key });
    if ((state?.seq ?? 0) < seq) repaired.add(key);
    await sync(key);
  }
  await markDone(
    collections,
    commits.map((commit) => commit._id),
  );
  // Under an id of its own: no other update may race this one on the same announcement document.
  if (commits.length > 0) await announceCommit(collections, `sweep-${randomUUID()}`, Math.max(...commits.map((commit) => commit.last)));
}
