import { parseId } from '../consent/validate.js';
import type { RequestContext } from '../context.js';
import { subjectKey } from '../store/subjectKey.js';
import { loadConsentViewAsOf } from './consentView.js';
import { loadHistory, type HistoryArgs } from './ConsentEventConnection.js';

/** A track representation: its id and, when the gateway supplies it through `@requires`, its artist. */
export interface TrackRef {
  readonly id: string;
  readonly artist?: unknown;
}

/**
 * Resolvers of `Track`: the track's statements (and its history) count only for
 * the artist the catalog says it has.
 */
export const Track = {
  __resolveReference: (ref: { id?: unknown; artist?: unknown }): TrackRef => ({ id: parseId(ref.id, 'Track.id'), artist: ref.artist }),
  consent: (track: TrackRef, args: { asOf?: Date | null }, ctx: RequestContext) =>
    loadConsentViewAsOf(ctx, { artistId: artistIdOf(track), trackId: track.id }, args.asOf),
  consentHistory: (track: TrackRef, args: HistoryArgs, ctx: RequestContext) =>
    loadHistory(ctx, subjectKey({ artistId: artistIdOf(track), trackId: track.id }), args),
};

function artistIdOf(track: TrackRef): string {
  const artist = track.artist as { id?: unknown } | null | undefined;
  return parseId(typeof artist === 'object' && artist !== null ? artist.id : undefined, 'Track.artist.id');
}
