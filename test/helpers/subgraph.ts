import { pino } from 'pino';
import { createTokenVerifier } from '../../src/auth/createTokenVerifier.js';
import { createServer, type ServerDeps } from '../../src/server.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { CONSENT_SDL } from '../../src/schema.js';
import { assertNoLeak } from './assertNoLeak.js';
import { aFreshStore, dropStore } from './database.js';
import { TEST_SECRET } from './tokens.js';

/** A consent subgraph running on loopback against a fresh database, built as main.ts builds it. */
export interface TestSubgraph {
  readonly url: string;
  readonly store: ConsentStore;
  readonly sdl: string;
  /** Posts a GraphQL operation; returns the parsed JSON body and the HTTP status. */
  query(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse>;
  stop(): Promise<void>;
}

/** The body of a GraphQL response, loosely typed for assertions. */
export interface GraphQLResponse {
  status: number;
  data?: any;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: { code?: string } }>;
}

/** Starts a subgraph; pass `store` to share one, otherwise a fresh database is made and dropped on stop. */
export async function startTestSubgraph(options: Partial<Omit<ServerDeps, 'verifier' | 'logger'>> = {}): Promise<TestSubgraph> {
  const ownStore = options.store === undefined;
  const store = options.store ?? (await aFreshStore());
  const server = await createServer({
    ...options,
    store,
    verifier: createTokenVerifier({ kind: 'secret', secret: TEST_SECRET }),
    logger: pino({ level: 'silent' }),
  });
  const url = await server.listen(0, '127.0.0.1');
  return {
    url,
    store,
    sdl: CONSENT_SDL,
    query: (query, variables, token) => postGraphQL(url, query, variables, token),
    stop: async () => {
      await server.stop();
      if (ownStore) await dropStore(store);
    },
  };
}

/**
 * Posts a GraphQL operation to `url` as a client would. Every error it gets back is checked for
 * leaked internals (driver messages, collection names, stack frames), in every test that uses it.
 */
export async function postGraphQL(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
  if (body.errors !== undefined) assertNoLeak(body.errors);
  return { status: response.status, ...body };
}
