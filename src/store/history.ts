import type { Filter } from 'mongodb';
import type { ConsentEvent } from '../consent/event.js';
import type { Purpose } from '../consent/purposes.js';
import type { Collections, EventDoc } from './collections.js';
import { eventFromDoc } from './documents.js';
import { storeCall } from './storeCall.js';

/** One page request of a subject's history, newest first. */
export interface HistoryRequest {
  readonly key: string;
  /** Only events with a lower seq (the cursor's position); null for the newest. */
  readonly beforeSeq: number | null;
  /** Only events about this purpose; null for all. */
  readonly purpose: Purpose | null;
  readonly first: number;
}

/** Events of one page, in the page's order, and whether more follow. */
export interface EventPage<E = ConsentEvent> {
  readonly events: E[];
  readonly hasNextPage: boolean;
}

/**
 * Answers several history pages in one ledger read. A single request reads just its page (sorted
 * and limited in the database); several read the union of their subjects and are cut in memory,
 * because on FerretDB every such query scans the whole ledger, so one read beats one per subject.
 */
export async function historyPages(collections: Collections, requests: readonly HistoryRequest[], deadlineMs?: number): Promise<EventPage[]> {
  if (requests.length === 0) return [];
  if (requests.length === 1) {
    const request = requests[0]!;
    const filter: Filter<EventDoc> = { subject: request.key };
    if (request.beforeSeq !== null) filter.seq = { $lt: request.beforeSeq };
    if (request.purpose !== null) filter.purpose = request.purpose;
    const docs = await storeCall(() => collections.events.find(filter, { batchSize: request.first + 1 }).sort({ seq: -1 }).limit(request.first + 1).toArray(), deadlineMs);
    return [pageOf(docs, request.first)];
  }
  const keys = [...new Set(requests.map((r) => r.key))];
  // One reply (batchSize), not a first batch of 101 plus getMores.
  const docs = await storeCall(() => collections.events.find({ subject: { $in: keys } }, { batchSize: 100_000 }).toArray(), deadlineMs);
  const bySubject = new Map<string, EventDoc[]>();
  for (const doc of docs) {
    const list = bySubject.get(doc.subject) ?? [];
    list.push(doc);
    bySubject.set(doc.subject, list);
  }
  for (const list of bySubject.values()) list.sort((a, b) => b.seq - a.seq);
  return requests.map((r) => {
    const matching = (bySubject.get(r.key) ?? []).filter(
      (doc) => (r.beforeSeq === null || doc.seq < r.beforeSeq) && (r.purpose === null || doc.purpose === r.purpose),
    );
    return pageOf(matching.slice(0, r.first + 1), r.first);
  });
}

function pageOf(docs: EventDoc[], first: number): EventPage {
  return { events: docs.slice(0, first).map(eventFromDoc), hasNextPage: docs.length > first };
}
