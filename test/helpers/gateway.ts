import { createGateway, type GatewaySubgraph } from '../../src/gateway/createGateway.js';
import { serveGateway, type RunningGateway } from '../../src/gateway/serveGateway.js';
import type { PlaygroundOptions } from '../../src/playground/renderPlayground.js';

export { CLIENT_FACING_CODES, composeSupergraph, type GatewaySubgraph } from '../../src/gateway/createGateway.js';
export type { RunningGateway } from '../../src/gateway/serveGateway.js';

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

/** Starts the production gateway (src/gateway) on 127.0.0.1 at a free port. */
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
