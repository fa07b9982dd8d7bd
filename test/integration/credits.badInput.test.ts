import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CREDITED_ARTISTS } from '../../src/consent/credits.js';
import { countReads } from '../helpers/database.js';
import { aCreditedTrackRef, aTrackRef } from '../helpers/representations.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken } from '../helpers/tokens.js';

// Bad credits, from a catalog (through the gateway's representations) or from a client
// (consentDecisions, mutations): BAD_USER_INPUT naming the bad part, before any database read,
// and nothing written.

const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Track { id consent { decision(purpose: VOICE_REPLICATION) { allowed } } } } }';
const DECISIONS = 'query ($q: [DecisionRequest!]!) { consentDecisions(requests: $q, purpose: AI_TRAINING) { allowed } }';
const SET = 'mutation ($input: SetConsentInput!) { setConsent(input: $input) { event { id } } }';
const CLEAR = 'mutation ($input: ClearConsentInput!) { clearConsent(input: $input) { event { id } } }';

const artists = (n: number, prefix = 'x') => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}` }));
const ids = (n: number, prefix = 'x') => artists(n, prefix).map((a) => a.id);
const track = (credits: Record<string, unknown>) => ({ ...aTrackRef('t-bad', 'a-main'), ...credits });

describe('bad credits', () => {
  let subgraph: TestSubgraph;
  let reader: string;
  let admin: string;
  const ledgerSize = () => subgraph.store.collections.events.countDocuments({});

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    admin = await adminToken();
  });
  afterAll(() => subgraph.stop());

  it.each([
    ['featuredArtists that is not a list', track({ featuredArtists: { id: 'x-1' } }), 'Track.featuredArtistIds must be a list'],
    ['originalArtists that is a string', track({ originalArtists: 'x-1' }), 'Track.originalArtistIds must be a list'],
    ['a bare id instead of an artist', track({ featuredArtists: ['x-1'] }), 'Track.featuredArtists[0] must be an artist'],
    ['a null artist', track({ originalArtists: [{ id: 'x-1' }, null] }), 'Track.originalArtists[1] must be an artist'],
    ['a numeric artist id', track({ featuredArtists: [{ id: 7 }] }), 'Track.featuredArtistIds[0] must be a string'],
    ['an operator as an artist id', track({ originalArtists: [{ id: { $ne: null } }] }), 'Track.originalArtistIds[0] must be a string'],
    ['a malformed artist id', track({ featuredArtists: [{ id: 'a/b' }] }), 'Track.featuredArtistIds[0] must be a string'],
    ['an artist twice in featuredArtists', track({ featuredArtists: [{ id: 'x-1' }, { id: 'x-2' }, { id: 'x-1' }] }), 'must not list an artist twice'],
    ['an artist twice in originalArtists', track({ originalArtists: [{ id: 'x-1' }, { id: 'x-1' }] }), 'must not list an artist twice'],
    [`${MAX_CREDITED_ARTISTS + 1} featured artists`, track({ featuredArtists: artists(MAX_CREDITED_ARTISTS + 1) }), `at most ${MAX_CREDITED_ARTISTS}`],
    [`${MAX_CREDITED_ARTISTS + 1} credits over both lists`, track({ featuredArtists: artists(11, 'f'), originalArtists: artists(10, 'o') }), `at most ${MAX_CREDITED_ARTISTS}`],
    ['a huge list', track({ originalArtists: artists(100_000) }), `at most ${MAX_CREDITED_ARTISTS}`],
    ['no main artist', { __typename: 'Track', id: 't-bad', featuredArtists: [{ id: 'x-1' }] }, 'Track.artist.id'],
  ])('refuses a track representation with %s, for that track only, with 0 reads', async (_name, representation, message) => {
    const { result, reads } = await countReads(subgraph.store, () => subgraph.query(ENTITIES, { r: [representation] }, reader));

    expect(reads).toBe(0);
    expect(result.data._entities).toEqual([{ id: 't-bad', consent: null }]);
    expect(result.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 0, 'consent'], 'BAD_USER_INPUT']]);
    expect(result.errors?.[0]?.message).toContain(message);
  });

  it('answers the good tracks of a batch that holds a bad one', async () => {
    const representations = [aCreditedTrackRef('t-1', 'a-main', ['x-1']), track({ featuredArtists: [{ id: 'x-1' }, { id: 'x-1' }] }), aCreditedTrackRef('t-3', 'a-main')];
    const res = await subgraph.query(ENTITIES, { r: representations }, reader);

    expect(res.data._entities).toEqual([
      { id: 't-1', consent: { decision: { allowed: false } } },
      { id: 't-bad', consent: null },
      { id: 't-3', consent: { decision: { allowed: false } } },
    ]);
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 1, 'consent'], 'BAD_USER_INPUT']]);
  });

  it.each([
    ['credits on an artist-wide request', { artistId: 'a-1', featuredArtistIds: ['x-1'] }, 'requests[2].featuredArtistIds credits artists on a track, so it needs requests[2].trackId'],
    ['original credits on an artist-wide request', { artistId: 'a-1', originalArtistIds: ['x-1'] }, 'requests[2].originalArtistIds credits artists on a track'],
    ['an artist twice', { artistId: 'a-1', trackId: 't-1', originalArtistIds: ['x-1', 'x-1'] }, 'requests[2].originalArtistIds must not list an artist twice'],
    ['a malformed id', { artistId: 'a-1', trackId: 't-1', featuredArtistIds: ['ok', 'no way'] }, 'requests[2].featuredArtistIds[1] must be a string'],
    [`${MAX_CREDITED_ARTISTS + 1} credits`, { artistId: 'a-1', trackId: 't-1', featuredArtistIds: ids(15), originalArtistIds: ids(6, 'o') }, `requests[2]: a track credits at most ${MAX_CREDITED_ARTISTS}`],
  ])('refuses consentDecisions with %s, naming its index, with 0 reads', async (_name, bad, message) => {
    const requests = [{ artistId: 'a-1' }, { artistId: 'a-1', trackId: 't-1', featuredArtistIds: ['x-1'] }, bad];
    const { result, reads } = await countReads(subgraph.store, () => subgraph.query(DECISIONS, { q: requests }, reader));

    expect(reads).toBe(0);
    expect(result.data).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.message).toContain(message);
  });

  it.each([
    ['setConsent', SET, { choice: 'DENY', termsVersion: 'tos-1' }],
    ['clearConsent', CLEAR, {}],
  ])('refuses %s with bad credits and writes nothing', async (_name, mutation, extra) => {
    const cases = [
      [{ artistId: 'a-1' }, { mainArtistId: 'a-1' }, 'credits are the credits of a track, so they need subject.trackId'],
      [{ artistId: 'a-1', trackId: 't-1' }, { mainArtistId: 'a-1', featuredArtistIds: ['x-1', 'x-1'] }, 'credits.featuredArtistIds must not list an artist twice'],
      [{ artistId: 'a-1', trackId: 't-1' }, { mainArtistId: 'a-1', originalArtistIds: ids(MAX_CREDITED_ARTISTS + 1) }, `credits: a track credits at most ${MAX_CREDITED_ARTISTS}`],
      [{ artistId: 'a-1', trackId: 't-1' }, { mainArtistId: 'a 1' }, 'credits.mainArtistId must be a string'],
    ] as const;
    for (const [subject, credits, message] of cases) {
      const before = await ledgerSize();
      const res = await subgraph.query(mutation, { input: { subject, purpose: 'VOICE_REPLICATION', credits, ...extra } }, admin);

      expect(res.data).toBeNull();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors?.[0]?.message).toContain(message);
      expect(await ledgerSize()).toBe(before);
    }
  });
});
