import { InvalidInputError } from './errors.js';
import { parseId, trackSubject } from './validate.js';

/** How an artist is credited on a track (DESIGN §7). */
export type CreditRole = 'MAIN' | 'FEATURED' | 'ORIGINAL';

/** The artists the catalog credits on one track: the main artist, featured performers, original artists. */
export interface Credits {
  readonly mainArtistId: string;
  readonly featuredArtistIds: readonly string[];
  readonly originalArtistIds: readonly string[];
}

/**
 * A track as the gateway represents it to this subgraph: its id and, through `@requires`, its
 * artist and credited artists as `{ id }` objects; unchecked until used.
 */
export interface TrackRepresentation {
  readonly id: string;
  readonly artist?: unknown;
  readonly featuredArtists?: unknown;
  readonly originalArtists?: unknown;
}

/** One credited artist whose own statements are decided on their own. */
export interface Party {
  readonly artistId: string;
  readonly role: CreditRole;
}

// A cap keeps the work per track, and the ids one batch read asks for, bounded whatever a client sends.
/** The most featured and original artists one track may credit together, on top of its main artist. */
export const MAX_CREDITED_ARTISTS = 20;

/**
 * The parties of a track: MAIN first, then FEATURED, then ORIGINAL, each list in the given order;
 * an artist credited more than once counts once, under its first role.
 */
export function partiesOf(credits: Credits): Party[] {
  const parties: Party[] = [{ artistId: credits.mainArtistId, role: 'MAIN' }];
  // parseCredits caps the lists at MAX_CREDITED_ARTISTS, so a linear scan is cheaper than a Set.
  const add = (artistId: string, role: CreditRole): void => {
    if (!parties.some((p) => p.artistId === artistId)) parties.push({ artistId, role });
  };
  for (const id of credits.featuredArtistIds) add(id, 'FEATURED');
  for (const id of credits.originalArtistIds) add(id, 'ORIGINAL');
  return parties;
}

/**
 * Validates `{ mainArtistId, featuredArtistIds?, originalArtistIds? }` from a client or the catalog (a
 * missing list means none; one artist in two roles is fine, twice in one list is not), throwing
 * InvalidInputError that names `path` and quotes the bad value.
 */
export function parseCredits(input: unknown, path: string): Credits {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError(
      `${path} must be an object with mainArtistId and optional featuredArtistIds and originalArtistIds, but got: ${quote(input)}`,
      path,
    );
  }
  const { mainArtistId, featuredArtistIds, originalArtistIds } = input as Record<string, unknown>;
  const main = parseId(mainArtistId, `${path}.mainArtistId`);
  const featured = asList(featuredArtistIds, `${path}.featuredArtistIds`);
  const original = asList(originalArtistIds, `${path}.originalArtistIds`);
  // Counted before any id is looked at, so an oversized list costs no more than its length.
  const count = featured.length + original.length;
  if (count > MAX_CREDITED_ARTISTS) {
    throw new InvalidInputError(
      `${path}: a track credits at most ${MAX_CREDITED_ARTISTS} featured and original artists together, but got: ${count}`,
      path,
    );
  }
  return {
    mainArtistId: main,
    featuredArtistIds: parseIdList(featured, `${path}.featuredArtistIds`),
    originalArtistIds: parseIdList(original, `${path}.originalArtistIds`),
  };
}

/**
 * The credits of a track representation (`artist { id }`, `featuredArtists { id }`,
 * `originalArtists { id }` from the catalog), validated like parseCredits; a missing credit list
 * means none. Throws InvalidInputError naming the representation's field.
 */
export function trackCredits(track: TrackRepresentation): Credits {
  const { artistId } = trackSubject(track);
  return parseCredits(
    {
      mainArtistId: artistId,
      featuredArtistIds: idsOf(track.featuredArtists, 'Track.featuredArtists'),
      originalArtistIds: idsOf(track.originalArtists, 'Track.originalArtists'),
    },
    'Track',
  );
}

// `[{ id }]` becomes `[id]` for parseCredits to check; a list item that is not an artist object is
// refused here, since a bare id is not what a catalog sends.
function idsOf(artists: unknown, field: string): unknown {
  if (!Array.isArray(artists)) return artists;
  // Bounded before any item is looked at, as parseCredits bounds the ids.
  if (artists.length > MAX_CREDITED_ARTISTS) {
    throw new InvalidInputError(`${field} credits at most ${MAX_CREDITED_ARTISTS} artists, but got: ${artists.length}`, field);
  }
  return artists.map((artist: unknown, i) => {
    if (typeof artist !== 'object' || artist === null || Array.isArray(artist)) {
      throw new InvalidInputError(`${field}[${i}] must be an artist ({ id }), but got: ${quote(artist)}`, `${field}[${i}]`);
    }
    return (artist as { id?: unknown }).id;
  });
}

function asList(value: unknown, field: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidInputError(`${field} must be a list of artist ids, but got: ${quote(value)}`, field);
  return value;
}

function parseIdList(list: readonly unknown[], field: string): string[] {
  const ids: string[] = [];
  list.forEach((value, i) => {
    const id = parseId(value, `${field}[${i}]`);
    // A repeat inside one list is a catalog or client mistake worth reporting, not something to hide.
    if (ids.includes(id)) {
      throw new InvalidInputError(`${field} must not list an artist twice, but ${quote(id)} appears again at ${field}[${i}]`, field);
    }
    ids.push(id);
  });
  return ids;
}

// Quotes a bad value for an error message, bounded so a huge input can't bloat the response.
function quote(value: unknown): string {
  let text: string;
  try {
    // JSON.stringify gives undefined for undefined, functions and symbols.
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
