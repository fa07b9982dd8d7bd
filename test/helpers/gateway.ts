import { createGateway, type GatewaySubgraph } from '../../gateway/createGateway.js';
import { serveGateway, type RunningGateway } from '../../gateway/serveGateway.js';
import type { PlaygroundOptions } from '../../src/playground/renderPlayground.js';
import { CATALOG_SDL, startCatalogSubgraph, type CatalogData, type CatalogSubgraph } from '../fixtures/catalogSubgraph.js';
import { startTestSubgraph, type TestSubgraph } from './subgraph.js';
import { TEST_SECRET } from './tokens.js';

export { CLIENT_FACING_CODES, composeSupergraph, type GatewaySubgraph } from '../../gateway/createGateway.js';
export type { RunningGateway } from '../../gateway/serveGateway.js';

/** Options for {@link startGateway}. */
export interface GatewayOptions {
  subgraphs: GatewaySubgraph[];
  /** HS256 secret the gateway verifies bearer tokens with (the subgraphs should use the same one). */
  jwtSecret: string;
  /** Secret for signing upstream requests (Hive Gateway's HMAC signature). @default unsigned */
  hmacSecret?: string;
  /** GraphiQL options for the gateway's playground. @default false (off) */
  playground?: PlaygroundOptions | false;
  /**
   * Gateway log level, for debugging a failing test.
   * @default false (silent)
   */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | false;
}

/** Starts the production gateway (gateway/) on 127.0.0.1 at a free port. */
export function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const gateway = createGateway({
    subgraphs: opts.subgraphs,
    auth: { kind: 'secret', secret: opts.jwtSecret },
    hmacSecret: opts.hmacSecret,
    playground: opts.playground,
    logLevel: opts.logLevel,
  });
  return serveGateway(gateway, 0, '127.0.0.1');
}

/** Options for {@link startSupergraph}. */
export interface SupergraphOptions {
  /** The artists and tracks the catalog subgraph serves. */
  catalog: CatalogData;
  /** Options for the consent subgraph, as {@link startTestSubgraph} takes them. @default a fresh database */
  subgraph?: Parameters<typeof startTestSubgraph>[0];
  /** Secret the gateway signs upstream requests with. @default unsigned */
  hmacSecret?: string;
  /** GraphiQL options for the gateway's playground. @default false (off) */
  playground?: PlaygroundOptions | false;
  /**
   * Where the gateway sends consent operations, given the subgraph's URL: e.g. a recorder in front of it.
   * @default the subgraph's URL
   */
  consentUrl?: (subgraphUrl: string) => string | Promise<string>;
}

/** The consent subgraph and the catalog composed behind Hive Gateway, all on 127.0.0.1. */
export interface RunningSupergraph {
  readonly subgraph: TestSubgraph;
  readonly catalog: CatalogSubgraph;
  readonly gateway: RunningGateway;
  /** The gateway's GraphQL endpoint: where a client sends its operations. */
  readonly url: string;
  /** Stops the gateway, then the catalog, then the subgraph (dropping its database unless shared). */
  stop(): Promise<void>;
}

/**
 * Starts a consent subgraph, a catalog serving `opts.catalog` and the gateway in front of both, all
 * on TEST_SECRET. If a step fails, whatever had started is stopped before the error is rethrown.
 */
export async function startSupergraph(opts: SupergraphOptions): Promise<RunningSupergraph> {
  const subgraph = await startTestSubgraph(opts.subgraph);
  const started: Array<{ stop(): Promise<void> }> = [subgraph];
  const stop = async () => {
    for (const part of [...started].reverse()) await part.stop();
  };
  try {
    const catalog = await startCatalogSubgraph(opts.catalog);
    started.push(catalog);
    const consentUrl = opts.consentUrl ? await opts.consentUrl(subgraph.url) : subgraph.url;
    const gateway = await startGateway({
      jwtSecret: TEST_SECRET,
      hmacSecret: opts.hmacSecret,
      playground: opts.playground,
      subgraphs: [
        { name: 'catalog', url: catalog.url, sdl: CATALOG_SDL },
        { name: 'consent', url: consentUrl, sdl: subgraph.sdl },
      ],
    });
    started.push(gateway);
    return { subgraph, catalog, gateway, url: gateway.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
