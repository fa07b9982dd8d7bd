import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CATALOG_SDL, startCatalogSubgraph, type CatalogSubgraph, type CatalogTrack } from '../fixtures/catalogSubgraph.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { postGraphQL } from '../helpers/subgraph.js';
import { readToken, signToken } from '../helpers/tokens.js';

// Proves the e2e harness (catalog fixture + Hive Gateway + auth plugins) with a stand-in for the
// consent subgraph: a trimmed copy of the contract whose `consent` is a string saying what it saw.

const SECRET = 'smoke-test-secret-of-at-least-32-bytes';
const BULK_TRACKS = 600;

const STAND_IN_SDL = /* GraphQL */ `
  extend schema
    @link(
      url: "https://specs.apollo.dev/federation/v2.9"
      import: ["@key", "@external", "@requires", "@requiresScopes"]
    )

  type Artist @key(fields: "id") {
    id: ID!
    consent: String @requiresScopes(scopes: [["consent:read"]])
  }

  type Track @key(fields: "id") {
    id: ID!
    artist: Artist! @external
    consent: String @requires(fields: "artist { id }") @requiresScopes(scopes: [["consent:read"]])
  }
`;

/** What the stand-in saw in one GraphQL operation. */
interface StandInCall {
  authorization: string | undefined;
  representations: Array<Record<string, unknown>>;
}

/** Starts the stand-in consent subgraph; artists "a-forbidden" and "a-broken" fail on purpose. */
async function startStandIn() {
  const calls: StandInCall[] = [];
  const resolvers = {
    Artist: {
      __resolveReference: (ref: { id: string }) => ref,
      consent: ({ id }: { id: string }) => {
        if (id === 'a-forbidden') throw new GraphQLError('not your artist', { extensions: { code: 'FORBIDDEN' } });
        if (id === 'a-broken') throw new Error('connection to db-7.internal:27017 refused');
        return `artist ${id}`;
      },
    },
    Track: {
      __resolveReference: (ref: { id: string; artist?: { id: string } }) => ref,
      consent: (track: { id: string; artist?: { id: string } }) => `track ${track.id} by ${track.artist?.id ?? '?'}`,
    },
  };
  const server = new ApolloServer<{ call: StandInCall }>({
    schema: buildSubgraphSchema({ typeDefs: parse(STAND_IN_SDL), resolvers }),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request, contextValue }) {
          contextValue.call.representations = (request.variables?.['representations'] as StandInCall['representations']) ?? [];
        },
      },
    ],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async ({ req }) => {
      const call: StandInCall = { authorization: req.headers.authorization, representations: [] };
      calls.push(call);
      return { call };
    },
  });
  return { url, calls, stop: () => server.stop() };
}

const bearer = (token: string) => `Bearer ${token}`;

const bulkTracks: CatalogTrack[] = Array.from({ length: BULK_TRACKS }, (_, i) => ({
  id: `bulk-${i}`,
  title: `Bulk ${i}`,
  artistId: 'a1',
}));

