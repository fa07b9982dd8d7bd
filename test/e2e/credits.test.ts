import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countReads } from '../helpers/database.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { postGraphQL } from '../helpers/subgraph.js';
import { readToken, TEST_SECRET, writeToken } from '../helpers/tokens.js';

// Credited parties end to end: the catalog (test fixture) serves each track's featured and original
// artists, Hive Gateway fetches them for Track.consent's @requires, and the consent subgraph decides
// over every party.

const TRACKS = /* GraphQL */ `
  query Tracks($ids: [ID!]!, $purpose: ConsentPurpose!) {
    tracks(ids: $ids) {
      id
      featuredArtists { id name }
      consent { decision(purpose: $purpose) { allowed scope statement { artistId trackId } parties { artistId role allowed } } }
    }
  }`;

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) {
    setConsent(input: $input) {
      event { artistId trackId }
      decision { allowed parties { artistId role allowed } }
      track { id consent { decision(purpose: VOICE_REPLICATION) { allowed parties { artistId role allowed } } } }
    }
  }`;

const BULK = 300;

describe('credited parties through Hive Gateway', () => {
  let supergraph: RunningSupergraph;
  let reader: string;
  const query = (q: string, variables: Record<string, unknown>, token = reader) => postGraphQL(supergraph.url, q, variables, token);
  const set = (input: Record<string, unknown>, token: string) => query(SET, { input: { termsVersion: 'tos-1', ...input } }, token);

  beforeAll(async () => {
    const names = ['main', 'vocal', 'orig', 'remixer', 'guest', ...Array.from({ length: 20 }, (_, i) => `crowd-${i}`)];
    supergraph = await startSupergraph({
      catalog: {
        artists: names.map((n) => ({ id: `ar-${n}`, name: n })),
        tracks: [
          { id: 'tr-solo', title: 'Solo', artistId: 'ar-main' },
          { id: 'tr-duet', title: 'Duet', artistId: 'ar-main', featuredArtistIds: ['ar-vocal'] },
          { id: 'tr-remix', title: 'Remix', artistId: 'ar-remixer', originalArtistIds: ['ar-orig'] },
          { id: 'tr-guest', title: 'Guest', artistId: 'ar-main', featuredArtistIds: ['ar-guest'] },
          ...Array.from({ length: BULK }, (_, i) => ({
            id: `tr-bulk-${i}`,
            title: `Bulk ${i}`,
            artistId: 'ar-main',
            featuredArtistIds: Array.from({ length: 12 }, (_, k) => `ar-crowd-${(i + k) % 20}`),
            originalArtistIds: ['ar-orig', ...Array.from({ length: 7 }, (_, k) => `ar-crowd-${(i + 12 + k) % 20}`)],
          })),
        ],
      },
    });
    reader = await readToken(TEST_SECRET, 'training-pipeline');
    const seeder = await writeToken(TEST_SECRET, ['ar-main', 'ar-vocal', 'ar-orig', 'ar-remixer'], 'seed');
    for (const artistId of ['ar-main', 'ar-vocal', 'ar-orig', 'ar-remixer']) {
      const res = await set({ subject: { artistId }, purpose: 'AI_TRAINING', choice: 'ALLOW' }, seeder);
      expect(res.errors).toBeUndefined();
    }
    expect((await set({ subject: { artistId: 'ar-vocal' }, purpose: 'VOICE_REPLICATION', choice: 'DENY' }, seeder)).errors).toBeUndefined();
    expect((await set({ subject: { artistId: 'ar-orig', trackId: 'tr-remix' }, purpose: 'MUSIC_REPLICATION', choice: 'DENY' }, seeder)).errors).toBeUndefined();
  }, 60_000);
  afterAll(() => supergraph?.stop());

  it('decides each track over the catalog\'s credits: a featured vocalist blocks voice replication, an original artist blocks a remix', async () => {
    const voice = await query(TRACKS, { ids: ['tr-solo', 'tr-duet', 'tr-remix'], purpose: 'VOICE_REPLICATION' });
    const music = await query(TRACKS, { ids: ['tr-solo', 'tr-duet', 'tr-remix'], purpose: 'MUSIC_REPLICATION' });

    expect(voice.errors).toBeUndefined();
    expect(voice.data.tracks.map((t: any) => [t.id, t.consent.decision])).toEqual([
      ['tr-solo', { allowed: true, scope: 'ARTIST', statement: { artistId: 'ar-main', trackId: null }, parties: [{ artistId: 'ar-main', role: 'MAIN', allowed: true }] }],
      ['tr-duet', {
        allowed: false, scope: 'ARTIST', statement: { artistId: 'ar-vocal', trackId: null },
        parties: [{ artistId: 'ar-main', role: 'MAIN', allowed: true }, { artistId: 'ar-vocal', role: 'FEATURED', allowed: false }],
      }],
      ['tr-remix', {
        allowed: true, scope: 'ARTIST', statement: { artistId: 'ar-remixer', trackId: null },
        parties: [{ artistId: 'ar-remixer', role: 'MAIN', allowed: true }, { artistId: 'ar-orig', role: 'ORIGINAL', allowed: true }],
      }],
    ]);
    expect(music.errors).toBeUndefined();
    expect(music.data.tracks.map((t: any) => [t.id, t.consent.decision.allowed, t.consent.decision.statement])).toEqual([
      ['tr-solo', true, { artistId: 'ar-main', trackId: null }],
      ['tr-duet', true, { artistId: 'ar-main', trackId: null }],
      ['tr-remix', false, { artistId: 'ar-orig', trackId: 'tr-remix' }],
    ]);
  });

  it('keeps recommendation with the main artist whatever the featured artists say', async () => {
    const res = await query(TRACKS, { ids: ['tr-duet'], purpose: 'RECOMMENDATION' });
    expect(res.data.tracks[0].consent.decision).toEqual({ allowed: true, scope: 'PLATFORM', statement: null, parties: [{ artistId: 'ar-main', role: 'MAIN', allowed: true }] });
  });

  it(`answers ${BULK} tracks with 20 credited artists each in at most 2 database reads`, async () => {
    const ids = Array.from({ length: BULK }, (_, i) => `tr-bulk-${i}`);
    // The projector of the setup's writes follows the log when it is done: not a read of this request.
    await supergraph.subgraph.store.projectionSettled();
    const { result, reads } = await countReads(supergraph.subgraph.store, () => query(TRACKS, { ids, purpose: 'AI_TRAINING' }));

    expect(result.errors).toBeUndefined();
    expect(result.data.tracks).toHaveLength(BULK);
    for (const track of result.data.tracks) {
      expect(track.consent.decision.parties).toHaveLength(21);
      // The crowd never opted in, so the first of them (the first featured artist) denies.
      expect(track.consent.decision).toMatchObject({ allowed: false, scope: 'PLATFORM', statement: null });
      expect(track.consent.decision.parties.filter((p: any) => p.allowed).map((p: any) => p.artistId)).toEqual(['ar-main', 'ar-orig']);
    }
    expect(reads).toBeLessThanOrEqual(2);
  });

  it('lets a featured artist set consent for the track with their own token; the payload\'s track reflects the catalog\'s credits', async () => {
    const guest = await writeToken(TEST_SECRET, ['ar-guest'], 'guest-app');
    const subject = { artistId: 'ar-guest', trackId: 'tr-guest' };

    const allowAll = await set({ subject, purpose: 'AI_TRAINING', choice: 'ALLOW' }, guest);
    expect(allowAll.errors).toBeUndefined();
    expect(allowAll.data.setConsent.event).toEqual(subject);
    expect(allowAll.data.setConsent.track).toEqual({
      id: 'tr-guest',
      consent: { decision: { allowed: true, parties: [{ artistId: 'ar-main', role: 'MAIN', allowed: true }, { artistId: 'ar-guest', role: 'FEATURED', allowed: true }] } },
    });

    const denyVoice = await set({ subject, purpose: 'VOICE_REPLICATION', choice: 'DENY', credits: { mainArtistId: 'ar-main', featuredArtistIds: ['ar-guest'] } }, guest);
    expect(denyVoice.errors).toBeUndefined();
    const expected = { allowed: false, parties: [{ artistId: 'ar-main', role: 'MAIN', allowed: true }, { artistId: 'ar-guest', role: 'FEATURED', allowed: false }] };
    expect(denyVoice.data.setConsent.track.consent.decision).toEqual(expected);
    expect(denyVoice.data.setConsent.decision).toEqual(expected);

    // Not credited on tr-solo: the same artist's statement filed there does not count for it.
    const elsewhere = await set({ subject: { artistId: 'ar-guest', trackId: 'tr-solo' }, purpose: 'VOICE_REPLICATION', choice: 'DENY' }, guest);
    expect(elsewhere.errors).toBeUndefined();
    expect(elsewhere.data.setConsent.track.consent.decision).toEqual({ allowed: true, parties: [{ artistId: 'ar-main', role: 'MAIN', allowed: true }] });
  });

  it('refuses a write for a track by an artist the token does not hold', async () => {
    const guest = await writeToken(TEST_SECRET, ['ar-guest'], 'guest-app');
    const res = await set({ subject: { artistId: 'ar-vocal', trackId: 'tr-duet' }, purpose: 'VOICE_REPLICATION', choice: 'ALLOW' }, guest);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});
