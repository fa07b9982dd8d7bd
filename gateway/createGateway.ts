import { createRequire } from 'node:module';
import { composeServices } from '@apollo/composition';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { ValidateUserFnParams } from '@envelop/generic-auth';
import { createGatewayRuntime, type GatewayPlugin, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { createInlineSigningKeyProvider, createRemoteJwksSigningKeyProvider, useJWT } from '@graphql-mesh/plugin-jwt-auth';
import { parse } from 'graphql';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { checkTokenLifetime, DEFAULT_TOKEN_LIFETIME_LIMITS, type TokenLifetimeLimits } from '../src/auth/checkTokenLifetime.js';
import type { VerifierOptions } from '../src/auth/createTokenVerifier.js';
import { GATEWAY_SIGNATURE_EXTENSION } from '../src/auth/verifyGatewaySignature.js';
import { REQUEST_LIMITS } from '../src/limits.js';
import { useMutationBudget } from './useMutationBudget.js';
import { renderPlayground, type PlaygroundOptions } from '../src/playground/renderPlayground.js';

// The gateway and its plugins load graphql's CommonJS build (graphql 16 has no "exports" map, so
// Node resolves "main"), while a bundler or test runner may resolve `import 'graphql'` to the ESM
// build ("module"). Two GraphQLError classes then exist and Yoga's `instanceof` masking check fails
// for errors built from the ESM one. Building ours from the CommonJS class keeps them recognisable.
const { GraphQLError } = createRequire(import.meta.url)('graphql') as typeof import('graphql');
type GraphQLError = import('graphql').GraphQLError;

/** One subgraph to compose: its routing URL and its SDL (the same text it serves). */
export interface GatewaySubgraph {
  name: string;
  url: string;
  sdl: string;
}

/** Options for {@link createGateway}. */
export interface CreateGatewayOptions {
  subgraphs: GatewaySubgraph[];
  /** How bearer tokens are verified: the same key configuration as the consent subgraph (DESIGN §4). */
  auth: VerifierOptions;
  /**
   * Shared secret for Hive Gateway's HMAC signature of every upstream request (extension
   * `hmac-signature`); the consent subgraph checks it when REQUIRE_GATEWAY_SIGNATURE is on.
   * @default undefined (requests go unsigned)
   */
  hmacSecret?: string;
  /**
   * The GraphiQL page on `GET /graphql` (Accept: text/html), rendered from local assets; `false` turns it off.
   * @default false
   */
  playground?: PlaygroundOptions | false;
  /**
   * Largest demand-control cost of one client operation (the `@cost`/`@listSize` of the supergraph,
   * summed over every subgraph request it plans), refused with COST_ESTIMATED_TOO_EXPENSIVE.
   * @default REQUEST_LIMITS.maxCost, the subgraph's own budget
   */
  maxCost?: number;
  /**
   * Gateway log level.
   * @default false (silent)
   */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | false;
}

/** A Hive Gateway (a Node request listener and fetch handler) and the supergraph it serves. */
export interface Gateway {
  readonly runtime: GatewayRuntime<JwtContext>;
  readonly supergraphSdl: string;
}

/** The claims the gateway reads from a verified token. */
interface TokenPayload {
  sub?: string;
  scope?: unknown;
}

/** What useJWT adds to the gateway context once a token verifies. */
interface JwtContext {
  jwt?: { payload?: TokenPayload };
}

/**
 * Subgraph error codes that reach clients verbatim, message included: they describe the caller's
 * own request. Every other subgraph error (INTERNAL_SERVER_ERROR, DOWNSTREAM_SERVICE_ERROR for an
 * unreachable subgraph, …) becomes "Unexpected error." at the same path, so no driver message,
 * host name or URL leaks; the subgraph's name stays in `extensions.serviceName`. The subgraph's
 * GRAPHQL_VALIDATION_FAILED, COST_ESTIMATED_TOO_EXPENSIVE and RESPONSE_TOO_LARGE are its request
 * limits and budgets refusing the part of the client's operation it was sent, so the client is told
 * which limit it hit.
 */
export const CLIENT_FACING_CODES: ReadonlySet<string> = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'GRAPHQL_VALIDATION_FAILED',
  'SERVICE_UNAVAILABLE',
  'IDEMPOTENCY_KEY_REUSED',
  'COST_ESTIMATED_TOO_EXPENSIVE',
  'RESPONSE_TOO_LARGE',
  'SUBSCRIBER_TOO_SLOW',
]);

