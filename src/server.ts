import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Logger } from 'pino';
import { createAttestationKeys, generateAttestationJwk, type AttestationKeys } from './attestationKeys.js';
import type { Caller } from './auth/Principal.js';
import type { TokenVerifier } from './auth/createTokenVerifier.js';
import type { RequestContext } from './context.js';
import { ConsentService } from './ConsentService.js';
import { createDecider } from './consent/decide.js';
import { DEFAULT_POLICY } from './consent/policy.js';
import { createLoaders } from './loaders.js';
import { signedParamsOf, verifyGatewaySignature } from './auth/verifyGatewaySignature.js';
import { codeOf, createFormatError } from './errors.js';
import { createRequestLimits } from './limits.js';
import { compiledExecution, type Executor } from './execution/compiledExecution.js';
import { refuseUnservedOperations } from './execution/refuseUnservedOperations.js';
import { createMetrics, registerCacheMetrics, type Metrics } from './observability/createMetrics.js';
import { createObservabilityPlugin } from './observability/createObservabilityPlugin.js';
import { DecisionTally } from './observability/DecisionTally.js';
import { observeDatabase } from './observability/observeDatabase.js';
import { observeRequest, requestLog } from './observability/observeRequest.js';
import { buildConsentSchema } from './schema.js';
import type { ConsentStore } from './store/ConsentStore.js';
import { ChangeFeedHub, type ChangeFeedHubOptions } from './subscriptions/ChangeFeedHub.js';
import { serveSubscriptions } from './subscriptions/serveSubscriptions.js';

/** Everything the server needs; tests build it exactly as `service.ts` does. */
export interface ServerDeps {
  readonly store: ConsentStore;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** Most `_entities` representations one request may carry. @default REQUEST_LIMITS.maxRepresentations (1000) */
  readonly maxRepresentations?: number;
  /** Largest request body accepted, in bytes. @default 2 MiB */
  readonly maxBodyBytes?: number;
  /** Largest demand-control cost of one operation (src/estimateCost.ts). @default REQUEST_LIMITS.maxCost (50000) */
  readonly maxCost?: number;
  /** Largest response body sent, in bytes; a larger one is replaced by an error. @default 16 MiB */
  readonly maxResponseBytes?: number;
  /** The clock decisions are made by. @default () => new Date() */
  readonly clock?: () => Date;
  /** Prometheus metrics, served at `/metrics` (see {@link ServerDeps.serveMetrics}). @default a fresh registry */
  readonly metrics?: Metrics;
  /** Whether `/metrics` is served on this server's port; false when it has its own (METRICS_PORT). @default true */
  readonly serveMetrics?: boolean;
  /** Whether `__schema`/`__type` introspection is answered; `_service { sdl }` always is. @default true */
  readonly introspection?: boolean;
  /** How long `stop()` lets in-flight requests run before cutting their connections, in ms. @default 10000 */
  readonly drainTimeoutMs?: number;
  /** When set, every GraphQL request must carry the gateway's HMAC signature made with this secret. @default unset (not required) */
  readonly gatewaySignatureSecret?: string;
  /** The playground HTML served on GET with `Accept: text/html` (see src/playground). @default none */
  readonly landingPage?: string;
  /** How operations are executed (see src/execution/compiledExecution.ts). @default 'jit' */
  readonly executor?: Executor;
  /** Operation names that always get their own metric label; other names share 100 labels, then `other`. @default none */
  readonly knownOperationNames?: readonly string[];
  /** The key attestations are signed with and the public keys served at `/.well-known/jwks.json`. @default an ephemeral key made here */
  readonly attestationKeys?: AttestationKeys;
  /** Tuning of the change-feed push behind `Subscription.consentChanged` (poll interval, per-subscriber buffer). @default 200 ms, 1000 events */
  readonly subscriptions?: ChangeFeedHubOptions;
}

