import { createServer as createHttpServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createMetrics, type Metrics } from '../../src/observability/createMetrics.js';
import { startTracing } from '../../src/observability/startTracing.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { assertNoLeak } from '../helpers/assertNoLeak.js';
import { capturedLogger } from '../helpers/capturedLogger.js';
import { aFreshStore, dropStore } from '../helpers/database.js';
import { aStoreBehindFaultProxy, type StoreBehindFaultProxy } from '../helpers/faultProxy.js';
import { postGraphQL, startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken } from '../helpers/tokens.js';

const DECISIONS = /* GraphQL */ `
  query Decisions($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Track { consent { decision(purpose: VOICE_REPLICATION) { allowed basis } } }
    }
  }`;
const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { decision { allowed basis } } }`;

const tracks = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Track', id: `t-${i}`, artist: { id: `a-${i % 3}` } }));

/** A subgraph on `store` with a logger whose JSON lines the test reads. */
async function startServer(store: ConsentStore, metrics: Metrics): Promise<TestSubgraph & { lines: Array<Record<string, unknown>> }> {
  const { logger, lines } = capturedLogger();
  return { ...(await startTestSubgraph({ store, metrics, logger })), lines };
}

// Reads one sample's value from Prometheus text, e.g. sample(text, 'x_count', { a: 'b' }).
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const found = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (found) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('observability', () => {
  let store: ConsentStore;
  let metrics: Metrics;
  let running: TestSubgraph & { lines: Array<Record<string, unknown>> };
  let reader: string;

  beforeAll(async () => {
    store = await aFreshStore();
    metrics = createMetrics();
    running = await startServer(store, metrics);
    reader = await readToken();
    const set = await postGraphQL(running.url, SET, { input: { subject: { artistId: 'a-1', trackId: 't-1' }, purpose: 'VOICE_REPLICATION', choice: 'ALLOW', termsVersion: 'tos-1' } }, await adminToken());
    expect(set.errors).toBeUndefined();
  });
  afterAll(async () => {
    await running?.stop();
    await dropStore(store);
  });

  it('answers the liveness and readiness probes', async () => {
    const live = await fetch(new URL('/health/live', running.url));
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(new URL('/health/ready', running.url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('serves request latency, loader batch sizes, database commands and decisions at /metrics', async () => {
    const res = await postGraphQL(running.url, DECISIONS, { representations: tracks(30) }, reader);
    expect(res.errors).toBeUndefined();
    const response = await fetch(new URL('/metrics', running.url));
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();

    expect(sample(text, 'consent_graphql_request_duration_seconds_count', { operation: 'Decisions', type: 'query', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'consent_graphql_request_duration_seconds_count', { operation: 'Set', type: 'mutation', outcome: 'ok' })).toBe(1);
    // 30 tracks of 3 artists: one batch of 33 keys (30 track keys + 3 artist keys).
    expect(sample(text, 'consent_dataloader_batch_size_sum', { loader: 'stateByKey' })).toBeGreaterThanOrEqual(33);
    expect(sample(text, 'consent_dataloader_batch_size_bucket', { loader: 'stateByKey', le: '50' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'consent_db_command_duration_seconds_count', { command: 'find', collection: 'consent_state', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'consent_db_command_duration_seconds_count', { command: 'insert', collection: 'consent_events', outcome: 'ok' })).toBe(1);
    // t-1 by a-1 has its own ALLOW; the other 29 tracks fall back to the opt-in default.
    expect(sample(text, 'consent_decisions_total', { purpose: 'VOICE_REPLICATION', allowed: 'true', basis: 'EXPLICIT' })).toBe(2);
    expect(sample(text, 'consent_decisions_total', { purpose: 'VOICE_REPLICATION', allowed: 'false', basis: 'DEFAULT' })).toBe(29);
    expect(sample(text, 'consent_process_cpu_seconds_total')).toBeGreaterThan(0);
    // The mutation's decision and the query each looked their subjects up once.
    expect((sample(text, 'consent_cache_lookups_total', { outcome: 'hit' }) ?? 0) + (sample(text, 'consent_cache_lookups_total', { outcome: 'miss' }) ?? 0)).toBe(2);
  });

  it('keeps client-chosen operation names from inflating the metric labels', async () => {
    await postGraphQL(running.url, 'query Évil { __typename }', {}, reader);
    for (let i = 0; i < 120; i++) await postGraphQL(running.url, `query Op${i} { __typename }`, {}, reader);
    const text = await (await fetch(new URL('/metrics', running.url))).text();
    const operations = new Set([...text.matchAll(/consent_graphql_request_duration_seconds_count\{operation="([^"]*)"/g)].map((m) => m[1]));
    expect(operations.size).toBeLessThanOrEqual(102);
    expect(operations.has('other')).toBe(true);
  });

  it('logs one JSON line per request with its request id, and echoes the id', async () => {
    const given = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-from-gateway-42', authorization: `Bearer ${reader}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(given.headers.get('x-request-id')).toBe('req-from-gateway-42');
    const forged = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad id {"level":60}' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    const made = forged.headers.get('x-request-id');
    expect(made).toMatch(/^[0-9a-f-]{36}$/);

    const line = running.lines.find((l) => l.requestId === 'req-from-gateway-42');
    expect(line).toMatchObject({ level: 30, msg: 'request', method: 'POST', path: '/graphql', status: 200, completed: true });
    expect(typeof line!.durationMs).toBe('number');
    expect(running.lines.find((l) => l.requestId === made)).toMatchObject({ msg: 'request', status: 200 });
  });

  it('logs an unexpected error with the request id while the client sees only "Unexpected error."', async () => {
    // A store whose batch read fails in a way the service does not know (not a driver error).
    const failing = Object.create(store) as ConsentStore;
    failing.statesByKeys = async () => {
      throw new Error('projection read blew up at db-7.internal:27017 in consent_state');
    };
    const broken = await startServer(failing, createMetrics());
    try {
      const response = await fetch(broken.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${reader}`, 'x-request-id': 'req-broken-1' },
        body: JSON.stringify({ query: DECISIONS, variables: { representations: tracks(1) } }),
      });
      const body = await response.json();
      expect(body.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
      assertNoLeak(body);
      const logged = broken.lines.find((l) => l.msg === 'unexpected error');
      expect(logged).toMatchObject({ level: 50, requestId: 'req-broken-1', err: { message: expect.stringContaining('db-7.internal') } });
    } finally {
      await broken.stop();
    }
  });

  describe('tracing', () => {
    let collector: Server;
    let received: Array<{ path: string; body: any }>;
    let endpoint: string;

    beforeAll(async () => {
      received = [];
      collector = createHttpServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push({ path: req.url ?? '', body: JSON.parse(body) });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', () => resolve()));
      endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

    it('is off unless configured, and then sends nothing', async () => {
      expect(loadConfig({}).tracing).toBeNull();
      expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, TRACING_ENABLED: 'false' }).tracing).toBeNull();
      expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing).toEqual({ endpoint, serviceName: 'consent-subgraph' });
      expect(loadConfig({ TRACING_ENABLED: 'true', OTEL_SERVICE_NAME: 'consent-eu' }).tracing).toEqual({ endpoint: 'http://localhost:4318', serviceName: 'consent-eu' });
      expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
      await postGraphQL(running.url, DECISIONS, { representations: tracks(2) }, reader);
      await new Promise((r) => setTimeout(r, 200));
      expect(received).toEqual([]);
    });

    it('exports request, operation and database spans of one trace over OTLP/HTTP when on', async () => {
      const tracing = startTracing({ endpoint, serviceName: 'consent-test' });
      try {
        const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
        const res = await fetch(running.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${reader}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
          body: JSON.stringify({ query: DECISIONS, variables: { representations: tracks(2) }, operationName: 'Decisions' }),
        });
        expect(res.status).toBe(200);
        await tracing.flush();
        const spans = received.filter((r) => r.path === '/v1/traces').flatMap((r) =>
          r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans.map((s: any) => ({ ...s, service: rs.resource.attributes.find((a: any) => a.key === 'service.name')?.value.stringValue })))),
        );
        const ofTrace = spans.filter((s: any) => s.traceId === traceId);
        expect(ofTrace.map((s: any) => s.name)).toEqual(expect.arrayContaining(['POST /graphql', 'graphql.query Decisions', 'mongodb.find']));
        expect(ofTrace.every((s: any) => s.service === 'consent-test')).toBe(true);
      } finally {
        await tracing.stop();
      }
    });
  });
});

describe('graceful shutdown', () => {
  let link: StoreBehindFaultProxy;

  beforeAll(async () => {
    link = await aStoreBehindFaultProxy(5000);
  });
  afterAll(async () => {
    await link?.close();
  });

  it('lets an in-flight request finish while refusing new connections', async () => {
    const { stop, url } = await startServer(link.store, createMetrics());
    const reader = await readToken();
    link.proxy.setMode({ kind: 'latency', ms: 500 });
    const started = performance.now();
    const inFlight = postGraphQL(url, DECISIONS, { representations: tracks(3) }, reader);
    await new Promise((r) => setTimeout(r, 300));

    const stopped = stop();
    const refused = await new Promise<string>((resolve) => {
      const req = request(new URL('/health/live', url), { agent: false }, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.end();
    });
    expect(refused).toBe('ECONNREFUSED');

    const res = await inFlight;
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toHaveLength(3);
    expect(res.data._entities[0].consent.decision).toEqual({ allowed: false, basis: 'DEFAULT' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    await stopped;
    link.proxy.setMode({ kind: 'pass' });
  });
});
