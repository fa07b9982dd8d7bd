import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** The HTTP server that serves `GET /metrics` on its own port (METRICS_PORT), apart from the API. */
export interface MetricsServer {
  readonly httpServer: Server;
  /** Starts listening; resolves to the `/metrics` URL. */
  listen(port: number, host: string): Promise<string>;
  /** Stops listening and closes open (scrape) connections. */
  stop(): Promise<void>;
}

/**
 * Creates a server answering `GET /metrics` with `registry`'s Prometheus text and 404 for anything
 * else, so the metrics can sit on a port that only the scraper's network reaches.
 */
export function createMetricsServer(registry: Registry): MetricsServer {
  const httpServer = createHttpServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.setHeader('content-type', registry.contentType);
        res.end(text);
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  return {
    httpServer,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${address.port}/metrics`);
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      }),
  };
}
