import type { Collection } from 'mongodb';
import type { Collections, TailDoc } from './collections.js';
import { syncProjection } from './projection.js';
import { bumpProjectionVersion } from './projectionVersion.js';
import { hasOnlyDuplicateKeys } from './storeCall.js';
import { bucketNumbers, fromStored, type StoredCommit } from './tail.js';

// The commit log as written before its commits were keyed by string (tail.ts `commitKey`): bucket
// collections `consent_log_<n>` with numeric `_id`s, and done markers in `consent_log_done`. The
// current log lives in other collections, so a database written by an older version has two logs
// until it is upgraded here.

/** Name prefix of the old log's bucket collections. */
export const OLD_LOG_PREFIX = 'consent_log_';

/** The old log's done markers. */
export const OLD_LOG_DONE_COLLECTION = 'consent_log_done';

const EVENTS_PER_INSERT = 1000;

/**
 * Retires a commit log in the old format, if the database has one: every commit in it is finished
 * (any of its events missing from consent_events inserted, as the commit's writer would have, and
 * its subjects' projections brought to their ledger heads), the projection gets a new epoch (caches
 * load again), and then the old collections are dropped. Idempotent, and safe to run
 * again after a crash part-way (the old log goes last). Runs before the store serves: the current
 * log then starts at the ledger's end like the log of a ledger that never had one. Replicas of the
 * older version must be stopped first: they write only to the old log (docs/operations.md).
 * Returns the commits it finished.
 */
export async function upgradeOldLog(collections: Collections): Promise<TailDoc[]> {
  const db = collections.events.db;
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
  const buckets = bucketNumbers(names, OLD_LOG_PREFIX);
  if (buckets.length === 0 && !names.includes(OLD_LOG_DONE_COLLECTION)) return [];
  const oldBucket = (n: number): Collection<StoredCommit> => db.collection<StoredCommit>(`${OLD_LOG_PREFIX}${n}`);
  const commits: TailDoc[] = [];
  for (const bucket of buckets) commits.push(...(await oldBucket(bucket).find({}).sort({ _id: 1 }).toArray()).map(fromStored));
  const events = commits.flatMap((commit) => commit.events);
  for (let i = 0; i < events.length; i += EVENTS_PER_INSERT) {
    try {
      await collections.events.insertMany(events.slice(i, i + EVENTS_PER_INSERT), { ordered: false });
    } catch (error) {
      // Inserted already: by the commit's writer, or by an upgrade that stopped part-way.
      if (!hasOnlyDuplicateKeys(error)) throw error;
    }
  }
  const subjects = new Set(events.map((event) => event.subject));
  for (const key of subjects) await syncProjection(collections, key, { fromLedger: true });
  if (commits.length > 0) await bumpProjectionVersion(collections);
  for (const bucket of buckets) await oldBucket(bucket).drop().catch(() => false);
  await db.collection(OLD_LOG_DONE_COLLECTION).drop().catch(() => false);
  return commits;
}
