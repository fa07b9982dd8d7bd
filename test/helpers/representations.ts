import type { Subject } from '../../src/consent/statement.js';

/** A federation `_entities` representation of an Artist, as a gateway sends it. */
export interface ArtistRef {
  readonly __typename: 'Artist';
  readonly id: string;
}

/** A federation `_entities` representation of a Track, with the artist id its `consent` field `@requires`. */
export interface TrackRef {
  readonly __typename: 'Track';
  readonly id: string;
  readonly artist: { readonly id: string };
}

/** The representation of artist `id`. */
export function anArtistRef(id: string): ArtistRef {
  return { __typename: 'Artist', id };
}

/** The representation of track `id` of artist `artistId`. */
export function aTrackRef(id: string, artistId: string): TrackRef {
  return { __typename: 'Track', id, artist: { id: artistId } };
}

/** A Track representation with the credits its `consent` field `@requires` (DESIGN §7). */
export interface CreditedTrackRef extends TrackRef {
  readonly featuredArtists: ReadonlyArray<{ readonly id: string }>;
  readonly originalArtists: ReadonlyArray<{ readonly id: string }>;
}

/** The representation of track `id` by `artistId`, featuring `featured` and derived from the work of `original`. */
export function aCreditedTrackRef(id: string, artistId: string, featured: readonly string[] = [], original: readonly string[] = []): CreditedTrackRef {
  return {
    ...aTrackRef(id, artistId),
    featuredArtists: featured.map((artist) => ({ id: artist })),
    originalArtists: original.map((artist) => ({ id: artist })),
  };
}

/** The representation of a subject: its track when it names one, else its artist. */
export function refOf(subject: Subject): ArtistRef | TrackRef {
  return subject.trackId === null ? anArtistRef(subject.artistId) : aTrackRef(subject.trackId, subject.artistId);
}