/** The gateway's own bounds on a client operation's text, depth, aliases and directives. */
export const GATEWAY_REQUEST_LIMITS = Object.freeze({
  maxTokens: { n: 4000 },
  // GraphiQL's own schema query is deeper than any operation; introspection is the gateway's to answer.
  maxDepth: { n: 12, ignoreIntrospection: true },
  maxAliases: { n: 50 },
  maxDirectives: { n: 50 },
  // Demand control (below) prices operations; armor's cost rule counts literal `first` values only.
  costLimit: { enabled: false },
  blockFieldSuggestion: { enabled: false },
});

/** Composes `subgraphs` into a supergraph SDL, throwing one error that lists every composition error. */
export function composeSupergraph(subgraphs: GatewaySubgraph[]): string {
  const result = composeServices(
    subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
  );
  if (result.errors) {
    const list = result.errors.map((e) => `  - ${e.message}`).join('\n');
    throw new Error(`Supergraph composition failed with ${result.errors.length} error(s):\n${list}`);
  }
  return result.supergraphSdl;
}

/**
 * Creates Hive Gateway for the composed `subgraphs`, enforcing `@authenticated`/`@requiresScopes`
 * from the supergraph against bearer tokens and forwarding `Authorization` to subgraphs.
 * No token: public fields resolve, protected ones are nulled with UNAUTHENTICATED (and never sent
 * to their subgraph). A token that is malformed, badly signed, expired, without `exp`, issued in
 * the future, living longer than `auth.maxTokenAge`, or with the wrong `iss`/`aud` when those are
 * configured: the whole request is refused with UNAUTHENTICATED (HTTP 401). `npm run supergraph`, docker and the tests all use this.
 */
export function createGateway(opts: CreateGatewayOptions): Gateway {
  const supergraphSdl = composeSupergraph(opts.subgraphs);
  const playground = opts.playground ?? false;
  const limits: TokenLifetimeLimits = {
    maxTokenAge: opts.auth.maxTokenAge ?? DEFAULT_TOKEN_LIFETIME_LIMITS.maxTokenAge,
    clockSkew: opts.auth.clockSkew ?? DEFAULT_TOKEN_LIFETIME_LIMITS.clockSkew,
  };

  const runtime = createGatewayRuntime<JwtContext>({
    supergraph: supergraphSdl,
    logging: opts.logLevel ?? false,
    graphiql: playground,
    // The runtime's own GraphiQL loads its scripts from unpkg; this one is self-contained.
    renderGraphiQL: renderPlayground,
    landingPage: false,
    maskedErrors: { maskError },
    // The schema's `@cost`/`@listSize` priced as the subgraph prices them (src/estimateCost.ts);
    // lists without `@listSize` count once, as the subgraph's own budget covers what it can't see.
    // It prices each subgraph request as it is sent; useMutationBudget (below) prices a mutation whole first.
    demandControl: { maxCost: opts.maxCost ?? REQUEST_LIMITS.maxCost, includeExtensionMetadata: false },
    propagateHeaders: {
      // The consent subgraph verifies the token itself (defence in depth), so it needs the original.
      fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }),
    },
    // Subgraphs with a Subscription type are subscribed to over graphql-ws at their own URL; the
    // client's token goes along as connectionParams (a WebSocket has no per-operation headers), and
    // the executor key includes it, so callers never share an upstream connection.
    transportEntries: subscriptionTransports(opts.subgraphs),
    ...(opts.hmacSecret === undefined ? {} : { hmacSignature: { secret: opts.hmacSecret, extensionName: GATEWAY_SIGNATURE_EXTENSION } }),
    // Same as `useGenericAuth(…)` from @envelop/generic-auth in `plugins` (the runtime adds it
    // itself), but typed for the gateway's context. It runs after useJWT has set `ctx.jwt`.
    genericAuth: {
      mode: 'protect-granular',
      resolveUserFn: (ctx) => ctx.jwt?.payload ?? null,
      extractScopes: scopesOf,
      validateUser: authorizeField,
      // Refuse only the protected fields, not the whole operation: the rest of the entity resolves.
      rejectUnauthenticated: false,
    },
    // The cast only bridges typings: plugin-jwt-auth's .d.ts bundles its own copy of the Logger
    // class (with #private), which TypeScript treats as unrelated to the runtime's.
    plugins: () => [
      // Parsing and validating a client's operation is the gateway's own work, before any
      // subgraph is asked: bounded here, looser than the subgraph's own limits (src/limits.ts) so
      // that what a client may send still reaches the subgraph, which refuses by its own rules.
      ...(new EnvelopArmor(GATEWAY_REQUEST_LIMITS).protect().plugins as unknown as GatewayPlugin[]),
      useMutationBudget({ maxCost: opts.maxCost ?? REQUEST_LIMITS.maxCost, maxChanges: REQUEST_LIMITS.maxChanges }),
      useJWT({
        signingKeyProviders: [
          opts.auth.kind === 'secret'
            ? createInlineSigningKeyProvider(opts.auth.secret)
            : createRemoteJwksSigningKeyProvider({ jwksUri: opts.auth.jwksUrl, cache: true, rateLimit: true }),
        ],
        tokenLookupLocations: [(input) => bearerToken(input, limits)],
        tokenVerification: {
          // jsonwebtoken checks exp/nbf with this tolerance, but neither requires exp nor bounds a
          // token's lifetime; bearerToken refuses those tokens before verification.
          clockTolerance: limits.clockSkew,
          // A shared secret means HS256 only: accepting RS256 too would invite algorithm confusion.
          algorithms: opts.auth.kind === 'secret' ? ['HS256'] : ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'],
          ...(opts.auth.issuer ? { issuer: opts.auth.issuer } : {}),
          ...(opts.auth.audience ? { audience: opts.auth.audience } : {}),
        },
        // Anonymous requests must still reach public catalog fields; a bad token is refused outright.
        reject: { missingToken: false, invalidToken: true },
        // Subgraphs get the token itself in the Authorization header and verify it; a payload copy
        // in `extensions.jwt` would be unverifiable there and only tempt someone to trust it.
        forward: { payload: false, token: false },
      }) as unknown as GatewayPlugin,
    ],
  });

  return { runtime, supergraphSdl };
}

