import { decodeNumericCursor, encodeCursor, parseFirst } from '../consent/cursor.js';
import { parsePurpose } from '../consent/validate.js';
import type { ConsentEvent } from '../consent/event.js';
import type { RequestContext } from '../context.js';
import type { EventDoc } from '../store/collections.js';
import { eventFromDoc } from '../store/ConsentStore.js';
import type { EventPage, HistoryRequest } from '../store/history.js';

/** Most events one page of a subject's history may ask for. */
export const MAX_HISTORY_PAGE = 100;

/** A page of ledger events as the `ConsentEventConnection` type. */
export interface ConsentEventConnection {
  readonly edges: ReadonlyArray<{ readonly cursor: string; readonly node: ConsentEvent }>;
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

/** The arguments of `consentHistory`, as GraphQL passes them. */
export interface HistoryArgs {
  readonly first?: unknown;
  readonly after?: unknown;
  readonly purpose?: unknown;
}

/** Builds a connection from a page; `emptyEndCursor` is the endCursor of a page without events. */
export function toConnection(page: EventPage, cursorOf: (doc: EventDoc) => string, emptyEndCursor: string | null): ConsentEventConnection {
  const edges = page.events.map((doc) => ({ cursor: cursorOf(doc), node: eventFromDoc(doc) }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? emptyEndCursor } };
}

/**
 * One page of a subject's ledger history, newest first. Arguments are validated before any read;
 * every history asked for in one request shares one ledger read.
 */
export async function loadHistory(ctx: RequestContext, key: string, args: HistoryArgs): Promise<ConsentEventConnection> {
  const request: HistoryRequest = {
    key,
    first: parseFirst(args.first ?? 50, MAX_HISTORY_PAGE),
    beforeSeq: args.after === undefined || args.after === null ? null : decodeNumericCursor(args.after, 'history'),
    purpose: args.purpose === undefined || args.purpose === null ? null : parsePurpose(args.purpose),
  };
  const page = await ctx.loaders.historyPage.load(request);
  return toConnection(page, (doc) => encodeCursor('history', doc.seq), null);
}
