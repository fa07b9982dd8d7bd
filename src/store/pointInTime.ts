import type { Statement } from '../consent/statement.js';
import type { Collections, EventDoc } from './collections.js';
import { stateFromHead, statementsOf } from './documents.js';
import { storeCall } from './storeCall.js';

// One reply for the whole answer (the server still splits at 16 MiB): the default first batch of
// 101 documents would add getMore reads to a request that must cost one.
const ONE_BATCH = 100_000;

/**
 * The state each subject had at `at`, in one ledger read: the `state` of its latest event made at or
 * before `at` (highest seq, so several events in the same millisecond resolve to the last of them).
 * Subjects with no event by then are absent; with `throughGseq`, events after that global position
 * are left out too, so the answer is that of the ledger as it stood at that position. Returned as the statements the core decides on, like
 * current-state reads, so the same decision code judges both.
 */
export async function statesAt(
  collections: Collections,
  keys: readonly string[],
  at: Date,
  deadlineMs?: number,
  throughGseq?: number,
): Promise<Map<string, Statement[]>> {
  const latest = new Map<string, Pick<EventDoc, 'subject' | 'artistId' | 'trackId' | 'seq' | 'gseq' | 'hash' | 'at' | 'state'>>();
  if (keys.length === 0) return new Map();
  // FerretDB has no $group/$first, so the latest event per subject is picked here, not in the query.
  const docs = await storeCall(() =>
    collections.events
      .find(
        throughGseq === undefined ? { subject: { $in: [...keys] }, at: { $lte: at } } : { subject: { $in: [...keys] }, at: { $lte: at }, gseq: { $lte: throughGseq } },
        { projection: { _id: 0, subject: 1, artistId: 1, trackId: 1, seq: 1, gseq: 1, hash: 1, at: 1, state: 1 }, batchSize: ONE_BATCH },
      )
      .toArray(),
    deadlineMs,
  );
  for (const doc of docs) {
    const seen = latest.get(doc.subject);
    if (seen === undefined || seen.seq < doc.seq) latest.set(doc.subject, doc);
  }
  return new Map([...latest].map(([key, doc]) => [key, statementsOf(stateFromHead(doc))]));
}
