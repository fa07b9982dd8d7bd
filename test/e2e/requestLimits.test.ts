import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { postGraphQL } from '../helpers/subgraph.js';
import { adminToken, readToken } from '../helpers/tokens.js';

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
  let supergraph: RunningSupergraph;
  let reader: string;

  beforeAll(async () => {
    // As in production: introspection off, every limit on.
    supergraph = await startSupergraph({
      subgraph: { introspection: false },
      catalog: {
        artists: Array.from({ length: 10 }, (_, i) => ({ id: `a-${i}`, name: `Artist ${i}` })),
        tracks: Array.from({ length: TRACKS }, (_, i) => ({ id: `t-${i}`, title: `Track ${i}`, artistId: `a-${i % 10}` })),
      },
    });
    reader = await readToken();
    const admin = await adminToken();
    const set = await supergraph.subgraph.query(
      'mutation { setConsent(input: {subject: {artistId: "a-3", trackId: "t-3"}, purpose: VOICE_REPLICATION, choice: ALLOW, termsVersion: "tos-1"}) { revision } }',
      {},
      admin,
    );
    expect(set.errors).toBeUndefined();
  });
  afterAll(async () => {
    await supergraph?.stop();
  });

  it('passes the gateway plan for the widest track query over 1000 tracks', async () => {
    const ids = Array.from({ length: TRACKS }, (_, i) => `t-${i}`);
    const res = await postGraphQL(supergraph.url, WIDE_TRACKS, { ids }, reader);
    expect(res.errors).toBeUndefined();
    expect(res.data.tracks).toHaveLength(TRACKS);
    expect(res.data.tracks[3].consent.voice).toMatchObject({ allowed: true, basis: 'EXPLICIT', scope: 'TRACK' });
    expect(res.data.tracks[4].consent.voice).toMatchObject({ allowed: false, basis: 'DEFAULT' });
    expect(res.data.tracks[999].artist.consent.decisions).toHaveLength(9);
  });

  it('still refuses an alias flood sent through the gateway', async () => {
    // On the one track and purpose the setup allows, so a flood that got through would show `true`.
    const flood = (n: number) => {
      const aliases = Array.from({ length: n }, (_, i) => `d${i}: decision(purpose: VOICE_REPLICATION) { allowed }`).join(' ');
      return postGraphQL(supergraph.url, `query Flood($ids: [ID!]!) { tracks(ids: $ids) { id consent { ${aliases} } } }`, { ids: ['t-3'] }, reader);
    };
    const few = await flood(2);
    expect(few.errors).toBeUndefined();
    expect(few.data.tracks[0].consent).toEqual({ d0: { allowed: true }, d1: { allowed: true } });

    const res = await flood(30);
    expect(JSON.stringify(res.data ?? null)).not.toContain('"allowed":true');
    // The subgraph's request limits refuse the flood, and the gateway passes on which limit it was.
    expect(res.errors).toEqual([
      expect.objectContaining({ path: ['tracks', 'consent'], extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED', serviceName: 'consent' }) }),
    ]);
    expect(res.errors![0]!.message).toMatch(/alias/i);
  });

  it('refuses a token flood and a deep operation at the gateway itself, before any subgraph is asked', async () => {
    const tokens = await postGraphQL(supergraph.url, `{ tracks(ids: ["t-1"]) { ${'id '.repeat(5000)} } }`, {}, reader);
    expect(tokens.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(tokens.errors![0]!.extensions).not.toHaveProperty('serviceName');
    const nested = (depth: number): string => (depth === 0 ? 'id' : `f${depth} { ${nested(depth - 1)} }`);
    const deep = await postGraphQL(supergraph.url, `{ tracks(ids: ["t-1"]) { ${nested(14)} } }`, {}, reader);
    expect(deep.errors?.some((e) => /depth limit of 12/i.test(e.message) && !('serviceName' in (e.extensions ?? {})))).toBe(true);
  });
});
