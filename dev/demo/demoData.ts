import type { Purpose } from '../../src/consent/purposes.js';
import type { Choice } from '../../src/consent/statement.js';

/** A demo artist, as the demo catalog subgraph serves it. */
export interface DemoArtist {
  readonly id: string;
  readonly name: string;
}

/** A demo track, as the demo catalog subgraph serves it. */
export interface DemoTrack {
  readonly id: string;
  readonly title: string;
  readonly artistId: string;
}

/** A statement the demo seed records. */
export interface DemoStatement {
  readonly artistId: string;
  readonly trackId?: string;
  readonly purpose: Purpose;
  readonly choice: Choice;
  readonly expiresAt?: string;
}

/** The demo catalog: four artists with three tracks each. */
export const DEMO_ARTISTS: readonly DemoArtist[] = [
  { id: 'artist-aurora', name: 'Aurora Vale' },
  { id: 'artist-basalt', name: 'Basalt Choir' },
  { id: 'artist-cinder', name: 'Cinder & Moss' },
  { id: 'artist-delta', name: 'Delta Rue' },
];

/** The demo tracks. */
export const DEMO_TRACKS: readonly DemoTrack[] = DEMO_ARTISTS.flatMap((artist, a) =>
  ['Morning', 'Undertow', 'Glasshouse'].map((word, t) => ({
    id: `track-${artist.id.slice('artist-'.length)}-${t + 1}`,
    title: `${word} ${['I', 'II', 'III', 'IV'][a]}`,
    artistId: artist.id,
  })),
);

/**
 * Varied consent: Aurora allows generative training but not her voice, with one track opted out
 * of all AI training; Basalt allows all AI training until 2030; Cinder says nothing (platform
 * defaults); Delta opts out of advertising and allows inference on one track only.
 */
export const DEMO_STATEMENTS: readonly DemoStatement[] = [
  { artistId: 'artist-aurora', purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' },
  { artistId: 'artist-aurora', purpose: 'VOICE_REPLICATION', choice: 'DENY' },
  { artistId: 'artist-aurora', trackId: 'track-aurora-2', purpose: 'AI_TRAINING', choice: 'DENY' },
  { artistId: 'artist-basalt', purpose: 'AI_TRAINING', choice: 'ALLOW', expiresAt: '2030-01-01T00:00:00Z' },
  { artistId: 'artist-delta', purpose: 'ADVERTISING', choice: 'DENY' },
  { artistId: 'artist-delta', trackId: 'track-delta-3', purpose: 'AI_INFERENCE', choice: 'ALLOW' },
];