describe('e2e harness: Hive Gateway + catalog fixture + stand-in consent subgraph', () => {
  let catalog: CatalogSubgraph;
  let standIn: Awaited<ReturnType<typeof startStandIn>>;
  let gateway: RunningGateway;
  let reader: string;

  beforeAll(async () => {
    catalog = await startCatalogSubgraph({
      artists: [
        { id: 'a1', name: 'Ada' },
        { id: 'a-forbidden', name: 'Fay' },
        { id: 'a-broken', name: 'Bo' },
      ],
      tracks: [{ id: 't1', title: 'First', artistId: 'a1' }, ...bulkTracks],
    });
    standIn = await startStandIn();
    gateway = await startGateway({
      jwtSecret: SECRET,
      subgraphs: [
        { name: 'catalog', url: catalog.url, sdl: CATALOG_SDL },
        { name: 'consent', url: standIn.url, sdl: STAND_IN_SDL },
      ],
    });
    reader = await readToken(SECRET);
  });

  afterAll(async () => {
    await gateway?.stop();
    await standIn?.stop();
    await catalog?.stop();
  });

  beforeEach(() => {
    standIn.calls.length = 0;
  });

  it('composes a supergraph that keeps @requiresScopes on consent', () => {
    expect(gateway.supergraphSdl).toMatch(/consent: String .*@requiresScopes/);
  });

  it('serves catalog fields to an anonymous caller', async () => {
    const before = catalog.requestCount();
    const res = await postGraphQL(gateway.url, '{ track(id: "t1") { id title artist { id name } } }');

    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ track: { id: 't1', title: 'First', artist: { id: 'a1', name: 'Ada' } } });
    expect(catalog.requestCount()).toBe(before + 1);
  });

  it('refuses consent without a token at the gateway with UNAUTHENTICATED, still resolving catalog fields', async () => {
    const res = await postGraphQL(gateway.url, '{ track(id: "t1") { id title consent artist { name consent } } }');

    expect(res.status).toBe(200);
    expect(res.data).toEqual({ track: { id: 't1', title: 'First', consent: null, artist: { name: 'Ada', consent: null } } });
    expect(res.errors).toEqual([
      expect.objectContaining({ path: ['track', 'consent'], extensions: { code: 'UNAUTHENTICATED' } }),
      expect.objectContaining({ path: ['track', 'artist', 'consent'], extensions: { code: 'UNAUTHENTICATED' } }),
    ]);
    expect(standIn.calls).toHaveLength(0);
  });

  it('resolves consent with a read token, passing artist { id } through @requires and the bearer token', async () => {
    const res = await postGraphQL(gateway.url, '{ track(id: "t1") { consent artist { consent } } }', {}, reader);

    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ track: { consent: 'track t1 by a1', artist: { consent: 'artist a1' } } });
    const trackCall = standIn.calls.find((c) => c.representations[0]?.['__typename'] === 'Track');
    expect(trackCall?.representations).toEqual([{ __typename: 'Track', id: 't1', artist: expect.objectContaining({ id: 'a1' }) }]);
    expect(trackCall?.authorization).toBe(bearer(reader));
  });

  it('refuses consent at the gateway with FORBIDDEN for a token without consent:read', async () => {
    const other = await signToken(SECRET, { sub: 'ads', scope: 'catalog:read consent:write', artist_ids: ['a1'] });
    const res = await postGraphQL(gateway.url, '{ track(id: "t1") { title consent } }', {}, other);

    expect(res.data).toEqual({ track: { title: 'First', consent: null } });
    expect(res.errors).toEqual([
      expect.objectContaining({ path: ['track', 'consent'], extensions: { code: 'FORBIDDEN' } }),
    ]);
    expect(standIn.calls).toHaveLength(0);
  });

  it('rejects the whole request with UNAUTHENTICATED (HTTP 401) for a badly signed or malformed token', async () => {
    const forged = await signToken('some-other-secret-of-32-bytes-or-more', { sub: 'x', scope: 'consent:read' });
    for (const authorization of [bearer(forged), bearer('not-a-jwt'), 'Basic dXNlcjpwdw==']) {
      const res = await postGraphQL(gateway.url, '{ track(id: "t1") { id } }', {}, undefined, { headers: { authorization } });

      expect(res.status).toBe(401);
      expect(res.data).toBeUndefined();
      expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    }
  });

  it('passes client-facing subgraph error codes through and masks all other subgraph errors', async () => {
    const res = await postGraphQL(gateway.url, '{ artists { id consent } }', {}, reader);

    expect(res.data?.['artists']).toEqual([
      { id: 'a1', consent: 'artist a1' },
      { id: 'a-forbidden', consent: null },
      { id: 'a-broken', consent: null },
    ]);
    expect(res.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ message: 'not your artist', extensions: { code: 'FORBIDDEN', serviceName: 'consent' } }),
        expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'consent' } }),
      ]),
    );
    expect(JSON.stringify(res.errors)).not.toContain('db-7.internal');
  });

  it(`sends ${BULK_TRACKS} tracks' consent to the consent subgraph as one _entities call`, async () => {
    const ids = JSON.stringify(bulkTracks.map((t) => t.id));
    const res = await postGraphQL(gateway.url, `{ tracks(ids: ${ids}) { id consent } }`, {}, reader);

    expect(res.errors).toBeUndefined();
    expect(res.data?.['tracks']).toHaveLength(BULK_TRACKS);
    expect(res.data?.['tracks'][BULK_TRACKS - 1]).toEqual({ id: `bulk-${BULK_TRACKS - 1}`, consent: `track bulk-${BULK_TRACKS - 1} by a1` });
    expect(standIn.calls).toHaveLength(1);
    expect(standIn.calls[0]?.representations).toHaveLength(BULK_TRACKS);
  });
});
