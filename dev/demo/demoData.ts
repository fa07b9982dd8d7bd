import type { Purpose } from '../../src/consent/purposes.js';
import type { Choice } from '../../src/consent/statement.js';

/** A demo artist, as the demo catalog subgraph serves it. */
export interface DemoArtist {
  readonly id: string;
  readonly name: string;
}

/** A demo track, as the demo catalog subgraph serves it; absent credit lists mean none. */
export interface DemoTrack {
  readonly id: string;
  readonly title: string;
  readonly artistId: string;
  readonly featuredArtistIds?: readonly string[];
  readonly originalArtistIds?: readonly string[];
}

/** A statement the demo seed records. */
export interface DemoStatement {
  readonly artistId: string;
  readonly trackId?: string;
  readonly purpose: Purpose;
  readonly choice: Choice;
  readonly expiresAt?: string;
}

// The first four artists, three tracks each, are what the tests and docs query; the credited
// parties (DESIGN §7) have artists and tracks of their own, so adding them changed none of those answers.
const FIRST_FOUR: readonly DemoArtist[] = [
  { id: 'artist-aurora', name: 'Aurora Vale' },
  { id: 'artist-basalt', name: 'Basalt Choir' },
  { id: 'artist-cinder', name: 'Cinder & Moss' },
  { id: 'artist-delta', name: 'Delta Rue' },
];

/**
 * The demo artists: four with three tracks each; a vocalist featured on a Basalt Choir track (Echo
 * Lark); an artist whose song was remixed (Fable Static); and the remixer (Glint Harbour).
 */
export const DEMO_ARTISTS: readonly DemoArtist[] = [
  ...FIRST_FOUR,
  { id: 'artist-echo', name: 'Echo Lark' },
  { id: 'artist-fable', name: 'Fable Static' },
  { id: 'artist-glint', name: 'Glint Harbour' },
];

/** The track on which a featured vocalist (Echo Lark) keeps her voice out of AI while the main artist allows it. */
export const DEMO_FEATURED_TRACK_ID = 'track-basalt-4';

/** The remix whose original artist (Fable Static) keeps the work out of generative AI while the remixer allows it. */
export const DEMO_REMIX_TRACK_ID = 'track-glint-1';

/** The demo tracks, with their credits. */
export const DEMO_TRACKS: readonly DemoTrack[] = [
  ...FIRST_FOUR.flatMap((artist, a) =>
    ['Morning', 'Undertow', 'Glasshouse'].map((word, t) => ({
      id: `track-${artist.id.slice('artist-'.length)}-${t + 1}`,
      title: `${word} ${['I', 'II', 'III', 'IV'][a]}`,
      artistId: artist.id,
    })),
  ),
  { id: DEMO_FEATURED_TRACK_ID, title: 'Tidewater (feat. Echo Lark)', artistId: 'artist-basalt', featuredArtistIds: ['artist-echo'] },
  { id: 'track-echo-1', title: 'Lantern', artistId: 'artist-echo' },
  { id: 'track-fable-1', title: 'Paper Moon', artistId: 'artist-fable' },
  { id: DEMO_REMIX_TRACK_ID, title: 'Paper Moon (Glint Harbour Remix)', artistId: 'artist-glint', originalArtistIds: ['artist-fable'] },
];

/**
 * Varied consent: Aurora allows generative training but not her voice, with one track opted out
 * of all AI training; Basalt allows all AI training until 2030; Cinder says nothing (platform
 * defaults); Delta opts out of advertising and allows inference on one track only. The credited
 * parties speak for themselves: Echo allows generative training but not voice replication on the
 * Basalt track she sings on; Fable denies generative training, so Glint's remix of her song is out
 * of it although Glint allows all AI training.
 */
export const DEMO_STATEMENTS: readonly DemoStatement[] = [
  { artistId: 'artist-aurora', purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' },
  { artistId: 'artist-aurora', purpose: 'VOICE_REPLICATION', choice: 'DENY' },
  { artistId: 'artist-aurora', trackId: 'track-aurora-2', purpose: 'AI_TRAINING', choice: 'DENY' },
  { artistId: 'artist-basalt', purpose: 'AI_TRAINING', choice: 'ALLOW', expiresAt: '2030-01-01T00:00:00Z' },
  { artistId: 'artist-delta', purpose: 'ADVERTISING', choice: 'DENY' },
  { artistId: 'artist-delta', trackId: 'track-delta-3', purpose: 'AI_INFERENCE', choice: 'ALLOW' },
  // Appended after the first six, whose idempotency keys (their positions) are already in seeded databases.
  { artistId: 'artist-echo', purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' },
  { artistId: 'artist-echo', trackId: DEMO_FEATURED_TRACK_ID, purpose: 'VOICE_REPLICATION', choice: 'DENY' },
  { artistId: 'artist-fable', purpose: 'GENERATIVE_AI_TRAINING', choice: 'DENY' },
  { artistId: 'artist-glint', purpose: 'AI_TRAINING', choice: 'ALLOW' },
];
