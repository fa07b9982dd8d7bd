import { parseId } from '../consent/validate.js';
import type { RequestContext } from '../context.js';
import type { ConsentStore } from '../store/ConsentStore.js';
import { subjectKey } from '../store/subjectKey.js';
import { loadConsentViewAsOf } from './consentView.js';
import { loadHistory, type HistoryArgs } from './ConsentEventConnection.js';

/** An artist as this subgraph knows it: only its id. */
export interface ArtistRef {
  readonly id: string;
}

/** Resolvers of `Artist`, bound to the store: references are validated before anything reads the database. */
export function createArtist(store: ConsentStore) {
  return {
    __resolveReference: (ref: { id?: unknown }): ArtistRef => ({ id: parseId(ref.id, 'Artist.id') }),
    consent: (artist: ArtistRef, args: { asOf?: Date | null }, ctx: RequestContext) =>
      loadConsentViewAsOf(store, ctx, { artistId: artist.id, trackId: null }, args.asOf),
    consentHistory: (artist: ArtistRef, args: HistoryArgs, ctx: RequestContext) =>
      loadHistory(store, ctx, subjectKey({ artistId: artist.id, trackId: null }), args),
  };
}
