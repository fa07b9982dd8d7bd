import { parseId } from '../consent/validate.js';
import type { RequestContext } from '../context.js';
import { loadConsentView } from './consentView.js';

/** A track representation: its id and, when the gateway supplies it through `@requires`, its artist. */
export interface TrackRef {
  readonly id: string;
  readonly artist?: unknown;
}

/** Resolvers of `Track`: the track's statements count only for the artist the catalog says it has. */
export const Track = {
  __resolveReference: (ref: { id?: unknown; artist?: unknown }): TrackRef => ({ id: parseId(ref.id, 'Track.id'), artist: ref.artist }),
  consent: (track: TrackRef, _args: unknown, ctx: RequestContext) =>
    loadConsentView(ctx.loaders, { artistId: artistIdOf(track), trackId: track.id }, ctx.now),
};

function artistIdOf(track: TrackRef): string {
  const artist = track.artist as { id?: unknown } | null | undefined;
  return parseId(typeof artist === 'object' && artist !== null ? artist.id : undefined, 'Track.artist.id');
}