/** The subscription transport of every subgraph that has a `Subscription` type: graphql-ws at its URL. */
function subscriptionTransports(subgraphs: readonly GatewaySubgraph[]) {
  return Object.fromEntries(
    subgraphs
      .filter(({ sdl }) => /^\s*(extend\s+)?type\s+Subscription\b/m.test(sdl))
      .map(({ name, url }) => [
        name,
        { options: { subscriptions: { kind: 'ws', location: url, options: { connectionParams: { authorization: '{context.headers.authorization}' } } } } },
      ]),
  );
}

/**
 * Reads `Authorization: Bearer <JWT>`. No header: anonymous. A header that is not a decodable JWT,
 * or a token without `exp`, issued in the future or living longer than `limits` allow, is refused
 * here with UNAUTHENTICATED (the plugin's own check answers HTTP 400 without a code). Refusing
 * before the signature is checked is safe: a refusal grants nothing, and the plugin still
 * verifies every token that passes.
 */
function bearerToken({ request }: { request: Request }, limits: TokenLifetimeLimits): { prefix: string; token: string } | undefined {
  const header = request.headers.get('authorization');
  if (header == null) return undefined;
  const token = /^Bearer +([^ ]+)$/i.exec(header.trim())?.[1];
  const payload = token === undefined ? null : decodedPayload(token);
  if (token === undefined || payload === null) {
    throw unauthenticated('The Authorization header must be "Bearer <JWT>"');
  }
  const refused = checkTokenLifetime(payload, limits, Math.floor(Date.now() / 1000));
  if (refused !== null) throw unauthenticated(`Invalid bearer token: ${refused}.`);
  return { prefix: 'Bearer', token };
}

/** The payload of `token` when it has a JSON header and a JSON-object payload; says nothing about its signature. */
function decodedPayload(token: string): { exp?: unknown; iat?: unknown } | null {
  try {
    decodeProtectedHeader(token);
    return decodeJwt(token);
  } catch {
    return null;
  }
}

