import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/createMetrics.js';
import { createMetricsServer, type MetricsServer } from '../../src/observability/createMetricsServer.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// With METRICS_PORT, src/service.ts serves /metrics from its own server and not on the service port, so
// the API's ingress never exposes it. Built here the way src/service.ts builds it.

describe('/metrics on its own port (METRICS_PORT)', () => {
  let subgraph: TestSubgraph;
  let metricsServer: MetricsServer;
  let metricsUrl: string;

  beforeAll(async () => {
    const metrics = createMetrics();
    subgraph = await startTestSubgraph({ metrics, serveMetrics: false });
    metricsServer = createMetricsServer(metrics.registry);
    metricsUrl = await metricsServer.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await metricsServer?.stop();
    await subgraph?.stop();
  });

  it('serves the service\'s metrics, including requests it just answered, on the metrics port', async () => {
    const res = await subgraph.query('query Probe { artistsAllowing(purpose: AI_TRAINING, first: 1) { pageInfo { hasNextPage } } }', {}, await readToken());
    expect(res.status).toBe(200);

    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/consent_graphql_request_duration_seconds_count\{[^}]*operation="Probe"[^}]*\} 1/);
  });

  it('answers 404 for /metrics on the service port', async () => {
    const response = await fetch(new URL('/metrics', subgraph.url));
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('consent_');
  });

  it('answers 404 for anything but GET /metrics on the metrics port', async () => {
    expect((await fetch(new URL('/graphql', metricsUrl))).status).toBe(404);
    expect((await fetch(metricsUrl, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});
