import { parseId } from '../consent/validate.js';
import type { RequestContext } from '../context.js';
import { loadConsentView } from './consentView.js';

/** An artist as this subgraph knows it: only its id. */
export interface ArtistRef {
  readonly id: string;
}

/** Resolvers of `Artist`: references are validated before anything reads the database. */
export const Artist = {
  __resolveReference: (ref: { id?: unknown }): ArtistRef => ({ id: parseId(ref.id, 'Artist.id') }),
  consent: (artist: ArtistRef, _args: unknown, ctx: RequestContext) =>
    loadConsentView(ctx.loaders, { artistId: artist.id, trackId: null }, ctx.now),
};
