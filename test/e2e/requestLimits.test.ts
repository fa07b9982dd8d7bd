import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_SDL, startCatalogSubgraph, type CatalogSubgraph } from '../fixtures/catalogSubgraph.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { postGraphQL, startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken, TEST_SECRET } from '../helpers/tokens.js';

// The request limits (src/limits.ts) must refuse attacks without refusing the gateway: these are
// the widest queries clients send, planned by Hive Gateway into `_entities` calls for 1000 tracks.

const TRACKS = 1000;
const STATEMENT = 'statement { id artistId trackId purpose choice termsVersion source actor createdAt expiresAt }';
const DECISION = `purpose allowed basis scope policyVersion ${STATEMENT}`;

const WIDE_TRACKS = /* GraphQL */ `
  query WideTracks($ids: [ID!]!) {
    tracks(ids: $ids) {
      id
      title
      artist { id name consent { decisions { ${DECISION} } } }
      consent {
        decisions { ${DECISION} }
        voice: decision(purpose: VOICE_REPLICATION) { ${DECISION} }
        music: decision(purpose: MUSIC_REPLICATION) { ${DECISION} }
        likeness: decision(purpose: LIKENESS_REPLICATION) { ${DECISION} }
        ads: decision(purpose: ADVERTISING) { ${DECISION} }
      }
    }
  }`;

describe('request limits with the gateway in front', () => {
  let subgraph: TestSubgraph;
  let catalog: CatalogSubgraph;
  let gateway: RunningGateway;
  let reader: string;

  beforeAll(async () => {
    // As in production: introspection off, every limit on.
    subgraph = await startTestSubgraph({ introspection: false });
    catalog = await startCatalogSubgraph({
      artists: Array.from({ length: 10 }, (_, i) => ({ id: `a-${i}`, name: `Artist ${i}` })),
      tracks: Array.from({ length: TRACKS }, (_, i) => ({ id: `t-${i}`, title: `Track ${i}`, artistId: `a-${i % 10}` })),
    });
    gateway = await startGateway({
      jwtSecret: TEST_SECRET,
      subgraphs: [
        { name: 'catalog', url: catalog.url, sdl: CATALOG_SDL },
        { name: 'consent', url: subgraph.url, sdl: subgraph.sdl },
      ],
    });
    reader = await readToken();
    const admin = await adminToken();
    const set = await subgraph.query(
      'mutation { setConsent(input: {subject: {artistId: "a-3", trackId: "t-3"}, purpose: VOICE_REPLICATION, choice: ALLOW, termsVersion: "tos-1"}) { revision } }',
      {},
      admin,
    );
    expect(set.errors).toBeUndefined();
  });
  afterAll(async () => {
    await gateway?.stop();
    await catalog?.stop();
    await subgraph?.stop();
  });

  it('passes the gateway plan for the widest track query over 1000 tracks', async () => {
    const ids = Array.from({ length: TRACKS }, (_, i) => `t-${i}`);
    const res = await postGraphQL(gateway.url, WIDE_TRACKS, { ids }, reader);
    expect(res.errors).toBeUndefined();
    expect(res.data.tracks).toHaveLength(TRACKS);
    expect(res.data.tracks[3].consent.voice).toMatchObject({ allowed: true, basis: 'EXPLICIT', scope: 'TRACK' });
    expect(res.data.tracks[4].consent.voice).toMatchObject({ allowed: false, basis: 'DEFAULT' });
    expect(res.data.tracks[999].artist.consent.decisions).toHaveLength(9);
  });

  it('still refuses an alias flood sent through the gateway', async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `d${i}: decision(purpose: AI_TRAINING) { allowed }`).join(' ');
    const res = await postGraphQL(gateway.url, `query Flood($ids: [ID!]!) { tracks(ids: $ids) { id consent { ${aliases} } } }`, { ids: ['t-1'] }, reader);
    expect(JSON.stringify(res.data ?? null)).not.toContain('"allowed":true');
    expect(res.errors?.length ?? 0).toBeGreaterThan(0);
  });
});
