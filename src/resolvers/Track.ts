import { parseId, trackSubject } from '../consent/validate.js';
import type { TrackResolvers } from '../generated/graphql.js';

/** A track representation: its id and, when the gateway supplies it through `@requires`, its artist (checked when used). */
export interface TrackRef {
  readonly id: string;
  readonly artist?: unknown;
}

/**
 * Resolvers of `Track`: the track's statements (and its history) count only for
 * the artist the catalog says it has.
 */
export const Track: TrackResolvers = {
  __resolveReference: (ref) => ({ id: parseId(ref.id, 'Track.id'), artist: (ref as TrackRef).artist }),
  consent: (track, args, ctx) => ctx.consent.consent(trackSubject(track), args.asOf),
  consentHistory: (track, args, ctx) => ctx.consent.history(trackSubject(track), args),
};