/** Splits the OAuth `scope` claim on any whitespace (the plugin's default splits on single spaces). */
function scopesOf(user: TokenPayload | null | undefined): string[] {
  const scope = user?.scope;
  if (typeof scope === 'string') return scope.split(/\s+/).filter(Boolean);
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return [];
}

/**
 * Decides one field: no token on a protected field → UNAUTHENTICATED; a token lacking every
 * required scope set → FORBIDDEN (DESIGN §4). The plugin's default answers both with
 * UNAUTHORIZED_FIELD_OR_TYPE and HTTP 401, which would also turn a partial result into a 401.
 */
function authorizeField(params: ValidateUserFnParams<TokenPayload>): GraphQLError | void {
  const coordinate = `${params.parentType.name}.${params.field.name}`;
  // Each requirement is a list of alternatives (sets); type- and field-level ones must all hold.
  const requirements: Array<{ sets: string[][]; held: string[]; kind: string }> = [
    { sets: params.typeScopes ?? [], held: params.userScopes, kind: 'scope' },
    { sets: params.fieldScopes ?? [], held: params.userScopes, kind: 'scope' },
    { sets: params.typePolicies ?? [], held: params.userPolicies, kind: 'policy' },
    { sets: params.fieldPolicies ?? [], held: params.userPolicies, kind: 'policy' },
  ].filter((r) => r.sets.length > 0);
  const needsUser = Boolean(params.typeAuthArgs || params.fieldAuthArgs) || requirements.length > 0;
  if (!needsUser) return;

  const refusal = refusalOf(params, coordinate, requirements);
  // A refused subscription field can't be nulled and the rest run (an operation without its root
  // field fails deep in the executor): the whole subscription is refused with this error instead.
  if (refusal !== undefined && params.parentType.name === 'Subscription') throw refusal;
  return refusal;
}

function refusalOf(params: ValidateUserFnParams<TokenPayload>, coordinate: string, requirements: Array<{ sets: string[][]; held: string[]; kind: string }>): GraphQLError | undefined {
  if (params.user == null) {
    return fieldError(params, 'UNAUTHENTICATED', `${coordinate} requires a valid bearer token`);
  }
  for (const { sets, held, kind } of requirements) {
    if (!sets.some((set) => set.every((s) => held.includes(s)))) {
      const wanted = sets.map((set) => `"${set.join(' ')}"`).join(' or ');
      return fieldError(params, 'FORBIDDEN', `${coordinate} requires ${kind} ${wanted}`);
    }
  }
  return undefined;
}

/** An error at the refused field; the plugin removes the field from the operation and nulls it. */
function fieldError(params: ValidateUserFnParams<TokenPayload>, code: string, message: string): GraphQLError {
  return new GraphQLError(message, { nodes: [params.fieldNode], path: params.path, extensions: { code } });
}

/** A request-level authentication failure (HTTP 401). */
function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/**
 * The gateway's one masking rule. Subgraph errors (they carry `serviceName`) pass only with a
 * {@link CLIENT_FACING_CODES} code; the JWT plugin's code-less 401s get UNAUTHENTICATED; other
 * GraphQL errors raised by the gateway itself pass; anything else becomes "Unexpected error.".
 */
function maskError(error: unknown, message: string): Error {
  if (!(error instanceof GraphQLError) || (error.originalError && !(error.originalError instanceof GraphQLError))) {
    return unexpected(error, message);
  }
  const { code, serviceName, http } = error.extensions as { code?: unknown; serviceName?: unknown; http?: { status?: number } };
  if (serviceName !== undefined) {
    return typeof code === 'string' && CLIENT_FACING_CODES.has(code) ? error : unexpected(error, message);
  }
  if (code === undefined && http?.status === 401) {
    return new GraphQLError(error.message, { ...error, extensions: { ...error.extensions, code: 'UNAUTHENTICATED' } });
  }
  return error;
}

/** "Unexpected error." at the failed error's place, keeping only which subgraph it came from. */
function unexpected(error: unknown, message: string): GraphQLError {
  if (!(error instanceof GraphQLError)) {
    return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }
  const { serviceName } = error.extensions;
  return new GraphQLError(message, {
    nodes: error.nodes,
    path: error.path,
    extensions: serviceName === undefined ? { code: 'INTERNAL_SERVER_ERROR' } : { code: 'INTERNAL_SERVER_ERROR', serviceName },
  });
}
