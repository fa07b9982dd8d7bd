import type { Collections } from './collections.js';
import { positionedEventFromDoc, type PositionedEvent } from './documents.js';
import type { EventPage } from './history.js';
import { storeCall } from './storeCall.js';

/**
 * The next events of the global change feed after position `afterGseq`, in gseq order.
 *
 * gseq is gapless: a writer takes max(gseq) + 1 under a unique index, so event n is inserted only
 * after n - 1 is visible. The page is cut at the first gap anyway, so a read racing a commit (an
 * index scan that is not one snapshot) returns only events that cannot be preceded by a later one;
 * the missing event shows up on the next read instead of being skipped.
 */
export async function changesAfter(collections: Collections, afterGseq: number, first: number, deadlineMs?: number): Promise<EventPage<PositionedEvent>> {
  const docs = await storeCall(() =>
    collections.events
      .find({ gseq: { $gt: afterGseq } }, { projection: { state: 0, idem: 0 }, batchSize: first + 1 })
      .sort({ gseq: 1 })
      .limit(first + 1)
      .toArray(),
    deadlineMs,
  );
  let contiguous = 0;
  while (contiguous < docs.length && docs[contiguous]!.gseq === afterGseq + contiguous + 1) contiguous++;
  const complete = contiguous === docs.length;
  return {
    events: docs.slice(0, Math.min(contiguous, first)).map(positionedEventFromDoc),
    // A gap means an event is still committing (or, if it stays, the ledger was tampered with:
    // `npm run ledger:verify` names it); either way there is more to read.
    hasNextPage: contiguous > first || !complete,
  };
}

/** The highest gseq in the ledger (0 for an empty one): where a feed "from now on" starts. */
export async function latestGseq(collections: Collections, deadlineMs?: number): Promise<number> {
  const doc = await storeCall(() => collections.events.find({}, { projection: { gseq: 1 } }).sort({ gseq: -1 }).limit(1).next(), deadlineMs);
  return doc?.gseq ?? 0;
}