/** A running (or ready to run) consent subgraph. */
export interface ConsentServer {
  readonly httpServer: Server;
  /** The metrics this server records, for a separate metrics server to serve. */
  readonly metrics: Metrics;
  /** The change-feed push this process's subscriptions share (one poller). */
  readonly feed: ChangeFeedHub;
  /** Starts listening; resolves to the GraphQL endpoint URL. */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting requests, lets in-flight ones finish, then stops Apollo. */
  stop(): Promise<void>;
}

/** Creates the HTTP server: GraphQL at `/graphql` (and `/`), liveness and readiness probes. */
export async function createServer(deps: ServerDeps): Promise<ConsentServer> {
  const clock = deps.clock ?? (() => new Date());
  const maxBodyBytes = deps.maxBodyBytes ?? 2 * 1024 * 1024;
  const metrics = deps.metrics ?? createMetrics();
  if (deps.store.cache !== null && metrics.registry.getSingleMetric('consent_cache_lookups_total') === undefined) {
    registerCacheMetrics(metrics.registry, deps.store.cache);
  }
  const introspection = deps.introspection ?? true;
  const schema = buildConsentSchema({ maxRepresentations: deps.maxRepresentations });
  // The one place the policy is chosen: every decision of every request goes through this decider.
  const decider = createDecider(DEFAULT_POLICY);
  const limits = createRequestLimits({
    hideSuggestions: !introspection,
    limitIntrospection: !introspection,
    schema,
    maxRepresentations: deps.maxRepresentations,
    maxCost: deps.maxCost,
  });
  const maxResponseBytes = deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const attestationKeys = deps.attestationKeys ?? (await createAttestationKeys(await generateAttestationJwk()));
  const jwksBody = JSON.stringify(attestationKeys.jwks);
  let draining = false;
  const apollo = new ApolloServer<RequestContext>({
    ...((deps.executor ?? 'jit') === 'jit' ? { gateway: compiledExecution(schema) } : { schema }),
    formatError: (formatted, error) => formatError(formatted, error),
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    introspection,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    // startService (service.ts) owns the shutdown order (HTTP, then database); its callers own the signals.
    stopOnTerminationSignals: false,
    // Cache control is off: no field sets a cache hint, and its per-field hook costs CPU on every
    // field (BENCHMARKS.md).
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), ...limits.plugins, refuseUnservedOperations(), createObservabilityPlugin(metrics, { registered: deps.knownOperationNames ?? [] })],
  });
  await apollo.start();
  const formatError = createFormatError((error) => requestLog(deps.logger).error({ err: error }, 'unexpected error'), { hideSuggestions: !introspection });
  const feed = new ChangeFeedHub(deps.store, deps.subscriptions);
  // One request's context, over HTTP and over WebSocket alike: fresh loaders, so no request sees
  // another's cached reads.
  const contextFor = (caller: Caller): RequestContext => {
    const now = clock();
    const decisions = new DecisionTally();
    const loaders = createLoaders(deps.store, (loader, size) => metrics.loaderBatchSize.observe({ loader }, size));
    return { caller, now, decisions, consent: new ConsentService({ store: deps.store, decider, loaders, caller, now, tally: decisions, attestationKeys, feed }) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/health/live') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/health/ready') {
      if (draining) return sendJson(res, 503, { status: 'draining' });
      const ready = await deps.store.ping();
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'database unreachable' });
    }
    if (url.pathname === '/metrics' && (deps.serveMetrics ?? true)) {
      res.setHeader('content-type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
      return;
    }
    if (url.pathname === '/.well-known/jwks.json' && (req.method === 'GET' || req.method === 'HEAD')) {
      // Minutes, not hours: a rotated-in key must reach verifiers soon; retired keys stay listed.
      res.setHeader('cache-control', 'public, max-age=300');
      res.setHeader('content-type', 'application/jwk-set+json');
      res.end(jwksBody);
      return;
    }
    if (url.pathname !== '/graphql' && url.pathname !== '/') return sendJson(res, 404, { error: 'not found' });
    if (deps.landingPage !== undefined && req.method === 'GET' && !url.searchParams.has('query') && req.headers.accept?.includes('text/html')) {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(deps.landingPage);
      return;
    }

    const body = await readBody(req, maxBodyBytes);
    if (body === TOO_LARGE) return sendJson(res, 413, graphqlError(`Request body exceeds ${maxBodyBytes} bytes.`, 'BAD_USER_INPUT'));
    let parsed: unknown;
    if (req.method === 'POST') {
      try {
        parsed = body.length === 0 ? undefined : JSON.parse(body);
      } catch {
        return sendJson(res, 400, graphqlError('Request body is not valid JSON.', 'BAD_REQUEST'));
      }
    }
    if (deps.gatewaySignatureSecret !== undefined) {
      try {
        verifyGatewaySignature(deps.gatewaySignatureSecret, signedParamsOf(req.method, url.searchParams, parsed));
      } catch (error) {
        return sendJson(res, 401, graphqlError((error as Error).message, codeOf(error) ?? 'UNAUTHENTICATED'));
      }
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: parsed },
      context: async () => contextFor(await deps.verifier(req.headers.authorization)),
    });
    // The budgets refuse costly operations before they run; this is the backstop for whatever they
    // don't foresee. No partial data is sent: a field the client needs is never half there.
    if (response.body.kind === 'complete' && Buffer.byteLength(response.body.string) > maxResponseBytes) {
      requestLog(deps.logger).warn({ limit: maxResponseBytes }, 'response over the size limit refused');
      return sendJson(res, 400, graphqlError(`The response would exceed ${maxResponseBytes} bytes; ask for fewer entities, smaller pages or fewer fields.`, 'RESPONSE_TOO_LARGE'));
    }
    res.statusCode = response.status ?? 200;
    for (const [name, value] of response.headers) res.setHeader(name, value);
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };

  const httpServer = createHttpServer((req, res) => {
    void observeRequest(req, res, deps.logger, (log) =>
      handle(req, res).catch((error: unknown) => {
        // A client that hangs up mid-upload is no fault of the server's: nobody is left to answer.
        if (clientAborted(req)) {
          log.info({ err: { message: (error as Error).message } }, 'client aborted the request');
          res.destroy();
          return;
        }
        log.error({ err: error }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, graphqlError('Unexpected error.', 'INTERNAL_SERVER_ERROR'));
        else res.destroy();
      }),
    );
  });
  const unobserveDatabase = observeDatabase(deps.store.client, metrics);
  const subscriptions = serveSubscriptions({
    httpServer,
    schema,
    verifier: deps.verifier,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    formatError,
    maxPayloadBytes: maxBodyBytes,
    gatewaySignatureSecret: deps.gatewaySignatureSecret,
    paths: ['/graphql', '/'],
    contextFor,
  });

  return {
    httpServer,
    metrics,
    feed,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${address.port}/graphql`);
        });
      }),
    stop: async () => {
      draining = true;
      // New connections are refused from here on; the promise settles once the last one has ended.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      // Subscriptions never finish by themselves: they end now, and their clients resume elsewhere.
      feed.close();
      await subscriptions.close();
      // Requests still running get drainTimeoutMs to finish; then their connections are cut.
      const cutOff = setTimeout(() => httpServer.closeAllConnections(), deps.drainTimeoutMs ?? 10_000);
      await closed;
      clearTimeout(cutOff);
      unobserveDatabase();
      await apollo.stop();
    },
  };
}

const TOO_LARGE = Symbol('too large');

/**
 * Largest response sent by default: room for several times the largest legitimate answer (1000 tracks with every
 * decision, statement and signal; test/e2e/demandControl.test.ts checks it fits).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

// Reads the body up to `limit` bytes; past it, stops reading and reports TOO_LARGE.
async function readBody(req: IncomingMessage, limit: number): Promise<string | typeof TOO_LARGE> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return TOO_LARGE;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return TOO_LARGE;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// True once the client has closed the connection before sending the whole request body.
function clientAborted(req: IncomingMessage): boolean {
  return !req.complete && (req.destroyed || req.socket.destroyed);
}

function graphqlError(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
