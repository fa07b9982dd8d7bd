import { pino } from 'pino';
import { createTokenVerifier } from '../../src/auth/createTokenVerifier.js';
import { createServer, type ServerDeps } from '../../src/server.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { CONSENT_SDL } from '../../src/schema.js';
import { assertNoLeak } from './assertNoLeak.js';
import { aFreshStore, dropStore } from './database.js';
import { TEST_SECRET } from './tokens.js';

/** A consent subgraph running on loopback against a fresh database, built as src/service.ts builds it. */
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

/** Starts a subgraph; pass `store` to share one, otherwise a fresh database is made and dropped on stop. Logs nowhere unless given a `logger`. */
export async function startTestSubgraph(options: Partial<Omit<ServerDeps, 'verifier'>> = {}): Promise<TestSubgraph> {
  const ownStore = options.store === undefined;
  const store = options.store ?? (await aFreshStore());
  const server = await createServer({
    ...options,
    store,
    verifier: createTokenVerifier({ kind: 'secret', secret: TEST_SECRET }),
    logger: options.logger ?? pino({ level: 'silent' }),
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

/** Extra parts of the request {@link postGraphQL} sends. */
export interface PostOptions {
  /** Request headers, lower-case names; they override the default `authorization` built from the token. */
  headers?: Record<string, string>;
  /** The GraphQL-over-HTTP `extensions` field, e.g. a gateway signature. */
  extensions?: Record<string, unknown>;
  /** Which operation to run when `query` holds several. */
  operationName?: string;
}

/**
 * Posts a GraphQL operation to `url` as a client would. Every error it gets back is checked for
 * leaked internals (driver messages, collection names, stack frames), in every test that uses it.
 * `token` is sent as a bearer token; `options.headers` go on top, e.g. an `authorization` sent verbatim.
 */
export async function postGraphQL(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
  options: PostOptions = {},
): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers },
    body: JSON.stringify({ query, variables, operationName: options.operationName, extensions: options.extensions }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
  if (body.errors !== undefined) assertNoLeak(body.errors);
  return { status: response.status, ...body };
}
