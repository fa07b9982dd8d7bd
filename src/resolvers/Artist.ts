import { parseId } from '../consent/validate.js';
import type { ArtistResolvers } from '../generated/graphql.js';

/** An artist as this subgraph knows it: only its id. */
export interface ArtistRef {
  readonly id: string;
}

/** Resolvers of `Artist`: references are validated before anything reads the database. */
export const Artist: ArtistResolvers = {
  __resolveReference: (ref) => ({ id: parseId(ref.id, 'Artist.id') }),
  consent: (artist, args, ctx) => ctx.consent.artistConsent(artist.id, args.asOf),
  consentHistory: (artist, args, ctx) => ctx.consent.history({ artistId: artist.id, trackId: null }, args),
};
