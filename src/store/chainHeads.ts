import type { Collections, EventDoc, StateDoc } from './collections.js';
import { storeCall } from './storeCall.js';
import { eventIdOf, headOfState, type ChainHead } from './documents.js';

/**
 * The subject's chain head found by `_id` lookups only (an indexed point read on MongoDB; on
 * FerretDB the only filter it hands to SQLite): the projection, then the events after it, while
 * they exist. Normally two lookups.
 */
export async function chainHead(collections: Collections, key: string, comment?: string): Promise<{ head: ChainHead | null; projection: StateDoc | null }> {
  const options = comment === undefined ? {} : { comment };
  const projection = await collections.states.findOne({ _id: key }, options);
  let head: ChainHead | null = projection === null ? null : headOfState(projection);
  for (;;) {
    const next = await collections.events.findOne({ _id: eventIdOf(key, (head?.seq ?? 0) + 1) }, options);
    if (next === null) return { head, projection };
    head = next;
  }
}

/** The subject's head by a query over its whole chain: authoritative whatever the event ids. */
export async function ledgerHead(collections: Collections, key: string): Promise<EventDoc | null> {
  return collections.events.find({ subject: key }).sort({ seq: -1 }).limit(1).next();
}

/** The highest gseq in the ledger (0 when it is empty). */
export async function maxGseq(collections: Collections, comment?: string): Promise<number> {
  const last = await collections.events.find({}, { projection: { gseq: 1 }, ...(comment === undefined ? {} : { comment }) }).sort({ gseq: -1 }).limit(1).next();
  return last?.gseq ?? 0;
}

/** The ledger's global head: the highest gseq and that event's hash (position 0 and null for an empty ledger), in one read. */
export async function globalHead(collections: Collections, deadlineMs?: number): Promise<{ position: number; hash: string | null }> {
  const last = await storeCall(
    () => collections.events.find({}, { projection: { _id: 0, gseq: 1, hash: 1 } }).sort({ gseq: -1 }).limit(1).next(),
    deadlineMs,
  );
  return last === null ? { position: 0, hash: null } : { position: last.gseq, hash: last.hash };
}
