import { decide } from '../consent/decide.js';
import { decodeArtistCursor, decodeNumericCursor, encodeCursor, parseFirst } from '../consent/cursor.js';
import { InvalidInputError } from '../consent/errors.js';
import { DEFAULT_POLICY } from '../consent/policy.js';
import { parsePurpose, parseSubject } from '../consent/validate.js';
import type { RequestContext } from '../context.js';
import { artistsAllowing } from '../store/artistsAllowing.js';
import { changesAfter } from '../store/changeFeed.js';
import type { ConsentStore } from '../store/ConsentStore.js';
import { loadConsentViewAsOf } from './consentView.js';
import { toConnection } from './ConsentEventConnection.js';

/** Most requests one `consentDecisions` call answers. */
export const MAX_DECISION_REQUESTS = 1000;
/** Most events one page of the change feed may ask for. */
export const MAX_FEED_PAGE = 1000;
/** Most artists one page of `artistsAllowing` may ask for. */
export const MAX_ARTIST_PAGE = 1000;

/** Resolvers of `Query`, bound to the store they read. Every argument is validated before any read. */
export function createQuery(store: ConsentStore) {
  return {
    consentDecisions: (_: unknown, args: { requests: unknown; purpose: unknown; asOf?: Date | null }, ctx: RequestContext) =>
      consentDecisions(ctx, args),
    artistsAllowing: (_: unknown, args: { purpose: unknown; first?: unknown; after?: unknown }, ctx: RequestContext) =>
      listArtistsAllowing(store, ctx, args),
    consentChanges: (_: unknown, args: { after?: unknown; first?: unknown }) => consentChanges(store, args),
  };
}

// Decides every request at one instant; all subjects go through one loader batch: one database read.
async function consentDecisions(ctx: RequestContext, args: { requests: unknown; purpose: unknown; asOf?: Date | null }) {
  if (!Array.isArray(args.requests)) throw new InvalidInputError('requests must be a list of { artistId, trackId }', 'requests');
  if (args.requests.length > MAX_DECISION_REQUESTS) {
    throw new InvalidInputError(
      `consentDecisions takes at most ${MAX_DECISION_REQUESTS} requests per call, but got ${args.requests.length}; split the list.`,
      'requests',
    );
  }
  const purpose = parsePurpose(args.purpose);
  const subjects = args.requests.map((request, index) => parseSubject(request, `requests[${index}]`));
  const views = await Promise.all(subjects.map((subject) => loadConsentViewAsOf(ctx, subject, args.asOf)));
  return ctx.decisions.count(views.map((view) => decide(purpose, view.statements, view.at, DEFAULT_POLICY)));
}

async function listArtistsAllowing(store: ConsentStore, ctx: RequestContext, args: { purpose: unknown; first?: unknown; after?: unknown }) {
  const purpose = parsePurpose(args.purpose);
  const first = parseFirst(args.first ?? 100, MAX_ARTIST_PAGE);
  const afterArtistId = args.after === undefined || args.after === null ? null : decodeArtistCursor(args.after);
  const page = await artistsAllowing(store.collections, purpose, { first, afterArtistId, at: ctx.now, deadlineMs: store.deadlineMs });
  const edges = page.artistIds.map((id) => ({ cursor: encodeCursor('artists', id), node: { id } }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}

// An empty page keeps the caller's cursor as endCursor, so a consumer can always store and resume it.
async function consentChanges(store: ConsentStore, args: { after?: unknown; first?: unknown }) {
  const first = parseFirst(args.first ?? 100, MAX_FEED_PAGE);
  const hasAfter = args.after !== undefined && args.after !== null;
  const afterGseq = hasAfter ? decodeNumericCursor(args.after, 'feed') : 0;
  const page = await changesAfter(store.collections, afterGseq, first, store.deadlineMs);
  return toConnection(page, (doc) => encodeCursor('feed', doc.gseq), hasAfter ? encodeCursor('feed', afterGseq) : null);
}
