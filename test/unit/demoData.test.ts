import { describe, expect, it } from 'vitest';
import { DEMO_CATALOG } from '../fixtures/catalogSubgraph.js';
import { DEMO_ARTISTS, DEMO_FEATURED_TRACK_ID, DEMO_REMIX_TRACK_ID, DEMO_STATEMENTS, DEMO_TRACKS } from '../../dev/demo/demoData.js';
import { partiesOf } from '../../src/consent/credits.js';
import { decideParties, statementsOfParties } from '../../src/consent/parties.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import type { Purpose } from '../../src/consent/purposes.js';
import type { Statement, Subject } from '../../src/consent/statement.js';
import { aStatement, atOffset } from '../helpers/builders.js';

// The demo data must show what the docs and the playground say it shows (DESIGN §7), decided by the
// same core the service uses, over the statements the demo seed records.

const statements: Statement[] = DEMO_STATEMENTS.map((s) =>
  aStatement({
    artistId: s.artistId,
    trackId: s.trackId ?? null,
    purpose: s.purpose,
    choice: s.choice,
    expiresAt: s.expiresAt === undefined ? null : new Date(s.expiresAt),
  }),
);
const lookup = (subject: Subject) => statements.filter((s) => s.artistId === subject.artistId && s.trackId === subject.trackId);
const track = (id: string) => DEMO_TRACKS.find((t) => t.id === id)!;

function decisionOn(trackId: string, purpose: Purpose) {
  const t = track(trackId);
  const parties = partiesOf({ mainArtistId: t.artistId, featuredArtistIds: t.featuredArtistIds ?? [], originalArtistIds: t.originalArtistIds ?? [] });
  return decideParties(purpose, statementsOfParties(parties, trackId, lookup), atOffset(1), DEFAULT_POLICY);
}

describe('the demo data', () => {
  it('credits only artists the demo catalog lists, and every statement is by an artist credited on its track', () => {
    const artistIds = new Set(DEMO_ARTISTS.map((a) => a.id));
    for (const t of DEMO_CATALOG.tracks) {
      for (const id of [t.artistId, ...(t.featuredArtistIds ?? []), ...(t.originalArtistIds ?? [])]) expect(artistIds).toContain(id);
    }
    for (const s of DEMO_STATEMENTS.filter((s) => s.trackId !== undefined)) {
      const t = track(s.trackId!);
      expect([t.artistId, ...(t.featuredArtistIds ?? []), ...(t.originalArtistIds ?? [])]).toContain(s.artistId);
    }
  });

  it('keeps the first four artists with three tracks each, as the tests and docs query them', () => {
    expect(DEMO_TRACKS.find((t) => t.id === 'track-aurora-2')).toEqual({ id: 'track-aurora-2', title: 'Undertow I', artistId: 'artist-aurora' });
    for (const artist of ['aurora', 'basalt', 'cinder', 'delta']) {
      expect(DEMO_TRACKS.filter((t) => /^track-[a-z]+-[123]$/.test(t.id) && t.artistId === `artist-${artist}`)).toHaveLength(3);
    }
    expect(DEMO_STATEMENTS.slice(0, 6).map((s) => s.artistId)).toEqual(['artist-aurora', 'artist-aurora', 'artist-aurora', 'artist-basalt', 'artist-delta', 'artist-delta']);
  });

  it('shows a featured vocalist denying voice replication on a track whose main artist allows it, while music replication stays allowed', () => {
    const voice = decisionOn(DEMO_FEATURED_TRACK_ID, 'VOICE_REPLICATION');
    expect(voice).toMatchObject({ allowed: false, basis: 'EXPLICIT', scope: 'TRACK' });
    expect(voice.parties.map(({ artistId, role, allowed, basis, scope }) => ({ artistId, role, allowed, basis, scope }))).toEqual([
      { artistId: 'artist-basalt', role: 'MAIN', allowed: true, basis: 'INHERITED', scope: 'ARTIST' },
      { artistId: 'artist-echo', role: 'FEATURED', allowed: false, basis: 'EXPLICIT', scope: 'TRACK' },
    ]);
    expect(decisionOn(DEMO_FEATURED_TRACK_ID, 'MUSIC_REPLICATION')).toMatchObject({ allowed: true });
  });

  it("shows a remix kept out of generative AI by its original artist although the remixer allows all AI training", () => {
    for (const purpose of ['GENERATIVE_AI_TRAINING', 'MUSIC_REPLICATION', 'VOICE_REPLICATION'] as const) {
      const decision = decisionOn(DEMO_REMIX_TRACK_ID, purpose);
      expect(decision.allowed).toBe(false);
      expect(decision.statement?.artistId).toBe('artist-fable');
      expect(decision.parties.map(({ artistId, role, allowed }) => ({ artistId, role, allowed }))).toEqual([
        { artistId: 'artist-glint', role: 'MAIN', allowed: true },
        { artistId: 'artist-fable', role: 'ORIGINAL', allowed: false },
      ]);
    }
    // Recommendation stays with the main artist alone.
    expect(decisionOn(DEMO_REMIX_TRACK_ID, 'RECOMMENDATION').parties.map((p) => p.role)).toEqual(['MAIN']);
  });
});
