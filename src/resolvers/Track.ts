import { parseId, trackSubject } from '../consent/validate.js';
import type { TrackResolvers } from '../generated/graphql.js';

/**
 * A track representation: its id and, when the gateway supplies them through `@requires`, its
 * artist and credited artists (checked when used).
 */
export interface TrackRef {
  readonly id: string;
  readonly artist?: unknown;
  readonly featuredArtists?: unknown;
  readonly originalArtists?: unknown;
}

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
