import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURPOSES } from '../../src/consent/purposes.js';
import { REQUEST_LIMITS } from '../../src/limits.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../src/server.js';
import { aSetChange } from '../helpers/changes.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { ledgerDocs, insertLedgerWithProjection, type TimedChange } from '../helpers/seedLedger.js';
import { postGraphQL, type GraphQLResponse } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// Every documented cap must be reachable with full selections, through Hive Gateway (its demand
// control on) and straight to the subgraph, whether the size is a literal or a variable; and the
// same operations over their caps, or ten of them in one request, must be refused by code.

const ARTISTS = 1001;
const TRACKS = 1000;
const HISTORY_ARTIST = 'history-artist';
const EVENT = 'id seq kind artistId trackId purpose choice termsVersion source actor at expiresAt hash prevHash';
const STATEMENT = 'statement { id artistId trackId purpose choice termsVersion source actor createdAt expiresAt }';
const DECISION = `purpose allowed basis scope policyVersion ${STATEMENT}`;
const CONSENT = `consent { decisions { ${DECISION} } signals { cawg { label entries { key use purpose } json } tdmReservation aipref aiprefVocabulary } }`;

const feed = (first: string) => `consentChanges(first: ${first}) { edges { cursor node { ${EVENT} } } pageInfo { hasNextPage endCursor } }`;
const listing = (first: string, node: string) => `artistsAllowing(purpose: AI_TRAINING, first: ${first}) { edges { cursor node { ${node} } } pageInfo { hasNextPage endCursor } }`;
const history = (first: string) => `consentHistory(first: ${first}) { edges { cursor node { ${EVENT} } } pageInfo { hasNextPage endCursor } }`;
const DECISIONS = `purpose: GENERATIVE_AI_TRAINING) { ${DECISION} }`;

const trackIds = Array.from({ length: TRACKS }, (_, i) => `t-${i}`);
const requests = trackIds.map((id, i) => ({ artistId: `artist-${i % ARTISTS}`, trackId: id }));
const representations = trackIds.map((id, i) => ({ __typename: 'Track', id, artist: { id: `artist-${i % ARTISTS}` } }));

