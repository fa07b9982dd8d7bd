import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countReads } from '../helpers/database.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { postGraphQL } from '../helpers/subgraph.js';
import { readToken, TEST_SECRET, writeToken } from '../helpers/tokens.js';

// The scenario of the consent subgraph issue, run through Hive Gateway as a client would: the
// catalog owns titles, names and Track.artist; consent comes from the real subgraph and database.

const ARTIST = 'artist-nova';
const OTHER_ARTIST = 'artist-orbit';
const TRACKS = ['nova-1', 'nova-2', 'nova-3'];
const BULK = 500;

const TRACK_DECISIONS = /* GraphQL */ `
  query TrackDecisions($ids: [ID!]!) {
    tracks(ids: $ids) {
      id
      title
      artist { id name }
      consent { decisions { purpose allowed basis scope statement { id actor } policyVersion } }
    }
  }`;

const ARTIST_DECISIONS = /* GraphQL */ `
  query ArtistDecisions($id: ID!) {
    artist(id: $id) { id name consent { decisions { purpose allowed basis scope } } }
  }`;

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) {
    setConsent(input: $input) { revision event { seq actor } decision { purpose allowed basis scope } }
  }`;

const CLEAR = /* GraphQL */ `
  mutation Clear($input: ClearConsentInput!) {
    clearConsent(input: $input) { event { seq kind } decision { allowed basis scope } }
  }`;

type Decision = { purpose: string; allowed: boolean; basis: string; scope: string };
const byPurpose = (decisions: Decision[]) => Object.fromEntries(decisions.map((d) => [d.purpose, d]));

describe('the consent scenario through a real gateway', () => {
  let supergraph: RunningSupergraph;
  let reader: string;
  let artistApp: string;
  let otherArtistApp: string;

  const query = (q: string, variables: Record<string, unknown>, token?: string) => postGraphQL(supergraph.url, q, variables, token);
  const trackDecisions = async (ids: string[]) => {
    const res = await query(TRACK_DECISIONS, { ids }, reader);
    expect(res.errors).toBeUndefined();
    return res.data.tracks.map((t: { consent: { decisions: Decision[] } }) => byPurpose(t.consent.decisions));
  };
  const set = (input: Record<string, unknown>, token = artistApp) => query(SET, { input: { termsVersion: 'tos-2026-11', ...input } }, token);

  beforeAll(async () => {
    supergraph = await startSupergraph({
      catalog: {
        artists: [
          { id: ARTIST, name: 'Nova' },
          { id: OTHER_ARTIST, name: 'Orbit' },
        ],
        tracks: [
          ...TRACKS.map((id, i) => ({ id, title: `Nova ${i + 1}`, artistId: ARTIST })),
          ...Array.from({ length: BULK }, (_, i) => ({ id: `bulk-${i}`, title: `Bulk ${i}`, artistId: i % 2 ? ARTIST : OTHER_ARTIST })),
        ],
      },
    });
    reader = await readToken(TEST_SECRET, 'recommendations-service');
    artistApp = await writeToken(TEST_SECRET, [ARTIST], 'nova-app-user');
    otherArtistApp = await writeToken(TEST_SECRET, [OTHER_ARTIST], 'orbit-app-user');
  });

  afterAll(async () => {
    await supergraph?.stop();
  });

  it('answers the platform default for a new artist: AI denied, recommendation and advertising allowed', async () => {
    const res = await query(ARTIST_DECISIONS, { id: ARTIST }, reader);
    expect(res.data.artist.name).toBe('Nova');
    for (const d of res.data.artist.consent.decisions as Decision[]) {
      expect(d).toMatchObject({ basis: 'DEFAULT', scope: 'PLATFORM', allowed: d.purpose === 'RECOMMENDATION' || d.purpose === 'ADVERTISING' });
    }
  });

  it('lets the artist allow generative training, inherited by voice but not by other training', async () => {
    const res = await set({ subject: { artistId: ARTIST }, purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' });
    expect(res.errors).toBeUndefined();
    expect(res.data.setConsent.event.actor).toBe('nova-app-user');
    for (const d of await trackDecisions(TRACKS)) {
      expect(d.GENERATIVE_AI_TRAINING).toMatchObject({ allowed: true, basis: 'EXPLICIT', scope: 'ARTIST' });
      expect(d.VOICE_REPLICATION).toMatchObject({ allowed: true, basis: 'INHERITED', scope: 'ARTIST' });
      expect(d.NON_GENERATIVE_AI_TRAINING).toMatchObject({ allowed: false, basis: 'DEFAULT' });
      expect(d.AI_TRAINING).toMatchObject({ allowed: false, basis: 'DEFAULT' });
    }
  });

  it('lets a narrower denial of voice win while music stays allowed', async () => {
    await set({ subject: { artistId: ARTIST }, purpose: 'VOICE_REPLICATION', choice: 'DENY' });
    for (const d of await trackDecisions(TRACKS)) {
      expect(d.VOICE_REPLICATION).toMatchObject({ allowed: false, basis: 'EXPLICIT', scope: 'ARTIST' });
      expect(d.MUSIC_REPLICATION).toMatchObject({ allowed: true, basis: 'INHERITED', scope: 'ARTIST' });
    }
  });

  it('lets one track opt out of all AI training without touching the others, and clearing restores it', async () => {
    await set({ subject: { artistId: ARTIST, trackId: 'nova-2' }, purpose: 'AI_TRAINING', choice: 'DENY' });
    const [one, two, three] = await trackDecisions(TRACKS);
    expect(two.GENERATIVE_AI_TRAINING).toMatchObject({ allowed: false, basis: 'INHERITED', scope: 'TRACK' });
    expect(two.VOICE_REPLICATION).toMatchObject({ allowed: false, basis: 'INHERITED', scope: 'TRACK' });
    for (const other of [one, three]) expect(other.GENERATIVE_AI_TRAINING).toMatchObject({ allowed: true, scope: 'ARTIST' });

    const cleared = await query(CLEAR, { input: { subject: { artistId: ARTIST, trackId: 'nova-2' }, purpose: 'AI_TRAINING' } }, artistApp);
    expect(cleared.data.clearConsent.event.kind).toBe('CLEAR');
    const [, restored] = await trackDecisions(TRACKS);
    expect(restored.GENERATIVE_AI_TRAINING).toMatchObject({ allowed: true, basis: 'EXPLICIT', scope: 'ARTIST' });
  });

  it('stops deciding with an ALLOW once its expiry has passed', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    await set({ subject: { artistId: ARTIST, trackId: 'nova-3' }, purpose: 'AI_INFERENCE', choice: 'ALLOW', expiresAt });
    expect((await trackDecisions(['nova-3']))[0].AI_INFERENCE).toMatchObject({ allowed: true, basis: 'EXPLICIT', scope: 'TRACK' });
    await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 200));
    expect((await trackDecisions(['nova-3']))[0].AI_INFERENCE).toMatchObject({ allowed: false, basis: 'DEFAULT', scope: 'PLATFORM' });
  });

  it('refuses an expiry in the past with BAD_USER_INPUT and writes nothing', async () => {
    const before = await supergraph.subgraph.store.collections.events.countDocuments({});
    const res = await set({ subject: { artistId: ARTIST }, purpose: 'AI_INFERENCE', choice: 'ALLOW', expiresAt: '2020-01-01T00:00:00Z' });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await supergraph.subgraph.store.collections.events.countDocuments({})).toBe(before);
  });

  it("refuses another artist's token with FORBIDDEN and leaves the ledger untouched", async () => {
    const before = await supergraph.subgraph.store.collections.events.countDocuments({});
    const res = await set({ subject: { artistId: ARTIST }, purpose: 'AI_TRAINING', choice: 'ALLOW' }, otherArtistApp);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await supergraph.subgraph.store.collections.events.countDocuments({})).toBe(before);
  });

  it('gives UNAUTHENTICATED on consent without a token while catalog fields still resolve', async () => {
    const res = await query(TRACK_DECISIONS, { ids: TRACKS });
    expect(res.data.tracks.map((t: { title: string }) => t.title)).toEqual(['Nova 1', 'Nova 2', 'Nova 3']);
    expect(res.data.tracks.every((t: { consent: unknown }) => t.consent === null)).toBe(true);
    expect(res.errors?.map((e) => e.extensions?.code)).toContain('UNAUTHENTICATED');
  });

  it(`answers ${BULK} tracks with correct decisions in at most 2 database reads`, async () => {
    const ids = Array.from({ length: BULK }, (_, i) => `bulk-${i}`);
    const { result, reads } = await countReads(supergraph.subgraph.store, () => query(TRACK_DECISIONS, { ids }, reader));
    expect(result.errors).toBeUndefined();
    expect(result.data.tracks).toHaveLength(BULK);
    result.data.tracks.forEach((t: { id: string; artist: { id: string }; consent: { decisions: Decision[] } }, i: number) => {
      expect(t.id).toBe(ids[i]);
      const d = byPurpose(t.consent.decisions);
      // Nova allows generative training (but not voice); Orbit said nothing.
      expect(d.MUSIC_REPLICATION!.allowed).toBe(t.artist.id === ARTIST);
      expect(d.VOICE_REPLICATION!.allowed).toBe(false);
      expect(d.RECOMMENDATION!.allowed).toBe(true);
    });
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(2);
  });
});
