import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from './createGateway.js';

/** A gateway listening for HTTP requests. */
export interface RunningGateway {
  /** The GraphQL endpoint, `http://<host>:<port>/graphql`. */
  readonly url: string;
  readonly supergraphSdl: string;
  /** Closes the listener and every open connection, then disposes the gateway. */
  stop(): Promise<void>;
}

/** Serves `gateway` over HTTP on `host:port` (port 0: a free one). */
export async function serveGateway(gateway: Gateway, port: number, host: string): Promise<RunningGateway> {
  const httpServer = createServer(gateway.runtime);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/graphql`,
    supergraphSdl: gateway.supergraphSdl,
    stop: async () => {
      await new Promise<void>((resolve, reject) => {
        httpServer.close((err) => (err ? reject(err) : resolve()));
        httpServer.closeAllConnections();
      });
      await gateway.runtime.dispose();
    },
  };
}
