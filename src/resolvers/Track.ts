import type { TrackRepresentation } from '../consent/credits.js';
import { parseId, trackSubject } from '../consent/validate.js';
import type { TrackResolvers } from '../generated/graphql.js';

/** A track as resolvers receive it: the gateway's representation (see TrackRepresentation). */
export type TrackRef = TrackRepresentation;

/**
 * Resolvers of `Track`: the track's consent is decided over every artist the catalog credits on it;
 * its history is that of its main artist's statements about it.
 */
export const Track: TrackResolvers = {
  __resolveReference: (ref) => {
    const { artist, featuredArtists, originalArtists } = ref as TrackRef;
    return { id: parseId(ref.id, 'Track.id'), artist, featuredArtists, originalArtists };
  },
  consent: (track, args, ctx) => ctx.consent.trackConsent(track, args.asOf),
  consentHistory: (track, args, ctx) => ctx.consent.history(trackSubject(track), args),
};
