import type { Collections, StateDoc } from './collections.js';
import { chainHead, ledgerHead } from './chainHeads.js';
import { stateFromHead } from './documents.js';
import { bumpProjectionVersion } from './projectionVersion.js';
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
export async function syncProjection(collections: Collections, key: string, options: { fromLedger?: boolean } = {}): Promise<void> {
  for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
    const { head, projection } = options.fromLedger
      ? await Promise.all([ledgerHead(collections, key), collections.states.findOne({ _id: key })]).then(([h, p]) => ({ head: h, projection: p }))
      : await chainHead(collections, key);
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
): Promise<{ lastGseq: number; repaired: string[] }> {
  const heads = new Map<string, number>();
  let lastGseq = sinceGseq;
  const cursor = collections.events.find({ gseq: { $gt: sinceGseq } }, { projection: { subject: 1, seq: 1, gseq: 1 } });
  for await (const doc of cursor) {
    heads.set(doc.subject, Math.max(heads.get(doc.subject) ?? 0, doc.seq));
    lastGseq = Math.max(lastGseq, doc.gseq);
  }
  const repaired: string[] = [];
  if (heads.size === 0) return { lastGseq, repaired };
  const states = await readStates(collections, [...heads.keys()]);
  for (const [key, seq] of heads) {
    if ((states.get(key)?.seq ?? 0) < seq) {
      await sync(key);
      repaired.push(key);
    }
  }
  // New events since the last sweep: a writer that died after writing the projection but before
  // changing the version would leave caches behind, so the version changes here too.
  await bumpProjectionVersion(collections);
  return { lastGseq, repaired };
}
