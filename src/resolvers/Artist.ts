import { parseId } from '../consent/validate.js';
import type { RequestContext } from '../context.js';
import { subjectKey } from '../store/subjectKey.js';
import { loadConsentViewAsOf } from './consentView.js';
import { loadHistory, type HistoryArgs } from './ConsentEventConnection.js';

/** An artist as this subgraph knows it: only its id. */
export interface ArtistRef {
  readonly id: string;
}

/** Resolvers of `Artist`: references are validated before anything reads the database. */
export const Artist = {
  __resolveReference: (ref: { id?: unknown }): ArtistRef => ({ id: parseId(ref.id, 'Artist.id') }),
  consent: (artist: ArtistRef, args: { asOf?: Date | null }, ctx: RequestContext) =>
    loadConsentViewAsOf(ctx, { artistId: artist.id, trackId: null }, args.asOf),
  consentHistory: (artist: ArtistRef, args: HistoryArgs, ctx: RequestContext) =>
    loadHistory(ctx, subjectKey({ artistId: artist.id, trackId: null }), args),
};
