import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../dev/demo/seedDemo.js';
import { CATALOG_SDL } from '../fixtures/catalogSubgraph.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';
import { anArtistRef, aTrackRef } from '../helpers/representations.js';

// The federation contract the gateway relies on: the SDL this subgraph publishes, how `_entities`
// answers, and that it composes cleanly with the demo catalog.

/**
 * Composition hints we have looked at and accept, as `code @ coordinate`. Composition with the
 * demo catalog currently yields none; a new hint fails the test until it is judged and listed here.
 */
const ACCEPTED_HINTS: readonly string[] = [];

const ENTITIES = /* GraphQL */ `
  query ($reps: [_Any!]!) {
    _entities(representations: $reps) {
      __typename
      ... on Track { id consent { decision(purpose: AI_TRAINING) { allowed basis scope } } }
      ... on Artist { id consent { decision(purpose: AI_TRAINING) { allowed basis scope } } }
    }
  }`;


describe('federation contract of the consent subgraph', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    await seedDemo(subgraph.store);
    reader = await readToken();
  });

  afterAll(async () => {
    await subgraph?.stop();
  });

  it('publishes the SDL in _service { sdl } unchanged (snapshot)', async () => {
    const res = await subgraph.query('{ _service { sdl } }');

    expect(res.errors).toBeUndefined();
    const sdl: string = res.data._service.sdl;
    expect(sdl).toMatch(/@link\(\s*url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.9"/);
    expect(sdl).toMatch(/\): Consent @requires\(fields: "artist \{ id \} featuredArtists \{ id \} originalArtists \{ id \}"\) @requiresScopes\(scopes: \[\["consent:read"\]\]\)/);
    await expect(sdl).toMatchFileSnapshot('__snapshots__/consent.service.graphql');
  });

  it('answers _entities in input order, for mixed __typenames and duplicates alike', async () => {
    const reps = [
      aTrackRef('track-aurora-2', 'artist-aurora'),
      anArtistRef('artist-basalt'),
      aTrackRef('track-aurora-1', 'artist-aurora'),
      anArtistRef('artist-basalt'),
      aTrackRef('track-aurora-2', 'artist-aurora'),
      anArtistRef('artist-cinder'),
    ];
    const res = await subgraph.query(ENTITIES, { reps }, reader);

    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([
      { __typename: 'Track', id: 'track-aurora-2', consent: { decision: { allowed: false, basis: 'EXPLICIT', scope: 'TRACK' } } },
      { __typename: 'Artist', id: 'artist-basalt', consent: { decision: { allowed: true, basis: 'EXPLICIT', scope: 'ARTIST' } } },
      { __typename: 'Track', id: 'track-aurora-1', consent: { decision: { allowed: false, basis: 'DEFAULT', scope: 'PLATFORM' } } },
      { __typename: 'Artist', id: 'artist-basalt', consent: { decision: { allowed: true, basis: 'EXPLICIT', scope: 'ARTIST' } } },
      { __typename: 'Track', id: 'track-aurora-2', consent: { decision: { allowed: false, basis: 'EXPLICIT', scope: 'TRACK' } } },
      { __typename: 'Artist', id: 'artist-cinder', consent: { decision: { allowed: false, basis: 'DEFAULT', scope: 'PLATFORM' } } },
    ]);
  });

  it('answers unknown ids with the platform default rather than a null entity (nobody has said anything about them)', async () => {
    const res = await subgraph.query(ENTITIES, { reps: [anArtistRef('artist-nobody-knows'), aTrackRef('track-nobody-knows', 'artist-nobody-knows')] }, reader);

    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([
      { __typename: 'Artist', id: 'artist-nobody-knows', consent: { decision: { allowed: false, basis: 'DEFAULT', scope: 'PLATFORM' } } },
      { __typename: 'Track', id: 'track-nobody-knows', consent: { decision: { allowed: false, basis: 'DEFAULT', scope: 'PLATFORM' } } },
    ]);
  });

  it('nulls consent, never the entity, where it cannot answer (no token; database gone)', async () => {
    const reps = [aTrackRef('track-aurora-2', 'artist-aurora'), anArtistRef('artist-aurora')];
    const anonymous = await subgraph.query(ENTITIES, { reps });

    expect(anonymous.data._entities).toEqual([
      { __typename: 'Track', id: 'track-aurora-2', consent: null },
      { __typename: 'Artist', id: 'artist-aurora', consent: null },
    ]);
    expect(anonymous.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['_entities', 0, 'consent'], 'UNAUTHENTICATED'],
      [['_entities', 1, 'consent'], 'UNAUTHENTICATED'],
    ]);

    const broken = await startTestSubgraph();
    try {
      await broken.store.client.close();
      const res = await broken.query(ENTITIES, { reps }, reader);

      expect(res.data._entities).toEqual([
        { __typename: 'Track', id: 'track-aurora-2', consent: null },
        { __typename: 'Artist', id: 'artist-aurora', consent: null },
      ]);
      expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
        [['_entities', 0, 'consent'], 'SERVICE_UNAVAILABLE'],
        [['_entities', 1, 'consent'], 'SERVICE_UNAVAILABLE'],
      ]);
    } finally {
      await broken.stop();
    }
  });

  it('composes with the demo catalog with no errors and only the hints we accepted', () => {
    const result = composeServices([
      { name: 'catalog', url: 'http://catalog.invalid/graphql', typeDefs: parse(CATALOG_SDL) },
      { name: 'consent', url: 'http://consent.invalid/graphql', typeDefs: parse(subgraph.sdl) },
    ]);

    expect(result.errors?.map((e) => e.message)).toBeUndefined();
    expect((result.hints ?? []).map((h) => `${h.definition.code} @ ${h.coordinate ?? '-'}`)).toEqual(ACCEPTED_HINTS);
    expect(result.supergraphSdl).toMatch(/@join__field\(graph: CONSENT, requires: "artist \{ id \} featuredArtists \{ id \} originalArtists \{ id \}"\)/);
    // consentHistory is its main artist's alone, so it still requires the artist only.
    expect(result.supergraphSdl).toMatch(/@join__field\(graph: CONSENT, requires: "artist \{ id \}"\)/);
  });

  it.each(['featuredArtists', 'originalArtists'])(
    'refuses to compose with a catalog whose Track lacks %s, naming the field (no silent single-party answers)',
    (field) => {
      const catalogSdl = CATALOG_SDL.replace(new RegExp(`^.*\\n  ${field}: .*$`, 'm'), '');
      expect(catalogSdl).not.toContain(`${field}:`);

      const result = composeServices([
        { name: 'catalog', url: 'http://catalog.invalid/graphql', typeDefs: parse(catalogSdl) },
        { name: 'consent', url: 'http://consent.invalid/graphql', typeDefs: parse(subgraph.sdl) },
      ]);

      expect(result.supergraphSdl).toBeUndefined();
      expect(result.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['EXTERNAL_MISSING_ON_BASE', `Field "Track.${field}" is marked @external on all the subgraphs in which it is listed (subgraph "consent").`],
      ]);
    },
  );
});