describe('demand control: the documented caps are reachable and nothing much beyond them', () => {
  let supergraph: RunningSupergraph;
  let reader: string;
  const viaGateway = (query: string, variables?: Record<string, unknown>) => postGraphQL(supergraph.url, query, variables, reader);
  const direct = (query: string, variables?: Record<string, unknown>) => postGraphQL(supergraph.subgraph.url, query, variables, reader);

  beforeAll(async () => {
    supergraph = await startSupergraph({
      catalog: {
        artists: [...Array.from({ length: ARTISTS }, (_, i) => ({ id: `artist-${i}`, name: `Artist ${i}` })), { id: HISTORY_ARTIST, name: 'History' }],
        tracks: trackIds.map((id, i) => ({ id, title: `Track ${i}`, artistId: `artist-${i % ARTISTS}` })),
      },
    });
    reader = await readToken();
    // Every artist allows AI_TRAINING (so the listing has more than a page), and one artist has a
    // history longer than a page; together more events than a page of the feed.
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i);
    const changes: TimedChange[] = [
      ...Array.from({ length: ARTISTS }, (_, i) => ({ change: aSetChange(`artist-${i}`, 'AI_TRAINING'), actor: 'seeder', at: at(i) })),
      ...Array.from({ length: 101 }, (_, i) => ({
        change: aSetChange(HISTORY_ARTIST, PURPOSES[i % PURPOSES.length]!, { choice: i % 2 ? 'ALLOW' : 'DENY' }),
        actor: 'seeder',
        at: at(ARTISTS + i),
      })),
    ];
    await insertLedgerWithProjection(supergraph.subgraph.store.collections, ledgerDocs(changes));
  }, 120_000);
  afterAll(async () => {
    await supergraph?.stop();
  });

  const ok = (res: GraphQLResponse) => {
    expect(res.errors).toBeUndefined();
    expect(res.status).toBe(200);
    return res.data;
  };
  const refused = (res: GraphQLResponse, code: string) => {
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.code)).toContain(code);
  };

  describe('through Hive Gateway with demand control on', () => {
    it('serves the change feed at first: 1000 with full events, literal and in a variable', async () => {
      for (const res of [await viaGateway(`{ ${feed('1000')} }`), await viaGateway(`query ($n: Int) { ${feed('$n')} }`, { n: 1000 })]) {
        expect(ok(res).consentChanges.edges).toHaveLength(1000);
      }
    });

    it('serves artistsAllowing at first: 1000 joined with catalog names, literal and in a variable', async () => {
      for (const res of [await viaGateway(`{ ${listing('1000', 'id name')} }`), await viaGateway(`query ($n: Int) { ${listing('$n', 'id name')} }`, { n: 1000 })]) {
        const { edges, pageInfo } = ok(res).artistsAllowing;
        expect(edges).toHaveLength(1000);
        expect(edges[0].node.name).toMatch(/^Artist /);
        expect(pageInfo.hasNextPage).toBe(true);
      }
    });

    it('serves consentHistory at first: 100 with full events, literal and in a variable', async () => {
      const literal = await viaGateway(`{ artist(id: "${HISTORY_ARTIST}") { ${history('100')} } }`);
      const variable = await viaGateway(`query ($id: ID!, $n: Int) { artist(id: $id) { ${history('$n')} } }`, { id: HISTORY_ARTIST, n: 100 });
      for (const res of [literal, variable]) expect(ok(res).artist.consentHistory.edges).toHaveLength(100);
    });

    it('serves 1000 tracks with every decision, statement and signal, ids literal and in a variable', async () => {
      const literal = await viaGateway(`{ tracks(ids: ${JSON.stringify(trackIds)}) { id ${CONSENT} } }`);
      const variable = await viaGateway(`query ($ids: [ID!]!) { tracks(ids: $ids) { id ${CONSENT} } }`, { ids: trackIds });
      for (const res of [literal, variable]) {
        const tracks = ok(res).tracks;
        expect(tracks).toHaveLength(TRACKS);
        expect(tracks[999].consent.decisions).toHaveLength(9);
        expect(tracks[999].consent.decisions[0]).toMatchObject({ purpose: 'AI_TRAINING', allowed: true, basis: 'EXPLICIT', scope: 'ARTIST' });
      }
    });

    it('serves consentDecisions for 1000 requests in a variable', async () => {
      const res = await viaGateway(`query ($r: [DecisionRequest!]!) { consentDecisions(requests: $r, ${DECISIONS} }`, { r: requests });
      expect(ok(res).consentDecisions).toHaveLength(1000);
      expect(res.data.consentDecisions[0]).toMatchObject({ allowed: true, basis: 'INHERITED' });
    });

    it('refuses pages over their caps with BAD_USER_INPUT', async () => {
      refused(await viaGateway(`{ ${feed('1001')} }`), 'BAD_USER_INPUT');
      refused(await viaGateway(`query ($n: Int) { ${listing('$n', 'id')} }`, { n: 1001 }), 'BAD_USER_INPUT');
      const res = await viaGateway(`query ($n: Int) { artist(id: "${HISTORY_ARTIST}") { ${history('$n')} } }`, { n: 101 });
      expect(res.data.artist).toBeNull();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    });

    it('refuses ten full pages of the feed or listing in one operation with COST_ESTIMATED_TOO_EXPENSIVE, literal and in variables', async () => {
      const ten = (field: string) => Array.from({ length: 10 }, (_, i) => `p${i}: ${field}`).join(' ');
      const cases = [
        await viaGateway(`{ ${ten(feed('1000'))} }`),
        await viaGateway(`query ($n: Int) { ${ten(feed('$n'))} }`, { n: 1000 }),
        await viaGateway(`query ($n: Int) { ${ten(listing('$n', 'id'))} }`, { n: 1000 }),
        await viaGateway(`query ($r: [DecisionRequest!]!) { ${ten(`consentDecisions(requests: $r, ${DECISIONS}`)} }`, { r: requests }),
      ];
      for (const res of cases) {
        refused(res, 'COST_ESTIMATED_TOO_EXPENSIVE');
        // Refused by the gateway's own estimate, before any subgraph is called.
        expect(res.errors![0]!.extensions).not.toHaveProperty('serviceName');
      }
    });

    it('refuses 1000 tracks with a full history page each with COST_ESTIMATED_TOO_EXPENSIVE', async () => {
      const res = await viaGateway(`query ($ids: [ID!]!) { tracks(ids: $ids) { id ${history('100')} } }`, { ids: trackIds });
      expect(JSON.stringify(res.data ?? null)).not.toContain('"edges"');
      expect(res.errors?.map((e) => e.extensions?.code)).toContain('COST_ESTIMATED_TOO_EXPENSIVE');
    });
  });

  describe('straight to the subgraph', () => {
    it('serves the change feed, the listing and a history page at their caps, literal and in variables', async () => {
      expect(ok(await direct(`{ ${feed('1000')} }`)).consentChanges.edges).toHaveLength(1000);
      expect(ok(await direct(`query ($n: Int) { ${feed('$n')} }`, { n: 1000 })).consentChanges.edges).toHaveLength(1000);
      expect(ok(await direct(`{ ${listing('1000', 'id')} }`)).artistsAllowing.edges).toHaveLength(1000);
      expect(ok(await direct(`query ($n: Int) { ${listing('$n', 'id')} }`, { n: 1000 })).artistsAllowing.edges).toHaveLength(1000);
      const entity = `_entities(representations: [{ __typename: "Artist", id: "${HISTORY_ARTIST}" }]) { ... on Artist {`;
      expect(ok(await direct(`{ ${entity} ${history('100')} } } }`))._entities[0].consentHistory.edges).toHaveLength(100);
      expect(ok(await direct(`query ($n: Int) { ${entity} ${history('$n')} } } }`, { n: 100 }))._entities[0].consentHistory.edges).toHaveLength(100);
    });

    it('serves 1000 representations with every decision, statement and signal', async () => {
      const res = await direct(`query ($r: [_Any!]!) { _entities(representations: $r) { ... on Track { id ${CONSENT} } } }`, { r: representations });
      expect(ok(res)._entities).toHaveLength(TRACKS);
      // The largest legitimate answer must fit the response limit with room to spare.
      const bytes = Buffer.byteLength(JSON.stringify({ data: res.data }));
      console.log(`1000 tracks with every decision, statement and signal: ${bytes} bytes`);
      expect(bytes).toBeLessThan(DEFAULT_MAX_RESPONSE_BYTES / 2);
    });

    it('serves consentDecisions for 1000 requests', async () => {
      const res = await direct(`query ($r: [DecisionRequest!]!) { consentDecisions(requests: $r, ${DECISIONS} }`, { r: requests });
      expect(ok(res).consentDecisions).toHaveLength(1000);
    });

    it('refuses operations over the budget before running them, by code', async () => {
      const ten = (field: string) => Array.from({ length: 10 }, (_, i) => `p${i}: ${field}`).join(' ');
      const tooCostly = [
        await direct(`{ ${ten(feed('1000'))} }`),
        await direct(`query ($n: Int) { ${ten(listing('$n', 'id'))} }`, { n: 1000 }),
        await direct(`query ($r: [_Any!]!) { _entities(representations: $r) { ... on Track { ${history('100')} } } }`, { r: representations }),
      ];
      for (const res of tooCostly) {
        expect(res.status).toBe(400);
        refused(res, 'COST_ESTIMATED_TOO_EXPENSIVE');
        expect(res.errors![0]!.message).toMatch(new RegExp(`exceeded configured maximum ${REQUEST_LIMITS.maxCost}`));
      }
      const tooMany = await direct(`query ($r: [DecisionRequest!]!) { consentDecisions(requests: $r, ${DECISIONS} }`, { r: [...requests, requests[0]] });
      refused(tooMany, 'BAD_USER_INPUT');
    });
  });
});
