import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { DEMO_ARTISTS, DEMO_TRACKS } from '../demo/demoData.js';

/** The catalog subgraph's SDL (schema/catalog.graphql): it owns artists and tracks, including `Track.artist` and the track's credits. */
export const CATALOG_SDL = readFileSync(new URL('../../schema/catalog.graphql', import.meta.url), 'utf8');

/** One artist in the catalog. */
export interface CatalogArtist {
  readonly id: string;
  readonly name: string;
}

/** One track in the catalog; every id in `artistId` and the credit lists (absent: none) must name a listed artist. */
export interface CatalogTrack {
  readonly id: string;
  readonly title: string;
  readonly artistId: string;
  readonly featuredArtistIds?: readonly string[];
  readonly originalArtistIds?: readonly string[];
}

/** What the catalog serves. Lookups are by map, so thousands of tracks are fine. */
export interface CatalogData {
  readonly artists: readonly CatalogArtist[];
  readonly tracks: readonly CatalogTrack[];
}

/** The demo catalog: the artists and tracks the demo consent data (dev/demo/demoData.ts) is about. */
export const DEMO_CATALOG: CatalogData = { artists: DEMO_ARTISTS, tracks: DEMO_TRACKS };

/** A running catalog subgraph. */
export interface CatalogSubgraph {
  /** The GraphQL endpoint, `http://<host>:<port>/`. */
  readonly url: string;
  stop(): Promise<void>;
  /** GraphQL operations received so far (each `_entities` batch counts once). */
  requestCount(): number;
}

/**
 * Starts a small catalog subgraph (names and titles, `Track.artist`, `featuredArtists`, `originalArtists`) serving `data`, on
 * `host:port` (defaults: 127.0.0.1, a free port). It stands in for the platform's real catalog.
 */
export async function startCatalogSubgraph(data: CatalogData, listen: { host?: string; port?: number } = {}): Promise<CatalogSubgraph> {
  const artists = new Map(data.artists.map((a) => [a.id, a]));
  const tracks = new Map(data.tracks.map((t) => [t.id, t]));

  const artistById = (id: string): CatalogArtist | null => artists.get(id) ?? null;
  const trackById = (id: string): CatalogTrack | null => tracks.get(id) ?? null;
  const creditedArtist = (track: CatalogTrack, artistId: string): CatalogArtist => {
    const artist = artistById(artistId);
    // A data mistake, not a runtime condition: say so loudly.
    if (!artist) throw new GraphQLError(`catalog data: track ${track.id} names unknown artist ${artistId}`);
    return artist;
  };

  const resolvers = {
    Query: {
      track: (_: unknown, { id }: { id: string }) => trackById(id),
      tracks: (_: unknown, { ids }: { ids: string[] }) => ids.map(trackById),
      artist: (_: unknown, { id }: { id: string }) => artistById(id),
      artists: () => data.artists,
    },
    Artist: {
      __resolveReference: ({ id }: { id: string }) => artistById(id),
    },
    Track: {
      __resolveReference: ({ id }: { id: string }) => trackById(id),
      artist: (track: CatalogTrack) => creditedArtist(track, track.artistId),
      featuredArtists: (track: CatalogTrack) => (track.featuredArtistIds ?? []).map((id) => creditedArtist(track, id)),
      originalArtists: (track: CatalogTrack) => (track.originalArtistIds ?? []).map((id) => creditedArtist(track, id)),
    },
  };

  let requests = 0;
  const server = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs: parse(CATALOG_SDL), resolvers }),
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
    // Whoever starts the catalog owns the signals (Apollo's own handler would stop it behind their back).
    stopOnTerminationSignals: false,
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: listen.host ?? '127.0.0.1', port: listen.port ?? 0 },
    context: async () => {
      requests += 1;
      return {};
    },
  });

  return {
    url,
    stop: () => server.stop(),
    requestCount: () => requests,
  };
}
