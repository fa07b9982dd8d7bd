import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FEATURED_TRACK_ID, DEMO_REMIX_TRACK_ID } from '../../dev/demo/demoData.js';
import { GATEWAY_EXAMPLES } from '../../dev/demo/exampleOperations.js';
import { seedDemo } from '../../dev/demo/seedDemo.js';
import { DEMO_CATALOG } from '../fixtures/catalogSubgraph.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { postGraphQL } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// The demo's credited parties (DESIGN §7) through Hive Gateway: the demo catalog serves the credits,
// and the playground's credit examples answer with every party's decision.

// The party examples need the §7 contract in the consent subgraph's schema; until it has it they
// would only prove that an unknown field is refused.

const example = (name: string) => GATEWAY_EXAMPLES.find((e) => new RegExp(`\\bquery ${name}\\b`).test(e.query))!.query;
const party = (artistId: string, role: string, allowed: boolean, basis: string) => ({ artistId, role, allowed, basis });

describe("the demo's credited parties through the gateway", () => {
  let supergraph: RunningSupergraph;
  let reader: string;

  beforeAll(async () => {
    supergraph = await startSupergraph({ catalog: DEMO_CATALOG });
    await seedDemo(supergraph.subgraph.store);
    reader = await readToken();
  });

  afterAll(async () => {
    await supergraph?.stop();
  });

  it('serves featured and original artists from the demo catalog, empty where a track credits none', async () => {
    const res = await postGraphQL(
      supergraph.url,
      `{ tracks(ids: ["${DEMO_FEATURED_TRACK_ID}", "${DEMO_REMIX_TRACK_ID}", "track-aurora-2"]) { id artist { name } featuredArtists { id name } originalArtists { id name } } }`,
      {},
      reader,
    );

    expect(res.errors).toBeUndefined();
    expect(res.data.tracks).toEqual([
      { id: DEMO_FEATURED_TRACK_ID, artist: { name: 'Basalt Choir' }, featuredArtists: [{ id: 'artist-echo', name: 'Echo Lark' }], originalArtists: [] },
      { id: DEMO_REMIX_TRACK_ID, artist: { name: 'Glint Harbour' }, featuredArtists: [], originalArtists: [{ id: 'artist-fable', name: 'Fable Static' }] },
      { id: 'track-aurora-2', artist: { name: 'Aurora Vale' }, featuredArtists: [], originalArtists: [] },
    ]);
  });

  it('answers the playground example: the featured vocalist and the original artist each deny voice replication', async () => {
    const res = await postGraphQL(supergraph.url, example('CreditedParties'), {}, reader);

    expect(res.errors).toBeUndefined();
    expect(res.data.tracks).toEqual([
      expect.objectContaining({
        id: DEMO_FEATURED_TRACK_ID,
        featuredArtists: [{ name: 'Echo Lark' }],
        consent: {
          decision: {
            allowed: false,
            basis: 'EXPLICIT',
            scope: 'TRACK',
            parties: [party('artist-basalt', 'MAIN', true, 'INHERITED'), party('artist-echo', 'FEATURED', false, 'EXPLICIT')],
          },
        },
      }),
      expect.objectContaining({
        id: DEMO_REMIX_TRACK_ID,
        originalArtists: [{ name: 'Fable Static' }],
        consent: {
          decision: {
            allowed: false,
            basis: 'INHERITED',
            scope: 'ARTIST',
            parties: [party('artist-glint', 'MAIN', true, 'INHERITED'), party('artist-fable', 'ORIGINAL', false, 'INHERITED')],
          },
        },
      }),
    ]);
  });

  it('answers the bulk example with the credits passed in the requests, as the gateway would decide them', async () => {
    const res = await postGraphQL(supergraph.url, example('DecisionsWithCredits'), {}, reader);

    expect(res.errors).toBeUndefined();
    expect(res.data.consentDecisions.map((d: { allowed: boolean; parties: Array<{ artistId: string; allowed: boolean }> }) => [d.allowed, d.parties.map((p) => [p.artistId, p.allowed])])).toEqual([
      [false, [['artist-basalt', true], ['artist-echo', false]]],
      [false, [['artist-glint', true], ['artist-fable', false]]],
    ]);
  });
});
